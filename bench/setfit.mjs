#!/usr/bin/env node
// fit_classifier with SetFit's body stage against the frozen-body head (the reference), measured in the
// same run on the same data: the generated few-shot task (4 topics, BENCH_TRAIN_PER_CLASS examples each to
// learn from, twice as many held out; dist/src/testmodels/fewshot-task.js) and the generated BERT embedder
// (tiny-bert-embedder, ONNX). Prints the held-out accuracy of both, the accuracy gain, the wall-clock time
// of each fit_classifier statement (read by node-postgres, best of BENCH_ROUNDS) and the time ratio.
//
//   npx tsc -p tsconfig.json && node bench/setfit.mjs
//
// Environment: BENCH_TRAIN_PER_CLASS (default 8), BENCH_ITERATIONS (SetFit's num_iterations, default 20),
// BENCH_ROUNDS (default 2), BENCH_LR (body_learning_rate, default 0.01: the generated model is random,
// a pretrained one takes SetFit's 2e-5).
process.env.UV_THREADPOOL_SIZE ??= '16';

import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { fail, importDistServer, onCleanup, positiveInt, root, runBench } from './common.mjs';

const PER_CLASS = positiveInt('BENCH_TRAIN_PER_CLASS', 8);
const ITERATIONS = positiveInt('BENCH_ITERATIONS', 20);
const ROUNDS = positiveInt('BENCH_ROUNDS', 2);
const LR = Number(process.env.BENCH_LR ?? 0.01);

async function main() {
  const { startServer } = await importDistServer();
  const { bertEmbedder, fewShotTask, writeModelFiles } = await import(pathToFileURL(join(root, 'dist', 'src', 'testmodels', 'index.js')).href);
  const pg = (await import('pg')).default;
  const dir = mkdtempSync(join(tmpdir(), 'aiduck-bench-setfit-'));
  onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  await writeModelFiles(join(dir, 'embedder'), bertEmbedder());
  const server = await startServer({ host: '127.0.0.1', port: 0, dataDir: join(dir, 'data'), storage: 'file', user: 'aiduck', importDirs: [dir], maxConnections: 4, maxMessageBytes: 1 << 26 });
  onCleanup(() => server.close());
  const c = new pg.Client({ host: '127.0.0.1', port: server.port, user: 'aiduck', database: 'aiduck' });
  await c.connect();
  onCleanup(() => c.end());
  await c.query(`SELECT * FROM register_model('embedder', '${join(dir, 'embedder')}')`);
  const rows = fewShotTask(PER_CLASS * 3);
  await c.query(`CREATE TABLE topics AS SELECT * FROM (VALUES ${rows.map((r) => `('${r.text}', '${r.label}')`).join(', ')}) t(body, topic)`);
  const before = loadavg()[0];

  const fit = async (name, extra) => {
    let best = Infinity;
    let row = null;
    for (let round = 0; round < ROUNDS; round++) {
      const t0 = performance.now();
      row = (await c.query(`SELECT accuracy, train_rows, test_rows, fine_tuned_body FROM fit_classifier('${name}', 'topics', text => 'body', label => 'topic',
        embedding_model => 'embedder', test_fraction => 0.667, ${extra})`)).rows[0];
      best = Math.min(best, (performance.now() - t0) / 1000);
    }
    return { ...row, seconds: best };
  };
  const frozen = await fit('frozen', 'fine_tune_body => false');
  const tuned = await fit('tuned', `fine_tune_body => true, num_iterations => ${ITERATIONS}, body_learning_rate => ${LR}, batch_size => 16, seed => 42`);
  if (!tuned.fine_tuned_body || frozen.fine_tuned_body) fail('fit_classifier did not train the way it was asked');

  console.log(`fit_classifier on ${frozen.train_rows} labelled texts (4 topics), scored on ${frozen.test_rows} held out; load average ${before.toFixed(2)} → ${loadavg()[0].toFixed(2)}`);
  console.log('| head fitted on | held-out accuracy | fit_classifier time (s) |');
  console.log('|---|---|---|');
  console.log(`| frozen body (reference) | ${frozen.accuracy.toFixed(4)} | ${frozen.seconds.toFixed(2)} |`);
  console.log(`| fine-tuned body (SetFit, num_iterations ${ITERATIONS}) | ${tuned.accuracy.toFixed(4)} | ${tuned.seconds.toFixed(2)} |`);
  console.log(`accuracy gain: +${(tuned.accuracy - frozen.accuracy).toFixed(4)}; time ratio fine-tuned / frozen: ${(tuned.seconds / frozen.seconds).toFixed(1)}`);
}

await runBench(main, 'the SetFit benchmark');
