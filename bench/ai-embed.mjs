#!/usr/bin/env node
// ai_embed through aiduck's wire server against two references measured in the same run, on the
// same ONNX model and the same texts (BENCH_ROWS of them, default 20,000):
//   (a) the model run directly with onnxruntime-node: the model's own tokenizer (transformers.js
//       AutoTokenizer, padding + truncation) on length-sorted batches of 64 and of 256 texts,
//       InferenceSession.run, mean pooling with the attention mask and L2 normalisation in JS;
//       the faster batch size is the reference. Goal: aiduck / direct >= 0.9.
//   (b) a naive loop: one transformers.js pipeline('feature-extraction') call per text, pooling
//       'mean', normalize true. Goal: aiduck / naive >= 5.
// aiduck is measured as `SELECT ai_embed(...) FROM texts` received by node-postgres, and as
// `CREATE TABLE e AS SELECT id, ai_embed(...) FROM texts` (no vectors to the client). aiduck keeps
// results by (model version, input), so every timed aiduck run registers a new version of the model
// first; the SELECT repeated on the same version (served from that cache) is reported as a third
// figure. A correctness check compares aiduck's vectors with the direct ones (cosine on a sample).
//
//   npx tsc -p tsconfig.json && node bench/ai-embed.mjs [--model <folder>]
//
// Without --model it writes the project's generated BERT encoder (tiny-bert-embedder, from
// dist/src/testmodels) to a temporary directory. --model takes a Hugging Face folder with
// config.json, tokenizer files and onnx/model.onnx (e.g. all-MiniLM-L6-v2 exported to ONNX).
// Environment: BENCH_ROWS (default 20000), BENCH_ROUNDS (timed rounds, best of; default 3),
// BENCH_NAIVE_SECONDS (the naive loop stops after this long; default 8), AIDUCK_MODEL_THREADS
// (onnxruntime intra-op threads; used for aiduck and both references alike, default: onnxruntime's).

// Same as bin/aiduck.js: DuckDB waits on libuv's thread pool, so `aiduck serve` widens it. It must be
// set before anything touches the pool, hence before the server is imported.
process.env.UV_THREADPOOL_SIZE ??= '16';

import { existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { fail, importDistServer, onCleanup, positiveInt, root, runBench } from './common.mjs';

const ROWS = positiveInt('BENCH_ROWS', 20_000);
const ROUNDS = positiveInt('BENCH_ROUNDS', 3);
const NAIVE_SECONDS = positiveInt('BENCH_NAIVE_SECONDS', 8);
const THREADS = process.env.AIDUCK_MODEL_THREADS ? positiveInt('AIDUCK_MODEL_THREADS', 0) : 0;
const BATCHES = [64, 256];
const SAMPLE = 256;
const MODEL = 'bench_embedder';


const args = (() => {
  try {
    return parseArgs({ options: { model: { type: 'string' }, size: { type: 'string' }, help: { type: 'boolean', short: 'h' } } }).values;
  } catch (e) {
    console.error(`${e.message}\nusage: node bench/ai-embed.mjs [--size tiny|minilm] [--model <Hugging Face folder with onnx/model.onnx>]`);
    process.exit(2);
  }
})();
if (args.help) {
  console.log('usage: node bench/ai-embed.mjs [--size tiny|minilm] [--model <Hugging Face folder with onnx/model.onnx>]\nsee bench/README.md');
  process.exit(0);
}

// ---- the texts ---------------------------------------------------------------------------------

// Sentences of 3 to 48 words (most short, a few long, as in a table of reviews or tickets), from a
// seeded generator so every run embeds the same texts. Each starts with its number, so all differ.
const WORDS = `the a of and to in is it for on with as was at by from this that not but very just
customer order delivery package arrived late early refund support ticket email phone screen update
version release feature request report data query table column row model search document question
answer summary quick slow great poor price cost quality review rating product item service team match
weather rain coffee dinner hotel flight city river lake duck music song band movie doctor bank market
works broken helpful friendly again never always would recommend store app login password error page`
  .split(/\s+/);

function makeTexts(n) {
  let state = 0x2545f491;
  const next = () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
  const texts = [];
  for (let i = 0; i < n; i++) {
    const words = 3 + Math.floor(next() ** 2 * 46);
    const parts = [`item ${i + 1}:`];
    for (let w = 0; w < words; w++) parts.push(WORDS[Math.floor(next() * WORDS.length)]);
    texts.push(parts.join(' '));
  }
  return texts;
}

// ---- the references ----------------------------------------------------------------------------

/** transformers.js and onnxruntime-node as the project has them (the versions aiduck runs on). */
async function loadLibraries() {
  const transformers = await import('@huggingface/transformers');
  transformers.env.allowRemoteModels = false;
  transformers.env.allowLocalModels = true;
  const ort = await import('onnxruntime-node');
  return { transformers, ort: ort.default ?? ort };
}

const sessionOptions = () => (THREADS > 0 ? { intraOpNumThreads: THREADS, interOpNumThreads: 1 } : {});

/** The direct reference: tokenizer + InferenceSession, batches sorted by length, pooling in JS. */
async function directEmbedder({ transformers, ort }, folder) {
  const onnxFile = join(folder, 'onnx', 'model.onnx');
  const tokenizer = await transformers.AutoTokenizer.from_pretrained(folder);
  const session = await ort.InferenceSession.create(onnxFile, { executionProviders: ['cpu'], ...sessionOptions() });
  const outputName = ['last_hidden_state', 'logits', 'token_embeddings'].find((n) => session.outputNames.includes(n)) ?? session.outputNames[0];

  async function batch(texts) {
    const enc = tokenizer(texts, { padding: true, truncation: true });
    const [rows, seq] = enc.input_ids.dims;
    const feeds = {};
    for (const name of session.inputNames) {
      const t = enc[name];
      feeds[name] = t ? new ort.Tensor('int64', t.data, t.dims) : new ort.Tensor('int64', new BigInt64Array(rows * seq), [rows, seq]);
    }
    const out = (await session.run(feeds))[outputName];
    const hidden = out.data;
    const dim = out.dims[2];
    const mask = enc.attention_mask.data;
    const vectors = [];
    for (let r = 0; r < rows; r++) {
      const v = new Float32Array(dim);
      const sums = new Float64Array(dim);
      let count = 0;
      for (let s = 0; s < seq; s++) {
        if (mask[r * seq + s] === 0n) continue;
        count++;
        const base = (r * seq + s) * dim;
        for (let d = 0; d < dim; d++) sums[d] += hidden[base + d];
      }
      let norm = 0;
      for (let d = 0; d < dim; d++) norm += (sums[d] / count) ** 2;
      norm = Math.sqrt(norm) || 1;
      for (let d = 0; d < dim; d++) v[d] = sums[d] / count / norm;
      vectors.push(v);
    }
    return vectors;
  }

  /** Embeds all texts in length-sorted batches; returns the vectors in input order. */
  async function embedAll(texts, size) {
    const order = texts.map((_, i) => i).sort((a, b) => texts[a].length - texts[b].length);
    const vectors = new Array(texts.length);
    for (let start = 0; start < order.length; start += size) {
      const idx = order.slice(start, start + size);
      const got = await batch(idx.map((i) => texts[i]));
      idx.forEach((i, j) => (vectors[i] = got[j]));
    }
    return vectors;
  }

  return { embedAll, release: () => session.release() };
}

/** The naive reference: one pipeline call per text, until all are done or the time is up. */
async function naiveLoop({ transformers }, folder, texts) {
  const pipe = await transformers.pipeline('feature-extraction', folder, { dtype: 'fp32', device: 'cpu', session_options: sessionOptions() });
  try {
    await pipe(texts[0], { pooling: 'mean', normalize: true }); // warm-up
    const vectors = [];
    const started = performance.now();
    const deadline = started + NAIVE_SECONDS * 1000;
    while (vectors.length < texts.length && performance.now() < deadline) {
      const t = await pipe(texts[vectors.length], { pooling: 'mean', normalize: true });
      vectors.push(t.data.slice(0, t.dims.at(-1)));
    }
    return { rowsPerSecond: vectors.length / ((performance.now() - started) / 1000), vectors };
  } finally {
    await pipe.dispose();
  }
}

// ---- aiduck ------------------------------------------------------------------------------------

async function startAiduck(dataDir, importDirs) {
  const { startServer } = await importDistServer();
  return startServer({
    host: '127.0.0.1',
    port: 0,
    dataDir,
    storage: 'file',
    user: 'aiduck',
    importDirs,
    maxConnections: 20,
    maxMessageBytes: 64 * 1024 * 1024,
    threads: 2,
  });
}

const literal = (s) => `'${String(s).replace(/'/g, "''")}'`;

/** Registers a new version of the model (so nothing is cached for it) and loads it with one call. */
async function freshVersion(client, folder) {
  const r = await client.query(`SELECT version FROM register_model(${literal(MODEL)}, ${literal(folder)}, task => 'embedding')`);
  const ref = `${MODEL}/${r.rows[0].version}`;
  // Loads the model into the runtime, outside the timing (the direct reference's session is loaded
  // before its timing too). The text is not one of the benchmark's.
  await client.query(`SELECT ai_embed(${literal(ref)}, 'warm-up text') AS v`);
  return ref;
}

async function timed(fn) {
  const started = performance.now();
  const value = await fn();
  return { seconds: (performance.now() - started) / 1000, value };
}

/**
 * Runs a query and also notes when its RowDescription arrived. aiduck sends it once the statement
 * starts, which is after the prefetch pass (the model work), so it splits the time in two.
 */
async function timedQuery(client, sql) {
  let described = null;
  const onDescription = () => (described ??= performance.now());
  client.connection.on('rowDescription', onDescription);
  try {
    const started = performance.now();
    const value = await client.query(sql);
    const ended = performance.now();
    return { seconds: (ended - started) / 1000, firstRowSeconds: described === null ? null : (described - started) / 1000, value };
  } finally {
    client.connection.off('rowDescription', onDescription);
  }
}

// ---- report ------------------------------------------------------------------------------------

const cosine = (a, b) => {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return dot / Math.sqrt(na * nb);
};

function printTable(header, rows) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(line(r));
}

