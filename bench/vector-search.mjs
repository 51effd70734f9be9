// Exact top-10 vector search over 1,000,000 384-dimensional vectors through aiduck (vector_search and
// the plain ORDER BY array_cosine_similarity form), divided by the time DuckDB takes to read the same
// vectors once (a memory-bandwidth floor measured in the same run). Goal: ≤ 2. Then 8 searches at once,
// one per row of a query (FROM q, LATERAL vector_search(..., q.embedding, ...)), against 8 single searches
// run one after another. Goal: ≤ 1.
// Run `npx tsc -p tsconfig.json` first (it imports dist/). Environment: BENCH_VECTORS (default 1000000),
// BENCH_ROUNDS (default 5, the median is reported).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

const { startServer } = await import('../dist/src/server/server.js');
const N = Number(process.env.BENCH_VECTORS ?? 1_000_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const dataDir = mkdtempSync(join(tmpdir(), 'aiduck-bench-search-'));
const server = await startServer({ host: '127.0.0.1', port: 0, dataDir, storage: 'file', user: 'aiduck', importDirs: [],
  maxConnections: 4, maxMessageBytes: 64 * 1024 * 1024 });
const c = new pg.Client({ host: '127.0.0.1', port: server.port, user: 'aiduck', database: 'aiduck' });
await c.connect();

async function median(sql) {
  const times = [];
  for (let i = 0; i < ROUNDS; i++) {
    const t0 = performance.now();
    await c.query(sql);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

try {
  const t0 = performance.now();
  await c.query(`CREATE TABLE vectors AS SELECT i AS id, list_transform(range(384), x -> ((hash(i * 384 + x) % 2000)::FLOAT / 1000 - 1))::FLOAT[384] AS embedding
    FROM range(${N}) t(i)`);
  console.log(`${N} vectors of 384 floats made in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const query = `(SELECT embedding FROM vectors WHERE id = 4242)::DOUBLE[]`;
  // The floor: every float of every vector read once, with as little arithmetic as reading allows.
  const scan = await median(`SELECT max(array_extract(embedding, 1)), max(array_extract(embedding, 384)), sum(len(embedding)) FROM vectors`);
  const tableFn = await median(`SELECT id, score FROM vector_search('vectors', ${query}, k => 10)`);
  const plain = await median(`SELECT id, array_cosine_similarity(embedding, (SELECT embedding FROM vectors WHERE id = 4242)) AS score
    FROM vectors ORDER BY score DESC LIMIT 10`);
  const top = await c.query(`SELECT id FROM vector_search('vectors', ${query}, k => 1)`);
  if (Number(top.rows[0].id) !== 4242) throw new Error('the nearest vector to vector 4242 should be itself');
  console.log('measurement                       median     / scan   goal <= 2');
  console.log(`scan of the vectors (floor)   ${scan.toFixed(0).padStart(7)} ms`);
  for (const [name, ms] of [['vector_search(..., k => 10)', tableFn], ['ORDER BY cosine ... LIMIT 10', plain]]) {
    console.log(`${name.padEnd(29)} ${ms.toFixed(0).padStart(7)} ms   ${(ms / scan).toFixed(2).padStart(6)}   ${ms / scan <= 2 ? 'met' : 'not met'}`);
  }
  const QUESTIONS = 8;
  const lateral = await median(`SELECT q.id AS question, r.id, r.score FROM (SELECT id, embedding FROM vectors WHERE id < ${QUESTIONS}) q,
    LATERAL vector_search('vectors', q.embedding, k => 10) r`);
  const check = await c.query(`SELECT q.id AS question, r.id FROM (SELECT id, embedding FROM vectors WHERE id < ${QUESTIONS}) q,
    LATERAL vector_search('vectors', q.embedding, k => 1) r ORDER BY 1`);
  if (check.rows.some((r) => Number(r.question) !== Number(r.id))) throw new Error('each vector should find itself first');
  const oneByOne = QUESTIONS * await median(`SELECT id, score FROM vector_search('vectors', (SELECT embedding FROM vectors WHERE id = 3)::DOUBLE[], k => 10)`);
  console.log(`\n${QUESTIONS} searches                       median   / one by one   goal <= 1`);
  console.log(`${QUESTIONS} single searches, one by one ${oneByOne.toFixed(0).padStart(7)} ms`);
  console.log(`LATERAL vector_search per row ${lateral.toFixed(0).padStart(8)} ms   ${(lateral / oneByOne).toFixed(2).padStart(6)}         ${lateral / oneByOne <= 1 ? 'met' : 'not met'}`);
} finally {
  await c.end();
  await server.close();
  rmSync(dataDir, { recursive: true, force: true });
}
