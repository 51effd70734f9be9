import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { startTestServer, type TestServer } from './helpers/server.js';

// evaluate_retriever against an independent implementation of MLflow's definitions
// (mlflow.metrics precision_at_k / recall_at_k / ndcg_at_k, whose NDCG is sklearn's ndcg_score with
// ignore_ties over the first k retrieved ids, repeated ids expanded into extra relevant documents).

function precision(truth: string[], retrieved: string[], k: number): number {
  const gt = new Set(truth);
  const top = retrieved.slice(0, k);
  return top.length ? top.filter((d) => gt.has(d)).length / top.length : 0;
}

function recall(truth: string[], retrieved: string[], k: number): number {
  const gt = new Set(truth);
  const top = new Set(retrieved.slice(0, k));
  if (gt.size > 0) return [...gt].filter((d) => top.has(d)).length / gt.size;
  return top.size === 0 ? 1 : 0;
}

function ndcg(truth: string[], retrieved: string[], k: number): number {
  if (retrieved.length === 0 && truth.length === 0) return 1;
  if (retrieved.length === 0 || truth.length === 0) return 0;
  const gt = new Set(truth);
  const seen = new Map<string, number>();
  const expanded = retrieved.slice(0, k).map((d) => {
    const n = (seen.get(d) ?? 0) + 1;
    seen.set(d, n);
    if (n === 1) return d;
    const renamed = `${d}#${n}`;
    if (gt.has(d)) gt.add(renamed);
    return renamed;
  });
  // Rank every document by score (retrieved ones in order, the rest after), gains by relevance.
  const docs = [...new Set([...gt, ...expanded])];
  const score = (d: string): number => (expanded.includes(d) ? 1 - expanded.indexOf(d) * 1e-6 : 0);
  const ranked = [...docs].sort((a, b) => score(b) - score(a)).slice(0, expanded.length);
  const dcg = ranked.reduce((s, d, i) => s + (gt.has(d) ? 1 / Math.log2(i + 2) : 0), 0);
  const ideal = [...docs].map((d) => (gt.has(d) ? 1 : 0)).sort((a, b) => b - a).slice(0, expanded.length)
    .reduce((s: number, g, i) => s + g / Math.log2(i + 2), 0);
  return ideal === 0 ? 0 : dcg / ideal;
}

