import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { startOpenAIServer, type OpenAITestServer } from './helpers/openai-server.js';
import { expectResponsive, selectOneLatencies } from './helpers/latency.js';
import { startTestServer, type TestServer } from './helpers/server.js';

// Bugs a review found in the AI functions, reproduced against a real server and pinned here.
describe('AI function regressions', () => {
  let server: TestServer;
  let openai: OpenAITestServer;
  let c: pg.Client;
  const wait = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

  beforeAll(async () => {
    openai = await startOpenAIServer();
    server = await startTestServer();
    c = await server.client();
    await c.query(`SELECT * FROM register_model('llm', 'openai:${openai.url}', endpoint_model => 'm')`);
    await c.query(`CREATE TABLE docs AS SELECT i AS id, 'doc ' || i AS body FROM range(200) t(i)`);
  });
  afterAll(async () => {
    await server?.stop();
    await openai?.close();
  });

  it('a statement with nextval runs once: the prefetch pass skips it', async () => {
    await c.query(`CREATE SEQUENCE seq1`);
    await c.query(`CREATE TABLE seqt (n BIGINT, v FLOAT[256])`);
    await c.query(`INSERT INTO seqt SELECT nextval('seq1'), ai_embed('builtin:hash-embed-256', body) FROM docs WHERE id < 5`);
    expect((await c.query(`SELECT list(n ORDER BY n)::VARCHAR AS ns FROM seqt`)).rows[0].ns).toBe('[1, 2, 3, 4, 5]');
    const r = await c.query(`SELECT nextval('seq1')::INT AS n, 'mentions ai_query(x) in a string' AS note /* ai_embed( */`);
    expect(r.rows[0].n).toBe(6);
  });

  it('CREATE VIEW with ai_query computes nothing until the view is read', async () => {
    openai.reset();
    await c.query(`CREATE VIEW answered AS SELECT id, ai_query('llm', body) AS a FROM docs`);
    expect(openai.stats.requests).toBe(0);
    expect((await c.query(`SELECT a FROM answered WHERE id = 3`)).rows[0].a).toBe('echo: doc 3');
  });

  it('registry commands are refused inside a transaction block, and the registry stays as committed', async () => {
    await c.query('BEGIN');
    await expect(c.query(`SELECT * FROM register_model('in_tx', 'builtin:hash-embed-256')`)).rejects.toMatchObject({ code: '25001', hint: expect.stringContaining('autocommit') });
    await c.query('ROLLBACK');
    await expect(c.query(`SELECT ai_embed('in_tx', 'x')`)).rejects.toMatchObject({ code: '42704' });
  });

  it('concurrent registrations of one name get consecutive versions', async () => {
    const clients = await Promise.all([server.client(), server.client(), server.client()]);
    const rows = await Promise.all(clients.map((k) => k.query(`SELECT version FROM register_model('conc', 'builtin:hash-embed-256')`)));
    expect(rows.map((r) => r.rows[0].version).sort()).toEqual([1, 2, 3]);
  });

  it('the same query text follows a promotion to a version with another dimension', async () => {
    openai.reset();
    await c.query(`SELECT * FROM register_model('dimmy', 'builtin:hash-embed-256', alias => 'champion')`);
    await c.query(`SELECT * FROM register_model('dimmy', 'openai:${openai.url}', task => 'embedding', endpoint_model => 'e')`);
    const q = `SELECT typeof(ai_embed('dimmy', 'x')) AS t`;
    expect((await c.query(q)).rows[0].t).toBe('FLOAT[256]');
    await c.query(`SELECT * FROM set_model_alias('dimmy', 'champion', 2)`);
    expect((await c.query(q)).rows[0].t).toBe(`FLOAT[${openai.knobs.dimension}]`);
  });

  it('modelParameters are read per row, not from the first row of a chunk', async () => {
    openai.reset();
    await c.query(`SELECT ai_query('llm', 'same prompt ' || (i % 2), modelParameters => named_struct('max_tokens', 10 + i)) FROM range(4) t(i)`);
    const sent = openai.stats.bodies.map((b) => [(b as { messages: Array<{ content: string }> }).messages[0]!.content, b['max_tokens']]);
    expect(sent.sort()).toEqual([['same prompt 0', 10], ['same prompt 0', 12], ['same prompt 1', 11], ['same prompt 1', 13]]);
  });

  it('answers that do not fit responseFormat are errors, not silent NULLs', async () => {
    openai.reset();
    await expect(c.query(`SELECT ai_query('llm', 'when?', responseFormat => 'STRUCT<d:DATE>')`)).rejects.toThrow(/does not match responseFormat/);
    await expect(c.query(`SELECT ai_query('llm', repeat('x', 300), responseFormat => 'STRUCT<n:TINYINT>')`)).rejects.toThrow(/does not match responseFormat/);
    const ok = await c.query(`SELECT ai_query('llm', 'abc', responseFormat => 'STRUCT<n:TINYINT, price:DECIMAL(10,2)>') AS r`);
    expect(ok.rows[0].r).toEqual({ n: 3, price: 3 });
    await expect(c.query(`SELECT ai_query('llm', 'x', failOnError => 1 = 0)`)).rejects.toMatchObject({ code: '22023' });
  });

  it('a failing row is sent once, not again by the statement', async () => {
    openai.reset({ badInput: 'doc 7' });
    const r = await c.query(`SELECT count(*) FILTER (WHERE r.errorMessage IS NOT NULL)::INT AS failed
      FROM (SELECT ai_query('llm', body, failOnError => false) AS r FROM docs WHERE id < 10)`);
    expect(r.rows[0].failed).toBe(1);
    expect(openai.stats.requests).toBeLessThanOrEqual(10 + 5); // the bad row's retries are not counted twice over
    expect(openai.stats.bodies.filter((b) => JSON.stringify(b).includes('doc 7')).length).toBe(1);
  });

  it('a query with bind parameters is prefetched too: other sessions keep answering', async () => {
    openai.reset({ latencyMs: 60 });
    await c.query(`SELECT * FROM register_model('slow', 'openai:${openai.url}', endpoint_model => 'm')`);
    const other = await server.client();
    const job = c.query(`SELECT ai_query('slow', body) AS a FROM docs WHERE id < $1`, [120]);
    const latencies = await selectOneLatencies(other, job);
    expect((await job).rows).toHaveLength(120);
    expect(latencies.length).toBeGreaterThan(5);
    expectResponsive(latencies);
  });

  it('a client that disconnects mid-job stops its requests', async () => {
    openai.reset({ latencyMs: 50 });
    await c.query(`SELECT * FROM register_model('slow2', 'openai:${openai.url}', endpoint_model => 'm')`);
    const leaver = await server.client();
    leaver.query(`SELECT ai_query('slow2', body) FROM docs`).catch(() => undefined);
    while (openai.stats.requests < 16) await wait(10);
    (leaver as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
    await wait(300);
    const after = openai.stats.requests;
    await wait(500);
    expect(openai.stats.requests - after).toBeLessThanOrEqual(8);
    expect(openai.stats.requests).toBeLessThan(200);
    expect((await c.query('SELECT count(*)::INT AS n FROM ai.running_jobs')).rows[0].n).toBe(0);
  });

  it('WITH ... UPDATE / INSERT / DELETE run once', async () => {
    await c.query(`CREATE TABLE w (id INT, n INT, note VARCHAR)`);
    await c.query(`INSERT INTO w VALUES (1, 0, NULL), (2, 0, NULL)`);
    await c.query(`WITH k AS (SELECT 1 AS k) UPDATE w SET n = n + 1, note = ai_query('llm', 'hi ' || id) FROM k WHERE w.id >= k.k`);
    expect((await c.query(`SELECT list(n ORDER BY id)::VARCHAR AS ns, count(note)::INT AS notes FROM w`)).rows[0]).toEqual({ ns: '[1, 1]', notes: 2 });
    await c.query(`WITH k AS (SELECT 1 AS k) INSERT INTO w SELECT 3, 0, ai_query('llm', 'x') FROM k`);
    expect((await c.query(`SELECT count(*)::INT AS n FROM w WHERE id = 3`)).rows[0].n).toBe(1);
    await c.query(`WITH k AS (SELECT 1) DELETE FROM w WHERE ai_query('llm', 'x') IS NULL`);
    expect((await c.query(`SELECT count(*)::INT AS n FROM w`)).rows[0].n).toBe(3);
  });

  it('a statement with random() calls the model once per row', async () => {
    openai.reset();
    await c.query(`SELECT count(a) FROM (SELECT ai_query('llm', 'r' || random()) AS a FROM range(30))`);
    expect(openai.stats.requests).toBe(30);
  });

  it('a date that does not exist is not a DATE', async () => {
    await expect(c.query(`SELECT ai_query('llm', '2026-02-30', responseFormat => 'STRUCT<d:DATE>')`)).rejects.toThrow(/does not match responseFormat/);
    const ok = await c.query(`SELECT ai_query('llm', '2026-02-28', responseFormat => 'STRUCT<d:DATE>') AS r`);
    expect(ok.rows[0].r.d).toBe('2026-02-28');
  });

  it('CREATE TABLE AS (SELECT ...) is prefetched: other sessions keep answering', async () => {
    openai.reset({ latencyMs: 60 });
    await c.query(`SELECT * FROM register_model('slow3', 'openai:${openai.url}', endpoint_model => 'm')`);
    const other = await server.client();
    const job = c.query(`CREATE TABLE paren AS (SELECT id, ai_query('slow3', body) AS a FROM docs WHERE id < 80)`);
    const latencies = await selectOneLatencies(other, job);
    await job;
    expect((await c.query(`SELECT count(a)::INT AS n FROM paren`)).rows[0].n).toBe(80);
    expectResponsive(latencies);
  });

  it('in a transaction block, a query that fails on NULL still works (no collect pass there)', async () => {
    openai.reset();
    await c.query('BEGIN');
    const r = await c.query(`SELECT coalesce(ai_query('llm', 'q'), error('no answer')) AS a`);
    expect(r.rows[0].a).toBe('echo: q');
    await c.query('COMMIT');
  });

  it('a named prepared statement follows a new version of another dimension', async () => {
    await c.query(`SELECT * FROM register_model('dimz', 'builtin:hash-embed-256')`);
    const named = { name: 'dimz_type', text: `SELECT typeof(ai_embed('dimz', 'x')) AS t` };
    expect((await c.query(named)).rows[0].t).toBe('FLOAT[256]');
    await c.query(`SELECT * FROM register_model('dimz', 'openai:${openai.url}', task => 'embedding', endpoint_model => 'e')`);
    // node-pg describes the portal on every execution, so the new shape is simply what it gets.
    expect((await c.query(named)).rows[0].t).toBe(`FLOAT[${openai.knobs.dimension}]`);
  });

  it('a constant argument is sent to the model once per chunk, not once per row', async () => {
    openai.reset();
    await c.query(`SELECT * FROM register_model('emb_once', 'openai:${openai.url}', task => 'embedding', endpoint_model => 'e')`);
    openai.reset();
    const r = await c.query(`SELECT count(DISTINCT ai_embed('emb_once', 'the same text'))::INT AS n FROM range(3000)`);
    expect(r.rows[0].n).toBe(1);
    const inputs = openai.stats.bodies.flatMap((b) => (b as { input: string[] }).input);
    // 3,000 rows are two chunks: at most one request each (the second may leave before the first is cached).
    expect(inputs.filter((x) => x === 'the same text').length).toBeLessThanOrEqual(2);
    expect(inputs.length).toBeLessThanOrEqual(2);
  });
});
