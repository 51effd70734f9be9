// The OpenAI-compatible provider against a loopback endpoint that answers every request after a fixed
// latency: achieved rows/s divided by the ideal (concurrency / latency), and by a bare fetch loop at the
// same concurrency measured in the same run — for the provider alone, and end to end through SQL
// (`CREATE TABLE ... AS SELECT ai_query(...)` sent with node-postgres to an aiduck server).
// Run `npx tsc -p tsconfig.json` first (it imports dist/).
//
// Environment: BENCH_ROWS (default 2000), BENCH_LATENCY_MS (default 50), BENCH_CONCURRENCY (default "8,32").
import { fork } from 'node:child_process';
import { createServer } from 'node:http';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';

const LATENCY_MS = Number(process.env.BENCH_LATENCY_MS ?? 50);

if (process.argv[2] === '--server') {
  // The endpoint, in its own process so that the client's work does not delay its timers.
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      const content = body.messages?.at(-1)?.content ?? '';
      setTimeout(() => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({
          id: 'x', object: 'chat.completion', created: 0, model: body.model,
          choices: [{ index: 0, message: { role: 'assistant', content: `echo: ${content}` }, finish_reason: 'stop' }],
        }));
      }, LATENCY_MS);
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
  process.on('disconnect', () => process.exit(0));
} else {
  const { createOpenAIProvider } = await import('../dist/src/runtime/providers/openai.js');
  const ROWS = Number(process.env.BENCH_ROWS ?? 2000);
  const CONCURRENCY = (process.env.BENCH_CONCURRENCY ?? '8,32').split(',').map(Number);

  const child = fork(fileURLToPath(import.meta.url), ['--server'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const { port } = await new Promise((resolve, reject) => {
    child.once('message', resolve);
    child.once('exit', (code) => reject(new Error(`the endpoint process exited with code ${code}`)));
  });
  const base = `http://127.0.0.1:${port}/v1`;
  const inputs = Array.from({ length: ROWS }, (_, i) => `review number ${i}: the product arrived on time and works`);

  /** The same requests without the provider: `concurrency` loops of fetch + JSON parse. */
  async function bareFetch(concurrency, count = inputs.length) {
    let next = 0;
    const lane = async () => {
      for (let i = next++; i < count; i = next++) {
        const res = await fetch(`${base}/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'bench', messages: [{ role: 'user', content: inputs[i] }] }),
        });
        const json = await res.json();
        if (typeof json.choices[0].message.content !== 'string') throw new Error('bad answer');
      }
    };
    await Promise.all(Array.from({ length: concurrency }, lane));
  }

  async function viaProvider(concurrency) {
    const spec = { name: 'bench', version: 1, task: 'chat', provider: 'openai', location: base, endpointModel: 'bench' };
    const provider = createOpenAIProvider(spec, { maxConcurrency: concurrency });
    try {
      const rows = await provider.generate(inputs, { parameters: { temperature: 0 } });
      const failed = rows.filter((r) => !r.ok);
      if (failed.length > 0) throw new Error(`${failed.length} rows failed, e.g. ${failed[0].error}`);
    } finally {
      await provider.close();
    }
  }

  /** The same rows through SQL: a fresh model version per run, so nothing comes from the cache. */
  const { startServer } = await import('../dist/src/server/server.js');
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const pg = (await import('pg')).default;
  const dataDir = mkdtempSync(join(tmpdir(), 'aiduck-bench-openai-'));
  const aiduck = await startServer({ host: '127.0.0.1', port: 0, dataDir, storage: 'file', user: 'aiduck', importDirs: [],
    maxConnections: 10, maxMessageBytes: 64 * 1024 * 1024 });
  const sql = new pg.Client({ host: '127.0.0.1', port: aiduck.port, user: 'aiduck', database: 'aiduck' });
  await sql.connect();
  await sql.query('CREATE TABLE bench_inputs (id INTEGER, body VARCHAR)');
  await sql.query(`INSERT INTO bench_inputs SELECT i, 'review number ' || i || ': the product arrived on time and works' FROM range(${inputs.length}) t(i)`);
  let run = 0;
  async function viaSql(concurrency) {
    const name = `bench_llm_${++run}`;
    await sql.query(`SELECT * FROM register_model('${name}', 'openai:${base}', endpoint_model => 'bench', options => MAP {'max_concurrency': '${concurrency}'})`);
    await sql.query(`CREATE TABLE out_${run} AS SELECT id, ai_query('${name}', body) AS answer FROM bench_inputs`);
    const r = await sql.query(`SELECT count(*) FILTER (WHERE answer LIKE 'echo: %')::INT AS n FROM out_${run}`);
    if (r.rows[0].n !== inputs.length) throw new Error(`only ${r.rows[0].n} of ${inputs.length} rows answered`);
  }

  async function rate(fn, concurrency) {
    const t0 = performance.now();
    await fn(concurrency);
    return inputs.length / ((performance.now() - t0) / 1000);
  }

  try {
    const load0 = loadavg()[0].toFixed(1);
    await bareFetch(8, 200); // warm-up: JIT, connection pool
    const lines = [];
    for (const c of CONCURRENCY) {
      const ideal = c / (LATENCY_MS / 1000);
      const bare = await rate(bareFetch, c);
      const provider = await rate(viaProvider, c);
      const viaSqlRate = await rate(viaSql, c);
      lines.push([
        `concurrency ${c}`.padEnd(16),
        `${ideal.toFixed(0)} rows/s`.padStart(14),
        `${(bare / ideal).toFixed(3)}`.padStart(16),
        `${(provider / ideal).toFixed(3)}`.padStart(17),
        `${(provider / bare).toFixed(3)}`.padStart(16),
        `${(viaSqlRate / ideal).toFixed(3)}`.padStart(12),
        (provider / ideal >= 0.9 && viaSqlRate / ideal >= 0.9 ? 'met' : 'not met').padStart(13),
      ].join('  '));
    }
    console.log(`${ROWS} chat rows, endpoint latency ${LATENCY_MS} ms, Node ${process.version}, load average ${load0} before and ${loadavg()[0].toFixed(1)} after`);
    console.log(['measurement'.padEnd(16), 'ideal'.padStart(14), 'bare fetch/ideal'.padStart(16), 'provider/ideal'.padStart(17), 'provider/bare'.padStart(16), 'SQL/ideal'.padStart(12), 'goal >= 0.9'.padStart(13)].join('  '));
    for (const line of lines) console.log(line);
  } finally {
    await sql.end();
    await aiduck.close();
    rmSync(dataDir, { recursive: true, force: true });
    child.disconnect();
  }
}