/** A seeded generator, so the random cases are the same every run. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

describe('evaluate_retriever', () => {
  let server: TestServer;
  let c: pg.Client;
  const cases: Array<{ id: number; truth: string[]; retrieved: string[] }> = [
    { id: 1, truth: ['a', 'b'], retrieved: ['a', 'x', 'b', 'y'] },
    { id: 2, truth: [], retrieved: [] }, // no ground truth, nothing retrieved
    { id: 3, truth: [], retrieved: ['a'] }, // no ground truth
    { id: 4, truth: ['a'], retrieved: [] }, // nothing retrieved
    { id: 5, truth: ['a', 'b', 'c'], retrieved: ['c'] }, // fewer than k retrieved
    { id: 6, truth: ['a', 'b'], retrieved: ['a', 'a', 'b', 'a'] }, // one document retrieved several times
    { id: 7, truth: ['d'], retrieved: ['x', 'd', 'd'] },
  ];

  beforeAll(async () => {
    const random = rng(42);
    const pick = (): string => `doc${Math.floor(random() * 8)}`;
    for (let id = 100; id < 400; id++) {
      cases.push({ id, truth: Array.from({ length: Math.floor(random() * 4) }, pick), retrieved: Array.from({ length: Math.floor(random() * 7) }, pick) });
    }
    server = await startTestServer();
    c = await server.client();
    await c.query('CREATE TABLE runs (id INTEGER, truth VARCHAR[], retrieved VARCHAR[])');
    await c.query(`INSERT INTO runs SELECT r.id, r.truth, r.retrieved
      FROM (SELECT unnest(from_json($1::JSON, '[{"id":"INTEGER","truth":["VARCHAR"],"retrieved":["VARCHAR"]}]'), recursive := true)) r`,
    [JSON.stringify(cases)]);
  });
  afterAll(async () => server?.stop());

  it('per row, equals MLflow precision_at_k, recall_at_k and ndcg_at_k for every k, edge cases included', async () => {
    const r = await c.query(`SELECT * FROM evaluate_retriever('runs', targets => 'truth', predictions => 'retrieved', k => [1, 3, 5]) ORDER BY id`);
    expect(r.rows).toHaveLength(cases.length);
    const byId = new Map(cases.map((x) => [x.id, x]));
    for (const row of r.rows) {
      const x = byId.get(row.id)!;
      expect(row.truth).toEqual(x.truth);
      for (const k of [1, 3, 5]) {
        expect(row[`precision_at_${k}`]).toBeCloseTo(precision(x.truth, x.retrieved, k), 12);
        expect(row[`recall_at_${k}`]).toBeCloseTo(recall(x.truth, x.retrieved, k), 12);
        expect(row[`ndcg_at_${k}`]).toBeCloseTo(ndcg(x.truth, x.retrieved, k), 5);
      }
    }
    const edge = Object.fromEntries(r.rows.filter((x) => x.id < 10).map((x) => [x.id, [x.precision_at_3, x.recall_at_3, x.ndcg_at_3]]));
    expect(edge[2]).toEqual([0, 1, 1]);
    expect(edge[3]).toEqual([0, 0, 0]);
    expect(edge[4]).toEqual([0, 0, 0]);
    expect(edge[6]).toEqual([1, 1, 1]);
    // Fewer than k retrieved (truth a, b, c; retrieved c): precision 1/1, recall 1/3, NDCG 1 / (1 + 1/log2(3)).
    expect(edge[5]![0]).toBe(1);
    expect(edge[5]![1]).toBeCloseTo(1 / 3, 12);
    expect(edge[5]![2]).toBeCloseTo(1, 12);
    // Truth d; retrieved x, d, d: precision 2/3; the repeat of d counts as a second relevant document in NDCG:
    // DCG = 1/log2(3) + 1/log2(4), ideal = 1 + 1/log2(3).
    expect(edge[7]![0]).toBeCloseTo(2 / 3, 12);
    expect(edge[7]![2]).toBeCloseTo((1 / Math.log2(3) + 0.5) / (1 + 1 / Math.log2(3)), 12);
  });

  it('aggregate => true gives mean, population variance and p90 per metric, as MLflow reports them', async () => {
    const r = await c.query(`SELECT * FROM evaluate_retriever('SELECT * FROM runs WHERE id >= 100', targets => 'truth', predictions => 'retrieved', k => 3, aggregate => true)`);
    expect(r.rows.map((x) => x.metric)).toEqual(['precision_at_3', 'recall_at_3', 'ndcg_at_3']);
    const scores = cases.filter((x) => x.id >= 100).map((x) => precision(x.truth, x.retrieved, 3));
    const mean = scores.reduce((a, b) => a + b, 0) / scores.length;
    const variance = scores.reduce((a, b) => a + (b - mean) ** 2, 0) / scores.length;
    const sorted = [...scores].sort((a, b) => a - b);
    const pos = 0.9 * (sorted.length - 1);
    const p90 = sorted[Math.floor(pos)]! + (sorted[Math.ceil(pos)]! - sorted[Math.floor(pos)]!) * (pos - Math.floor(pos));
    expect(r.rows[0].mean).toBeCloseTo(mean, 12);
    expect(r.rows[0].variance).toBeCloseTo(variance, 12);
    expect(r.rows[0].p90).toBeCloseTo(p90, 12);
  });

  it('works inside larger queries and gives clear errors', async () => {
    const joined = await c.query(`SELECT count(*)::INT AS n FROM evaluate_retriever('runs', targets => 'truth', predictions => 'retrieved') AS e
      JOIN runs USING (id) WHERE e.recall_at_3 = 1`);
    expect(joined.rows[0].n).toBe(cases.filter((x) => recall(x.truth, x.retrieved, 3) === 1).length);
    await expect(c.query(`SELECT * FROM evaluate_retriever('runs')`)).rejects.toMatchObject({ code: '22004' });
    await expect(c.query(`SELECT * FROM evaluate_retriever('runs; DROP TABLE runs', targets => 'truth', predictions => 'retrieved')`)).rejects.toMatchObject({ code: '42P01' });
    await expect(c.query(`SELECT * FROM evaluate_retriever('runs', targets => 'truth', predictions => 'retrieved', k => 0)`)).rejects.toMatchObject({ code: '22023' });
    await expect(c.query(`SELECT * FROM evaluate_retriever('runs', targets => 'nope', predictions => 'retrieved')`)).rejects.toThrow(/nope/);
    expect((await c.query('SELECT count(*)::INT AS n FROM runs')).rows[0].n).toBe(cases.length);
  });

  it('retrieves by itself given questions, chunks and an embedding model, and compares variants in one query', async () => {
    await c.query(`CREATE TABLE kb AS SELECT * FROM (VALUES ('d1', 'ducks swim on the lake'), ('d2', 'the database query planner'),
      ('d3', 'football match tonight'), ('d1', 'lake ducks and geese'), ('d4', 'rain and wind tomorrow')) t(doc_id, chunk)`);
    await c.query(`CREATE TABLE qa AS SELECT * FROM (VALUES ('where do ducks swim', ['d1']), ('how does the query planner work', ['d2']),
      ('who won the football match', ['d3']), ('will there be rain', ['d4', 'd9'])) t(q, truth)`);
    const args = `'qa', targets => 'truth', question => 'q', chunks => 'kb', model => 'builtin:hash-embed-256'`;
    const r = await c.query(`SELECT q, truth, retrieved, precision_at_3, recall_at_3, ndcg_at_3 FROM evaluate_retriever(${args}, k => 3)`);
    expect(r.rows).toHaveLength(4);
    for (const row of r.rows) {
      // The nearest chunk is unambiguous here (further down, unrelated chunks may tie at 0).
      const nearest = await c.query(`SELECT doc_id FROM vector_search('SELECT doc_id, ai_embed(''builtin:hash-embed-256'', chunk) AS embedding FROM kb',
        $$${row.q}$$, model => 'builtin:hash-embed-256', k => 1)`);
      expect(row.retrieved[0]).toBe(nearest.rows[0].doc_id);
      expect(row.retrieved).toHaveLength(3);
      expect(row.retrieved[0]).toBe(row.truth[0]);
      expect(row.precision_at_3).toBeCloseTo(precision(row.truth, row.retrieved, 3), 12);
      expect(row.recall_at_3).toBeCloseTo(recall(row.truth, row.retrieved, 3), 12);
      expect(row.ndcg_at_3).toBeCloseTo(ndcg(row.truth, row.retrieved, 3), 5);
    }
    // The retrieval form equals the precomputed form run on the lists it retrieved.
    await c.query(`CREATE TABLE precomputed AS SELECT q, truth, retrieved FROM evaluate_retriever(${args}, k => 3)`);
    const pre = await c.query(`SELECT q, precision_at_3, recall_at_3, ndcg_at_3 FROM evaluate_retriever('precomputed', targets => 'truth', predictions => 'retrieved', k => 3) ORDER BY q`);
    expect(pre.rows).toEqual([...r.rows].sort((x, y) => (x.q < y.q ? -1 : 1)).map((x) => ({ q: x.q, precision_at_3: x.precision_at_3, recall_at_3: x.recall_at_3, ndcg_at_3: x.ndcg_at_3 })));
    const side = await c.query(`SELECT 'k1' AS variant, * FROM evaluate_retriever(${args}, k => 1, aggregate => true)
      UNION ALL SELECT 'k3', * FROM evaluate_retriever(${args}, k => 3, aggregate => true) ORDER BY variant, metric`);
    expect(side.rows.map((x) => `${x.variant}:${x.metric}`)).toEqual([
      'k1:ndcg_at_1', 'k1:precision_at_1', 'k1:recall_at_1', 'k3:ndcg_at_3', 'k3:precision_at_3', 'k3:recall_at_3']);
    const p3 = side.rows.find((x) => x.metric === 'precision_at_3');
    expect(p3.mean).toBeCloseTo(r.rows.reduce((a, x) => a + x.precision_at_3, 0) / r.rows.length, 12);
  });
});
