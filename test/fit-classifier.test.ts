import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { startTestServer, type TestServer } from './helpers/server.js';

// fit_classifier: a classification head fitted on a few labelled examples, registered for ai_classify.
describe('fit_classifier', () => {
  let server: TestServer;
  let c: pg.Client;

  beforeAll(async () => {
    server = await startTestServer();
    c = await server.client();
    await c.query(`SELECT * FROM register_model('hash', 'builtin:hash-embed-256')`);
    await c.query(`CREATE TABLE labelled AS
      SELECT 'ducks ' || w || ' on the lake ' || i AS body, 'birds' AS team FROM range(8) t(i), (VALUES ('swim'), ('fly')) v(w)
      UNION ALL SELECT 'the database query ' || w || ' ' || i, 'data' FROM range(8) t(i), (VALUES ('planner'), ('index')) v(w)
      UNION ALL SELECT 'football match ' || w || ' ' || i, 'sports' FROM range(8) t(i), (VALUES ('tonight'), ('score')) v(w)`);
  });
  afterAll(async () => server?.stop());

  it('fits, scores the held-out examples, registers a version, and ai_classify uses it', async () => {
    const r = await c.query(`SELECT * FROM fit_classifier('router', 'labelled', text => 'body', label => 'team', embedding_model => 'hash', test_fraction => 0.25, alias => 'champion')`);
    expect(r.rows[0]).toMatchObject({ name: 'router', version: 1, task: 'text-classification', provider: 'fewshot', train_rows: 36, test_rows: 12, labels: 'birds,data,sports' });
    expect(r.rows[0].accuracy).toBeGreaterThanOrEqual(0.9);
    expect(r.rows[0].macro_f1).toBeGreaterThanOrEqual(0.9);
    const k = await c.query(`SELECT ai_classify('a duck swims on a lake', [], model => 'router') AS a,
      ai_classify('query planner of the database', [], model => 'router@champion') AS b, ai_classify('the football match score', [], model => 'router/1') AS c`);
    expect(k.rows[0]).toEqual({ a: 'birds', b: 'data', c: 'sports' });
    const s = await c.query(`SELECT ai_classify_scores('ducks on the lake', [], model => 'router') AS s`);
    expect(s.rows[0].s.scores.reduce((x: number, y: number) => x + y, 0)).toBeCloseTo(1, 6);
  });

  it('with nothing held out, the scores are NULL; bad input gets clear errors', async () => {
    const r = await c.query(`SELECT version, accuracy, test_rows FROM fit_classifier('router', 'labelled', text => 'body', label => 'team', embedding_model => 'hash', test_fraction => 0)`);
    expect(r.rows[0]).toEqual({ version: 2, accuracy: null, test_rows: 0 });
    await expect(c.query(`SELECT * FROM fit_classifier('one', 'SELECT body, ''x'' AS team FROM labelled', text => 'body', label => 'team', embedding_model => 'hash')`))
      .rejects.toMatchObject({ code: '22023' });
    await expect(c.query(`SELECT * FROM fit_classifier('r2', 'labelled', text => 'body', label => 'team', embedding_model => 'router')`))
      .rejects.toThrow(/not an embedding model/);
    await expect(c.query(`SELECT * FROM fit_classifier('r3', 'labelled', text => 'body', label => 'team')`)).rejects.toMatchObject({ code: '22004' });
  });
});
