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

  it('gives clear errors', async () => {
    await expect(c.query(`SELECT * FROM vector_search('e', 'ducks')`)).rejects.toMatchObject({ code: '22004' });
    await expect(c.query(`SELECT * FROM vector_search('e', 'ducks', model => 'hash', k => 0)`)).rejects.toMatchObject({ code: '22023' });
    await expect(c.query(`SELECT * FROM vector_search('no such', 'ducks', model => 'hash')`)).rejects.toMatchObject({ code: '42P01' });
  });
});
