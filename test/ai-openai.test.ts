import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { startOpenAIServer, type OpenAITestServer } from './helpers/openai-server.js';
import { startTestServer, type TestServer } from './helpers/server.js';

// ai_query / ai_embed over the OpenAI-compatible provider, through the Postgres protocol,
// against a real HTTP server on loopback.
describe('OpenAI-compatible models from SQL', () => {
  let server: TestServer;
  let openai: OpenAITestServer;
  let c: pg.Client;

  beforeAll(async () => {
    openai = await startOpenAIServer({ dimension: 16 });
    process.env['AIDUCK_TEST_OPENAI_KEY'] = 'sk-test-123';
    server = await startTestServer();
    c = await server.client();
    await c.query(`SELECT * FROM register_model('llm', 'openai:${openai.url}', endpoint_model => 'gpt-test', api_key_env => 'AIDUCK_TEST_OPENAI_KEY')`);
    await c.query(`SELECT * FROM register_model('remote_embedder', 'openai:${openai.url}', task => 'embedding', endpoint_model => 'embed-test')`);
  });
  afterAll(async () => {
    await server?.stop();
    await openai?.close();
  });

  it('registers endpoints without storing the key', async () => {
    const r = await c.query(`SELECT name, version, task, provider, api_key_env FROM ai.model_versions ORDER BY name`);
    expect(r.rows).toEqual([
      { name: 'llm', version: 1, task: 'chat', provider: 'openai', api_key_env: 'AIDUCK_TEST_OPENAI_KEY' },
      { name: 'remote_embedder', version: 1, task: 'embedding', provider: 'openai', api_key_env: null },
    ]);
    const dump = await c.query(`SELECT count(*)::INT AS n FROM ai.model_versions WHERE CAST(ai.model_versions AS VARCHAR) LIKE '%sk-test-123%'`);
    expect(dump.rows[0].n).toBe(0);
  });

  it('ai_query answers every row of a CREATE TABLE AS, sending the key and the parameters', async () => {
    openai.reset({ dimension: 16 });
    await c.query(`CREATE TABLE questions AS SELECT i AS id, 'question ' || i AS q FROM range(300) t(i)`);
    await c.query(`CREATE TABLE answers AS SELECT id, ai_query('llm', q, modelParameters => named_struct('temperature', 0.7, 'max_tokens', 512)) AS a FROM questions`);
    const rows = await c.query(`SELECT count(*)::INT AS n, count(DISTINCT a)::INT AS d, min(a) AS sample FROM answers`);
    expect(rows.rows[0]).toEqual({ n: 300, d: 300, sample: 'echo: question 0' });
    expect(openai.stats.authorizations.every((a) => a === 'Bearer sk-test-123')).toBe(true);
    expect(openai.stats.lastBody).toMatchObject({ model: 'gpt-test', temperature: 0.7, max_tokens: 512 });
  });

  it('a re-run is served from the cache', async () => {
    openai.reset({ dimension: 16 });
    await c.query(`CREATE OR REPLACE TABLE answers2 AS SELECT id, ai_query('llm', q, modelParameters => named_struct('temperature', 0.7, 'max_tokens', 512)) AS a FROM questions`);
    expect(openai.stats.requests).toBe(0);
    const same = await c.query(`SELECT count(*)::INT AS n FROM answers JOIN answers2 USING (id) WHERE answers.a = answers2.a`);
    expect(same.rows[0].n).toBe(300);
  });

  it('responseFormat gives a typed STRUCT and the schema reaches the endpoint', async () => {
    const r = await c.query(`SELECT ai_query('llm', 'Write a question about ducks',
        responseFormat => 'STRUCT<content:STRUCT<content:STRING>>') AS r`);
    expect(Object.keys(r.rows[0].r)).toEqual(['content']);
    const body = openai.stats.lastBody as { response_format?: { type: string; json_schema: { schema: Record<string, unknown> } } };
    expect(body.response_format?.type).toBe('json_schema');
    expect(body.response_format?.json_schema.schema).toMatchObject({ type: 'object', required: ['content'] });
    const field = await c.query(`SELECT r.answer, r.score, typeof(r) AS t FROM (SELECT ai_query('llm', 'xyz', responseFormat => 'STRUCT<answer:STRING, score:INT>') AS r)`);
    expect(field.rows[0]).toEqual({ answer: 'xyz', score: 3, t: 'STRUCT(answer VARCHAR, score INTEGER)' });
  });

  it('failOnError => false reports the failing row and goes on', async () => {
    openai.reset({ dimension: 16, badInput: 'poison' });
    const r = await c.query(`SELECT t.x, ai_query('llm', t.x, failOnError => false) AS r
      FROM (VALUES ('fine'), ('poison'), ('also fine')) t(x) ORDER BY t.x`);
    const byInput = Object.fromEntries(r.rows.map((row) => [row.x, row.r]));
    expect(byInput['fine']).toEqual({ result: 'echo: fine', errorMessage: null });
    expect(byInput['poison'].result).toBeNull();
    expect(byInput['poison'].errorMessage).toMatch(/400/);
    await expect(c.query(`SELECT ai_query('llm', 'poison') AS r`)).rejects.toMatchObject({ message: expect.stringMatching(/400/) });
  });

  it('429s are retried and the answers arrive', async () => {
    openai.reset({ dimension: 16, fail429: 3 });
    const r = await c.query(`SELECT ai_query('llm', 'rate limited ' || i) AS a FROM range(5) t(i) ORDER BY a`);
    expect(r.rows.map((x) => x.a)).toEqual([0, 1, 2, 3, 4].map((i) => `echo: rate limited ${i}`));
    expect(openai.stats.requests).toBeGreaterThanOrEqual(8);
  });

  it('ai_embed over HTTP returns FLOAT[n] usable by array_cosine_similarity', async () => {
    openai.reset({ dimension: 16 });
    const r = await c.query(`SELECT typeof(ai_embed('remote_embedder', 'a')) AS t,
      array_cosine_similarity(ai_embed('remote_embedder', 'same'), ai_embed('remote_embedder', 'same')) AS s`);
    expect(r.rows[0].t).toBe('FLOAT[16]');
    expect(r.rows[0].s).toBeCloseTo(1, 5);
  });

  it('a missing API key variable is a clear error', async () => {
    await c.query(`SELECT * FROM register_model('keyless', 'openai:${openai.url}', endpoint_model => 'm', api_key_env => 'AIDUCK_TEST_UNSET_KEY')`);
    await expect(c.query(`SELECT ai_query('keyless', 'hi')`)).rejects.toMatchObject({ message: expect.stringContaining('AIDUCK_TEST_UNSET_KEY') });
  });

  it('a slow endpoint is cancelled by statement_timeout and the session goes on', async () => {
    openai.reset({ dimension: 16, latencyMs: 3000 });
    await c.query(`SET statement_timeout = 300`);
    const t0 = Date.now();
    await expect(c.query(`SELECT ai_query('llm', 'slow ' || i) FROM range(20) t(i)`)).rejects.toMatchObject({ code: '57014' });
    expect(Date.now() - t0).toBeLessThan(2000);
    await c.query(`SET statement_timeout = 0`);
    const ok = await c.query('SELECT 1 AS one');
    expect(ok.rows[0].one).toBe(1);
  });
});
