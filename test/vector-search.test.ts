import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { startTestServer, type TestServer } from './helpers/server.js';

// vector_search: exact top-k by cosine similarity, as a table function and as plain SQL.
describe('vector_search', () => {
  let server: TestServer;
  let c: pg.Client;

  beforeAll(async () => {
    server = await startTestServer();
    c = await server.client();
    await c.query(`SELECT * FROM register_model('hash', 'builtin:hash-embed-256')`);
    await c.query(`CREATE TABLE chunks AS SELECT i AS id, (['ducks swim on the lake', 'the database query planner', 'football match tonight',
      'lake ducks and geese'])[i % 4 + 1] || ' ' || (i * 7919 % 1000) AS body FROM range(3000) t(i)`);
    await c.query(`CREATE TABLE e AS SELECT id, body, ai_embed('hash', body) AS embedding FROM chunks`);
  });
  afterAll(async () => server?.stop());

  it('returns the k nearest rows, best first, the same as ORDER BY array_cosine_similarity ... LIMIT k', async () => {
    const search = await c.query(`SELECT id, score FROM vector_search('e', 'ducks on a lake', model => 'hash', k => 5)`);
    const plain = await c.query(`SELECT id, array_cosine_similarity(embedding, ai_embed('hash', 'ducks on a lake')) AS score
      FROM e ORDER BY score DESC LIMIT 5`);
    expect(search.rows).toHaveLength(5);
    expect(search.rows.map((r) => r.score)).toEqual(plain.rows.map((r) => r.score));
    for (let i = 1; i < 5; i++) expect(search.rows[i - 1].score).toBeGreaterThanOrEqual(search.rows[i].score);
    const bodies = await c.query(`SELECT body FROM vector_search('e', 'ducks on a lake', model => 'hash', k => 5)`);
    for (const r of bodies.rows) expect(r.body).toMatch(/ducks/);
  });

  it('takes a vector as the query, and a query as the data', async () => {
    const r = await c.query(`SELECT id, score FROM vector_search('SELECT * FROM e WHERE id < 500',
      (SELECT embedding FROM e WHERE id = 42)::DOUBLE[], k => 3)`);
    expect(Number(r.rows[0].id)).toBe(42);
    expect(r.rows[0].score).toBeCloseTo(1, 5);
    expect(r.rows.every((x) => Number(x.id) < 500)).toBe(true);
  });

  it('searches once per row of the query around it, with LATERAL (a text with its model, or a vector)', async () => {
    await c.query(`CREATE TABLE questions AS SELECT * FROM (VALUES (1, 'ducks on a lake'), (2, 'the query planner of a database'), (3, NULL)) t(qid, text)`);
    const lateral = await c.query(`SELECT q.qid, r.id, r.score FROM questions q, LATERAL vector_search('e', q.text, model => 'hash', k => 3) r
      ORDER BY q.qid, r.score DESC, r.id`);
    // Each question's rows are what a search of its text alone gives.
    for (const [qid, text] of [[1, 'ducks on a lake'], [2, 'the query planner of a database']] as const) {
      const alone = await c.query(`SELECT id, score FROM vector_search('e', '${text}', model => 'hash', k => 3) ORDER BY score DESC, id`);
      expect(lateral.rows.filter((r) => r.qid === qid).map((r) => [r.id, r.score])).toEqual(alone.rows.map((r) => [r.id, r.score]));
    }
    // A NULL question finds nothing; a LEFT JOIN LATERAL keeps it.
    expect(lateral.rows.filter((r) => r.qid === 3)).toEqual([]);
    const left = await c.query(`SELECT q.qid, count(r.id)::INT AS n FROM questions q LEFT JOIN LATERAL vector_search('e', q.text, model => 'hash', k => 2) r ON true
      GROUP BY q.qid ORDER BY q.qid`);
    expect(left.rows).toEqual([{ qid: 1, n: 2 }, { qid: 2, n: 2 }, { qid: 3, n: 0 }]);
    // Without LATERAL (DuckDB joins a correlated subquery laterally), and with a vector column as the query.
    const vectors = await c.query(`SELECT q.id AS qid, r.id FROM (SELECT id, embedding FROM e WHERE id IN (7, 8)) q,
      vector_search('e', q.embedding, k => 1) r ORDER BY q.id`);
    expect(vectors.rows.map((r) => [Number(r.qid), Number(r.id)])).toEqual([[7, 7], [8, 8]]);
    await expect(c.query(`SELECT * FROM questions q, LATERAL vector_search('e', q.nope, model => 'hash') r`)).rejects.toMatchObject({ code: '42703' });
  });

  it('gives clear errors', async () => {
    await expect(c.query(`SELECT * FROM vector_search('e', 'ducks')`)).rejects.toMatchObject({ code: '22004' });
    await expect(c.query(`SELECT * FROM vector_search('e', 'ducks', model => 'hash', k => 0)`)).rejects.toMatchObject({ code: '22023' });
    await expect(c.query(`SELECT * FROM vector_search('no such', 'ducks', model => 'hash')`)).rejects.toMatchObject({ code: '42P01' });
    // A missing column of vectors is named, with the argument that names it; in the LATERAL form too.
    const noColumn = { code: '42703', hint: "name the column that holds the vectors with embedding => 'column' (the default is 'embedding')" };
    await expect(c.query(`SELECT * FROM vector_search('e', 'ducks', embedding => 'nope', model => 'hash')`))
      .rejects.toMatchObject({ ...noColumn, message: 'vector_search: its data has no column "nope"' });
    await expect(c.query(`SELECT * FROM questions q, LATERAL vector_search('e', q.text, embedding => 'nope', model => 'hash') r`))
      .rejects.toMatchObject(noColumn);
  });
});
