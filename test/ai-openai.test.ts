import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
    process.env['AIDUCK_KEY_TEST_OPENAI'] = 'sk-test-123';
    server = await startTestServer();
    c = await server.client();
    await c.query(`SELECT * FROM register_model('llm', 'openai:${openai.url}', endpoint_model => 'gpt-test', api_key_env => 'AIDUCK_KEY_TEST_OPENAI')`);
    await c.query(`SELECT * FROM register_model('remote_embedder', 'openai:${openai.url}', task => 'embedding', endpoint_model => 'embed-test')`);
  });
  afterAll(async () => {
    await server?.stop();
    await openai?.close();
  });

  it('registers endpoints without storing the key', async () => {
    const r = await c.query(`SELECT name, version, task, provider, api_key_env FROM ai.model_versions ORDER BY name`);
    expect(r.rows).toEqual([
      { name: 'llm', version: 1, task: 'chat', provider: 'openai', api_key_env: 'AIDUCK_KEY_TEST_OPENAI' },
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

  it('ai_translate and ai_extract ask the LLM; ai_extract returns a JSON object with one key per entity', async () => {
    openai.reset({ dimension: 16 });
    const t = await c.query(`SELECT ai_translate('good morning', 'French', model => 'llm') AS t`);
    expect(t.rows[0].t).toMatch(/^echo: Translate the following text to French\..*good morning$/s);
    const e = await c.query(`SELECT ai_extract('Ada met Grace in London', ['person', 'place'], model => 'llm') AS e, ai_extract(NULL, ['person'], model => 'llm') IS NULL AS n`);
    expect(Object.keys(e.rows[0].e)).toEqual(['person', 'place']);
    expect(e.rows[0].n).toBe(true);
    const body = openai.stats.bodies.find((b) => (b as { response_format?: unknown }).response_format) as { response_format: { json_schema: { schema: { required: string[] } } } };
    expect(body.response_format.json_schema.schema.required).toEqual(['person', 'place']);
  });

  it('options => MAP {...} bounds the requests in flight; unknown options are refused', async () => {
    openai.reset({ dimension: 16, latencyMs: 20 });
    await c.query(`SELECT * FROM register_model('narrow', 'openai:${openai.url}', endpoint_model => 'm', options => MAP {'max_concurrency': '3'})`);
    await c.query(`SELECT ai_query('narrow', 'q' || i) FROM range(40) t(i)`);
    expect(openai.stats.requests).toBe(40);
    expect(openai.stats.maxInFlight).toBe(3);
    await expect(c.query(`SELECT * FROM register_model('bad', 'openai:${openai.url}', endpoint_model => 'm', options => MAP {'speed': '11'})`))
      .rejects.toMatchObject({ code: '22023', message: 'unknown model option "speed"' });
  });

  it('a completion model goes to /completions', async () => {
    openai.reset({ dimension: 16 });
    await c.query(`SELECT * FROM register_model('completer', 'openai:${openai.url}', task => 'completion', endpoint_model => 'gpt-instruct')`);
    const r = await c.query(`SELECT ai_query('completer', 'Once upon a time') AS a`);
    expect(typeof r.rows[0].a).toBe('string');
    expect(openai.stats.byPath['/v1/completions']).toBe(1);
  });

  it('a missing API key variable is a clear error', async () => {
    await c.query(`SELECT * FROM register_model('keyless', 'openai:${openai.url}', endpoint_model => 'm', api_key_env => 'AIDUCK_KEY_TEST_UNSET')`);
    await expect(c.query(`SELECT ai_query('keyless', 'hi')`)).rejects.toMatchObject({ message: expect.stringContaining('AIDUCK_KEY_TEST_UNSET') });
  });

  it('an endpoint never gets the server\'s own secrets or credentials stored in the registry', async () => {
    process.env['AIDUCK_PASSWORD_FOR_TEST'] = 'server-secret';
    openai.reset({ dimension: 16 });
    for (const name of ['AIDUCK_PASSWORD', 'AIDUCK_PASSWORD_FOR_TEST', 'HF_TOKEN', 'PATH', 'HOME']) {
      await expect(c.query(`SELECT * FROM register_model('leaky', 'openai:${openai.url}', endpoint_model => 'm', api_key_env => '${name}')`))
        .rejects.toMatchObject({ code: '42501', message: expect.stringContaining(name) });
    }
    const withCredentials = openai.url.replace('http://', 'http://user:pw@');
    await expect(c.query(`SELECT * FROM register_model('leaky', 'openai:${withCredentials}', endpoint_model => 'm')`)).rejects.toMatchObject({ code: '22023' });
    const stored = await c.query(`SELECT count(*)::INT AS n FROM ai.model_versions WHERE name = 'leaky' OR source LIKE '%user:pw%'`);
    expect(stored.rows[0].n).toBe(0);
    expect(openai.stats.requests).toBe(0);
    delete process.env['AIDUCK_PASSWORD_FOR_TEST'];
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

  it('CREATE TABLE AS with ai_query over 10,000 rows; the re-run is at least 20x faster from the cache', async () => {
    openai.reset({ dimension: 16, latencyMs: 10 });
    await c.query(`CREATE TABLE tickets AS SELECT i AS id, 'ticket ' || i || ': printer on floor ' || (i % 7) || ' is jammed' AS body FROM range(10000) t(i)`);
    const t0 = performance.now();
    await c.query(`CREATE TABLE batch_inference AS SELECT id, ai_query('llm', body) AS answer FROM tickets`);
    const first = performance.now() - t0;
    expect(openai.stats.requests).toBe(10000);
    expect(openai.stats.maxInFlight).toBeLessThanOrEqual(8);
    const t1 = performance.now();
    await c.query(`CREATE TABLE batch_inference_again AS SELECT id, ai_query('llm', body) AS answer FROM tickets`);
    const again = performance.now() - t1;
    expect(openai.stats.requests).toBe(10000);
    expect(first / again).toBeGreaterThan(20);
    const r = await c.query(`SELECT count(*)::INT AS n, count(*) FILTER (WHERE answer = 'echo: ' || body)::INT AS right FROM batch_inference JOIN tickets USING (id)`);
    expect(r.rows[0]).toEqual({ n: 10000, right: 10000 });
  }, 120_000);

  it('a job cancelled halfway recomputes only the missing rows when run again', async () => {
    openai.reset({ dimension: 16, latencyMs: 20 });
    await c.query(`CREATE TABLE halfway AS SELECT i AS id, 'resume me ' || i AS body FROM range(2000) t(i)`);
    const victim = await server.client();
    const job = victim.query(`CREATE TABLE halfway_out AS SELECT id, ai_query('llm', body) AS a FROM halfway`);
    while (openai.stats.requests < 600) await new Promise((r) => setTimeout(r, 20));
    const { default: pgModule } = await import('pg');
    const canceller = new pgModule.Client({ host: '127.0.0.1', port: server.port, user: 'aiduck' });
    (canceller as unknown as { cancel(c: unknown, q: unknown): void }).cancel(victim, (victim as unknown as { activeQuery: unknown }).activeQuery);
    await expect(job).rejects.toMatchObject({ code: '57014' });
    const done = openai.stats.requests;
    expect(done).toBeLessThan(2000);
    openai.reset({ dimension: 16 });
    await victim.query(`CREATE TABLE halfway_out AS SELECT id, ai_query('llm', body) AS a FROM halfway`);
    // Rows answered before the cancel are not paid again (a few slices in flight at the cancel may be).
    expect(openai.stats.requests).toBeLessThanOrEqual(2000 - done + 24);
    expect(openai.stats.requests).toBeGreaterThan(0);
    expect((await victim.query(`SELECT count(*)::INT AS n FROM halfway_out WHERE a = 'echo: ' || (SELECT body FROM halfway h WHERE h.id = halfway_out.id)`)).rows[0].n).toBe(2000);
  }, 60_000);

  it('an hf: source without network access fails with a clear error', async () => {
    process.env['HF_ENDPOINT'] = 'http://127.0.0.1:9';
    try {
      await expect(c.query(`SELECT * FROM register_model('hub', 'hf:sentence-transformers/all-MiniLM-L6-v2')`))
        .rejects.toMatchObject({ code: '08001', message: expect.stringContaining('cannot reach the Hugging Face Hub') });
    } finally {
      delete process.env['HF_ENDPOINT'];
    }
  });
});

describe('the registry and the result cache survive a restart', () => {
  it('after a restart the model is still registered and the same job costs no request', async () => {
    const openai = await startOpenAIServer({ dimension: 8 });
    const dataDir = mkdtempSync(join(tmpdir(), 'aiduck-restart-'));
    try {
      const first = await startTestServer({ dataDir });
      const a = await first.client();
      await a.query(`SELECT * FROM register_model('llm', 'openai:${openai.url}', endpoint_model => 'm', alias => 'champion')`);
      await a.query(`CREATE TABLE q AS SELECT i AS id, 'persist ' || i AS body FROM range(500) t(i)`);
      await a.query(`CREATE TABLE out1 AS SELECT id, ai_query('llm@champion', body) AS r FROM q`);
      expect(openai.stats.requests).toBe(500);
      await a.end();
      await first.close();
      openai.reset({ dimension: 8 });
      const second = await startTestServer({ dataDir });
      const b = await second.client();
      const r = await b.query(`SELECT name, version, aliases FROM ai.model_versions_with_aliases`);
      expect(r.rows).toEqual([{ name: 'llm', version: 1, aliases: ['champion'] }]);
      await b.query(`CREATE TABLE out2 AS SELECT id, ai_query('models:/llm@champion', body) AS r FROM q`);
      expect(openai.stats.requests).toBe(0);
      expect((await b.query(`SELECT count(*)::INT AS n FROM out1 JOIN out2 USING (id) WHERE out1.r = out2.r`)).rows[0].n).toBe(500);
      await second.stop();
    } finally {
      await openai.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60_000);
});

// What a Databricks user writes: returnType, chat messages as the request, array(named_struct(...)),
// from_json with Databricks types on either kind of answer, json_object; against the same endpoint.
describe("ai_query as Databricks spells it", () => {
  let server: TestServer;
  let openai: OpenAITestServer;
  let c: pg.Client;
  const bodies = (): Array<Record<string, unknown>> => openai.stats.bodies;

  beforeAll(async () => {
    openai = await startOpenAIServer();
    server = await startTestServer();
    c = await server.client();
    await c.query(`SELECT * FROM register_model('llm', 'openai:${openai.url}', endpoint_model => 'chat-test')`);
    await c.query(`SELECT * FROM register_model('completer', 'openai:${openai.url}', task => 'completion', endpoint_model => 'complete-test')`);
  });
  afterAll(async () => {
    await server?.stop();
    await openai?.close();
  });

  it("returnType => 'STRING' is the text; a STRUCT returnType reads the answer as that type without asking for a schema", async () => {
    openai.reset({ answers: { 'duck as json': '{"name": "Mallard", "legs": 2, "tags": ["pond"]}', 'not json': 'A mallard.' } });
    const text = await c.query(`SELECT ai_query('llm', 'hello', returnType => 'STRING')`);
    expect(text.fields[0]!.name).toBe('ai_query');
    expect(text.rows[0]).toEqual({ ai_query: 'echo: hello' });
    const typed = await c.query(`SELECT r.name, r.legs, r.tags FROM (SELECT ai_query('llm', 'duck as json', returnType => 'STRUCT<name: STRING, legs: INT, tags: ARRAY<STRING>>') AS r)`);
    expect(typed.rows[0]).toEqual({ name: 'Mallard', legs: 2, tags: ['pond'] });
    expect(bodies().every((b) => b['response_format'] === undefined)).toBe(true);
    await expect(c.query(`SELECT ai_query('llm', 'not json', returnType => 'STRUCT<name: STRING>')`)).rejects.toThrow(/the answer is not JSON, as returnType STRUCT<name: STRING> needs: A mallard\./);
    const lenient = await c.query(`SELECT ai_query('llm', 'not json', returnType => 'STRUCT<name: STRING>', failOnError => false) AS r`);
    expect(lenient.rows[0].r).toEqual({ result: null, errorMessage: 'the answer is not JSON, as returnType STRUCT<name: STRING> needs: A mallard.' });
  });

  it('takes a list of chat messages (system and user turns) as the request, built per row with array(named_struct(...))', async () => {
    openai.reset();
    await c.query(`CREATE TABLE tickets AS SELECT * FROM (VALUES (1, 'My card is blocked'), (2, 'Where is my refund?')) t(id, body)`);
    const r = await c.query(`SELECT id, ai_query('llm', array(named_struct('role', 'system', 'content', 'You answer bank customers in one line.'),
                                                         named_struct('role', 'user', 'content', body))) AS answer
      FROM tickets ORDER BY id`);
    expect(r.rows).toEqual([{ id: 1, answer: 'echo: My card is blocked' }, { id: 2, answer: 'echo: Where is my refund?' }]);
    expect(bodies().map((b) => b['messages']).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)))).toEqual([
      [{ role: 'system', content: 'You answer bank customers in one line.' }, { role: 'user', content: 'My card is blocked' }],
      [{ role: 'system', content: 'You answer bank customers in one line.' }, { role: 'user', content: 'Where is my refund?' }],
    ]);
    // A chat request body's shape works too; an earlier assistant turn goes along.
    const wrapped = await c.query(`SELECT ai_query('llm', named_struct('messages', array(named_struct('role', 'user', 'content', 'hi'),
      named_struct('role', 'assistant', 'content', 'Hello!'), named_struct('role', 'user', 'content', 'Name a duck.')))) AS a`);
    expect(wrapped.rows[0].a).toBe('echo: Name a duck.');
    expect((openai.stats.lastBody!['messages'] as unknown[]).length).toBe(3);
    // A conversation is never served the answer of a text that reads like its JSON.
    const text = await c.query(`SELECT ai_query('llm', '[{"role":"user","content":"hi"}]') AS a`);
    expect(text.rows[0].a).toBe('echo: [{"role":"user","content":"hi"}]');
  });

  it('says which message of a chat request is wrong, per row with failOnError => false; a completion model refuses a conversation', async () => {
    const bad = `array(named_struct('role', 'system', 'content', 'x'), named_struct('role', 'bot', 'content', 'y'))`;
    await expect(c.query(`SELECT ai_query('llm', ${bad})`)).rejects.toMatchObject({ code: '22023', message: 'ai_query: message 2 has the role "bot"; a role is system, user or assistant' });
    const lenient = await c.query(`SELECT ai_query('llm', ${bad}, failOnError => false) AS r`);
    expect(lenient.rows[0].r).toEqual({ result: null, errorMessage: 'message 2 has the role "bot"; a role is system, user or assistant' });
    await expect(c.query(`SELECT ai_query('llm', named_struct('prompt', 'hi'))`)).rejects.toMatchObject({ code: '22023', message: expect.stringContaining('is not a text, or a list of chat messages') });
    await expect(c.query(`SELECT ai_query('completer', array(named_struct('role', 'user', 'content', 'hi')))`)).rejects.toThrow(/completion endpoint .* needs a chat model/);
  });

  it('from_json reads Databricks types, from the JSON text Databricks returns or the STRUCT aiduck returns alike', async () => {
    openai.reset();
    const r = await c.query(`SELECT ai_query('llm', 'ducks', responseFormat => 'STRUCT<answer: STRING, score: INT>') AS typed,
        from_json(ai_query('llm', 'ducks', responseFormat => 'STRUCT<answer: STRING, score: INT>'), 'STRUCT<answer: STRING, score: INT>') AS again,
        from_json(to_json(ai_query('llm', 'ducks', responseFormat => 'STRUCT<answer: STRING, score: INT>')), 'STRUCT<answer: STRING, score: INT>') AS from_text,
        from_json('{"scores": {"a": 0.5, "b": 1.5}, "n": 7}', 'scores MAP<STRING, DOUBLE>, n BIGINT') AS fields`);
    expect(r.rows[0].typed).toEqual({ answer: 'ducks', score: 5 });
    expect(r.rows[0].again).toEqual(r.rows[0].typed);
    expect(r.rows[0].from_text).toEqual(r.rows[0].typed);
    expect(r.rows[0].fields).toEqual({ scores: { a: 0.5, b: 1.5 }, n: 7 });
    await expect(c.query(`SELECT from_json('{"a" 1}', 'STRUCT<a: INT>')`)).rejects.toMatchObject({ code: '22P02' });
    expect((await c.query(`SELECT try(from_json('{"a" 1}', 'STRUCT<a: INT>')) AS v`)).rows[0].v).toBeNull();
  });

  it("responseFormat '{\"type\": \"json_object\"}' asks for any JSON object", async () => {
    openai.reset();
    const r = await c.query(`SELECT ai_query('llm', 'ducks', responseFormat => '{"type": "json_object"}') AS j`);
    expect(openai.stats.lastBody!['response_format']).toEqual({ type: 'json_object' });
    expect(r.rows[0].j).toEqual({ echo: 'ducks' });
  });
});