const fmtRate = (v) => `${v.toFixed(0)} rows/s`;
const best = (xs) => Math.max(...xs);

// ---- main --------------------------------------------------------------------------------------

async function main() {
  const work = mkdtempSync(join(tmpdir(), 'aiduck-bench-embed-'));
  onCleanup(() => rmSync(work, { recursive: true, force: true }));
  const inputDir = join(work, 'input');
  mkdirSync(inputDir);

  let folder;
  if (args.model) {
    if (!existsSync(args.model)) fail(`--model ${args.model}: no such folder`);
    folder = realpathSync(resolve(args.model));
  } else {
    const testmodels = join(root, 'dist', 'src', 'testmodels', 'index.js');
    if (!existsSync(testmodels)) fail('dist/ is missing: build first with `npx tsc -p tsconfig.json`');
    const { writeTestModels, bertEmbedder, writeModelFiles, TINY_BERT } = await import(pathToFileURL(testmodels).href);
    const modelsDir = join(work, 'models');
    if (args.size === 'minilm') {
      // The generated encoder at the size of all-MiniLM-L6-v2 (384 wide, 6 layers, 12 heads): a
      // realistic cost per row, still with no download.
      folder = join(modelsDir, 'minilm-size-embedder');
      await writeModelFiles(folder, bertEmbedder({ ...TINY_BERT, hidden: 384, layers: 6, heads: 12, intermediate: 1536 }));
    } else {
      if (args.size !== undefined && args.size !== 'tiny') fail(`--size ${args.size}: use tiny (default) or minilm`);
      await writeTestModels(modelsDir);
      folder = join(modelsDir, 'tiny-bert-embedder');
    }
  }

  for (const file of ['config.json', 'tokenizer.json', join('onnx', 'model.onnx')]) {
    if (!existsSync(join(folder, file))) fail(`${join(folder, file)} is missing: the model folder needs config.json, tokenizer.json and onnx/model.onnx (what transformers.js loads as fp32)`);
  }
  const libs = await loadLibraries();
  const pg = (await import('pg')).default;
  const { version: duckdbVersion } = await import('@duckdb/node-api');

  const server = await startAiduck(join(work, 'aiduck'), [dirname(folder), inputDir]);
  onCleanup(() => server.close());
  const client = new pg.Client({ host: '127.0.0.1', port: server.port, user: 'aiduck', database: 'aiduck' });
  client.on('error', () => undefined);
  client.on('notice', () => undefined); // progress notices of the long statements
  await client.connect();
  onCleanup(() => client.end().catch(() => undefined));

  // The texts go in through a CSV file and come back out of the table: both references embed exactly
  // what aiduck reads.
  const csv = join(inputDir, 'texts.csv');
  writeFileSync(csv, 'id,body\n' + makeTexts(ROWS).map((t, i) => `${i + 1},"${t}"`).join('\n') + '\n');
  await client.query(`CREATE TABLE texts AS SELECT * FROM read_csv(${literal(csv)}, header = true, columns = {'id': 'INTEGER', 'body': 'VARCHAR'})`);
  const texts = (await client.query('SELECT body FROM texts ORDER BY id')).rows.map((r) => r.body);
  if (texts.length !== ROWS) fail(`texts holds ${texts.length} rows, expected ${ROWS}`);

  const direct = await directEmbedder(libs, folder);
  onCleanup(() => direct.release());
  await direct.embedAll(texts.slice(0, 512), 64); // warm-up

  const modelName = args.model ? folder : 'tiny-bert-embedder (generated, dist/src/testmodels)';
  console.log(`ai_embed: aiduck against onnxruntime-node direct and a per-row transformers.js loop — ${cpus().length} cores, Node ${process.version}, DuckDB ${duckdbVersion()}`);
  console.log(`model ${modelName}; ${ROWS.toLocaleString('en')} texts of 3-48 words; onnxruntime intra-op threads: ` +
    (THREADS > 0 ? `${THREADS} (AIDUCK_MODEL_THREADS, the references use the same)` : 'onnxruntime\'s default in aiduck and in both references (AIDUCK_MODEL_THREADS unset)'));
  console.log(`best of ${ROUNDS} rounds for every figure; ${new Date().toISOString()}`);
  const load = loadavg()[0];
  console.log(`load average ${load.toFixed(2)} before the run${load > cpus().length / 2 ? ': other processes are busy on this machine, expect noisy figures' : ''}\n`);

  const results = { direct: Object.fromEntries(BATCHES.map((b) => [b, []])), select: [], selectSplit: [], ctas: [], cached: [], stored: [] };
  let directVectors = null;
  for (let round = 1; round <= ROUNDS; round++) {
    process.stderr.write(`round ${round}/${ROUNDS}: direct`);
    for (const size of BATCHES) {
      const { seconds, value } = await timed(() => direct.embedAll(texts, size));
      results.direct[size].push(ROWS / seconds);
      directVectors = value;
    }

    process.stderr.write(', SELECT');
    let ref = await freshVersion(client, folder);
    const select = await timedQuery(client, `SELECT ai_embed(${literal(ref)}, body) AS v FROM texts`);
    if (select.value.rows.length !== ROWS) fail(`SELECT ai_embed returned ${select.value.rows.length} rows, expected ${ROWS}`);
    results.select.push(ROWS / select.seconds);
    if (select.firstRowSeconds !== null) results.selectSplit.push([select.firstRowSeconds, select.seconds - select.firstRowSeconds]);
    const cached = await timed(() => client.query(`SELECT ai_embed(${literal(ref)}, body) AS v FROM texts`));
    results.cached.push(ROWS / cached.seconds);

    process.stderr.write(', CREATE TABLE AS');
    ref = await freshVersion(client, folder);
    const ctas = await timed(() => client.query(`CREATE OR REPLACE TABLE e AS SELECT id, ai_embed(${literal(ref)}, body) AS v FROM texts`));
    results.ctas.push(ROWS / ctas.seconds);
    const stored = await timed(() => client.query('SELECT v FROM e'));
    results.stored.push(ROWS / stored.seconds);
    process.stderr.write('\n');
  }

  process.stderr.write(`naive per-row loop (up to ${NAIVE_SECONDS} s)...`);
  const naive = await naiveLoop(libs, folder, texts);
  process.stderr.write(` ${naive.vectors.length} rows\n\n`);

  // Correctness: aiduck's stored vectors against the direct ones on an evenly spread sample, and the
  // naive pipeline's (the rows it reached) against the direct ones, which checks the reference's pooling.
  const ids = Array.from({ length: Math.min(SAMPLE, ROWS) }, (_, i) => 1 + Math.floor((i * ROWS) / Math.min(SAMPLE, ROWS)));
  const sample = await client.query(`SELECT id, v FROM e WHERE id IN (${ids.join(',')}) ORDER BY id`);
  if (sample.rows.length !== ids.length) fail(`the sample query returned ${sample.rows.length} rows, expected ${ids.length}`);
  const aiduckCos = Math.min(...sample.rows.map((r) => cosine(r.v.map(Number), directVectors[r.id - 1])));
  const naiveCos = Math.min(...naive.vectors.slice(0, SAMPLE).map((v, i) => cosine(v, directVectors[i])));
  const dims = directVectors[0].length;
  if (sample.rows[0].v.length !== dims) fail(`aiduck's vectors have ${sample.rows[0].v.length} dimensions, the direct ones ${dims}`);

  const directBest = Math.max(...BATCHES.map((b) => best(results.direct[b])));
  const bestBatch = BATCHES.find((b) => best(results.direct[b]) === directBest);
  const selectBest = best(results.select);
  const ctasBest = best(results.ctas);
  const cachedBest = best(results.cached);
  const storedBest = best(results.stored);
  const verdict = (ok) => (ok ? 'met' : 'not met');

  printTable(['measurement', 'rate', '(a) /direct', 'goal >= 0.9', '(b) /naive', 'goal >= 5'], [
    ['aiduck SELECT ai_embed(...) FROM texts', fmtRate(selectBest), (selectBest / directBest).toFixed(2), verdict(selectBest / directBest >= 0.9),
      (selectBest / naive.rowsPerSecond).toFixed(1), verdict(selectBest / naive.rowsPerSecond >= 5)],
    ['aiduck CREATE TABLE e AS SELECT ai_embed', fmtRate(ctasBest), (ctasBest / directBest).toFixed(2), verdict(ctasBest / directBest >= 0.9),
      (ctasBest / naive.rowsPerSecond).toFixed(1), verdict(ctasBest / naive.rowsPerSecond >= 5)],
  ]);
  console.log('\nreferences and context:');
  printTable(['figure', 'rate', 'note'], [
    ...BATCHES.map((b) => [`(a) onnxruntime direct, batches of ${b}`, fmtRate(best(results.direct[b])), b === bestBatch ? 'the reference for (a)' : '']),
    ['(b) naive pipeline call per row', fmtRate(naive.rowsPerSecond), `${naive.vectors.length} rows in ${NAIVE_SECONDS} s at most`],
    ['(a)/(b) direct / naive', `x${(directBest / naive.rowsPerSecond).toFixed(1)}`, 'what batching alone gains over the naive loop on this model'],
    ['aiduck SELECT re-run from cache', fmtRate(cachedBest), `speedup x${(cachedBest / selectBest).toFixed(1)} over the fresh SELECT`],
    ['aiduck SELECT v FROM e (stored vectors)', fmtRate(storedBest), 'no model: sending the vectors to node-postgres'],
  ]);
  if (results.selectSplit.length) {
    const [model, rows] = results.selectSplit[results.select.indexOf(selectBest)] ?? results.selectSplit[0];
    console.log(`\nfastest fresh SELECT: ${(model + rows).toFixed(2)} s = ${model.toFixed(2)} s until the first row (the prefetch pass: tokenizing, ` +
      `running the model, pooling, caching) + ${rows.toFixed(2)} s for the rows (the statement reading the prefetched vectors, text encoding, transfer, node-postgres parsing)`);
  }
  console.log(`\ncorrectness: ${dims}-dim vectors; min cosine aiduck vs direct over ${sample.rows.length} sampled rows ${aiduckCos.toFixed(6)} ` +
    `(${aiduckCos > 0.999 ? 'ok' : 'FAILED'}, > 0.999), naive pipeline vs direct over ${Math.min(SAMPLE, naive.vectors.length)} rows ${naiveCos.toFixed(6)}`);
  console.log(`(load average ${loadavg()[0].toFixed(2)} after the run)`);
  if (!(aiduckCos > 0.999)) process.exitCode = 1;

  const resultsDir = join(root, 'bench', 'results');
  mkdirSync(resultsDir, { recursive: true });
  const file = join(resultsDir, `ai-embed-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify({
    date: new Date().toISOString(), loadavg: loadavg()[0], cores: cpus().length, node: process.version, duckdb: duckdbVersion(),
    model: modelName, rows: ROWS, rounds: ROUNDS, threads: THREADS || 'default', dims,
    rowsPerSecond: { direct: results.direct, naive: naive.rowsPerSecond, select: results.select, ctas: results.ctas, selectSplitSeconds: results.selectSplit, cached: results.cached, stored: results.stored },
    ratios: { selectVsDirect: selectBest / directBest, ctasVsDirect: ctasBest / directBest, selectVsNaive: selectBest / naive.rowsPerSecond, ctasVsNaive: ctasBest / naive.rowsPerSecond },
    minCosine: { aiduckVsDirect: aiduckCos, naiveVsDirect: naiveCos },
  }, null, 2));
  console.log(`(saved to ${relative(process.cwd(), file)})`);
}

await runBench(main, 'the server');
