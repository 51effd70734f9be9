import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { startOpenAIServer, type OpenAITestServer } from './helpers/openai-server.js';
import { startTestServer, type TestServer } from './helpers/server.js';

// Endpoint failures through SQL: what no retry fixes fails the statement within seconds with the
// SQLSTATE a Postgres client expects (failOnError => false too), the rest of the statement stops
// asking that endpoint, and the client hears of the first request and of retries as they happen.
describe('a statement against a failing endpoint', () => {
  let server: TestServer;
  let openai: OpenAITestServer;
  let deadUrl: string;
  let c: pg.Client;
  const notices: Array<{ at: number; message: string }> = [];

  beforeAll(async () => {
    openai = await startOpenAIServer();
    const dead = await startOpenAIServer();
    deadUrl = dead.url;
    await dead.close();
    server = await startTestServer();
    c = await server.client();
    c.on('notice', (n) => notices.push({ at: performance.now(), message: n.message ?? '' }));
    await c.query(`SELECT * FROM register_model('dead', 'openai:${deadUrl}', endpoint_model => 'llama3.2')`);
    await c.query(`SELECT * FROM register_model('nowhere', 'openai:http://aiduck-test.invalid/v1', endpoint_model => 'llama3.2')`);
    await c.query(`SELECT * FROM register_model('llm', 'openai:${openai.url}', endpoint_model => 'test-model', options => MAP {'max_concurrency': '8'})`);
    await c.query(`CREATE TABLE topics AS SELECT i AS id, 'topic ' || i AS topic FROM range(2000) t(i)`);
  });
  afterAll(async () => {
    await server?.stop();
    await openai?.close();
  });

  /** Runs `sql` and returns its error (the statement must fail) and how long it took. */
  async function failing(sql: string): Promise<{ err: pg.DatabaseError; ms: number }> {
    const t0 = performance.now();
    const err = await c.query(sql).then(() => null, (e: pg.DatabaseError) => e);
    expect(err, `${sql} should have failed`).not.toBeNull();
    return { err: err!, ms: performance.now() - t0 };
  }

  for (const failOnError of [true, false]) {
    it(`an endpoint where nothing listens fails a 2,000-row statement in under 10 s with 08001 (failOnError => ${failOnError})`, async () => {
      notices.length = 0;
      const t0 = performance.now();
      const { err, ms } = await failing(`CREATE TABLE answers_${failOnError} AS
        SELECT id, ai_query('dead', 'Write one question about ' || topic, failOnError => ${failOnError}) AS r FROM topics`);
      expect(ms).toBeLessThan(10_000);
      expect(err.code).toBe('08001');
      expect(err.message).toMatch(/^model dead\/1: cannot reach POST http:\/\/127\.0\.0\.1:\d+\/v1\/chat\/completions: fetch failed \(ECONNREFUSED/);
      expect(err.hint).toContain(`reachable from the aiduck server at ${deadUrl}`);
      // The client heard where the requests went before the error came.
      expect(notices[0]?.message).toMatch(/^ai_query\(dead\): sending to POST http:\/\/127\.0\.0\.1:\d+\/v1\/chat\/completions \(endpoint model 'llama3\.2'\), up to 8 requests at a time$/);
      expect(notices[0]!.at - t0).toBeLessThan(ms);
      const table = await c.query(`SELECT count(*)::INT AS n FROM information_schema.tables WHERE table_name = 'answers_${failOnError}'`);
      expect(table.rows[0].n).toBe(0);
    });
  }

  it('a host name that does not resolve fails with 08001 within seconds', async () => {
    const { err, ms } = await failing(`SELECT ai_query('nowhere', topic, failOnError => false) FROM topics`);
    expect(err.code).toBe('08001');
    expect(err.message).toMatch(/aiduck-test\.invalid.*(ENOTFOUND|EAI_AGAIN)/);
    expect(ms).toBeLessThan(10_000);
  });

  it('a refused key fails with 28000 and the endpoint\'s message, and the statement stops sending', async () => {
    openai.reset({ apiKey: 'sk-right' });
    const { err } = await failing(`SELECT ai_query('llm', topic, failOnError => false) FROM topics`);
    expect(err.code).toBe('28000');
    expect(err.message).toMatch(/HTTP 401 Unauthorized from POST .*: Incorrect API key provided/);
    expect(err.hint).toMatch(/AIDUCK_KEY_<NAME>/);
    // The circuit breaker: the requests in flight when the first 401 came (8), and at most one more
    // batch's worth already sent, instead of one request per row.
    expect(openai.stats.requests).toBeLessThanOrEqual(16);
  });

  it('a model name the endpoint does not know fails with 42704 and the endpoint\'s message', async () => {
    openai.reset({ models: ['llama3.2'] });
    const { err } = await failing(`SELECT ai_query('llm', topic) FROM topics`);
    expect(err.code).toBe('42704');
    expect(err.message).toMatch(/HTTP 404 .*The model `test-model` does not exist/);
    expect(err.hint).toMatch(/endpoint model name 'test-model'/);
    expect(openai.stats.requests).toBeLessThanOrEqual(16);
  });

  it('the breaker lasts one statement: once the endpoint is fixed the same statement runs', async () => {
    openai.reset({ models: ['llama3.2'] });
    await failing(`SELECT ai_query('llm', topic) FROM topics WHERE id < 10`);
    openai.reset();
    const r = await c.query(`SELECT count(ai_query('llm', topic))::INT AS n FROM topics WHERE id < 10`);
    expect(r.rows[0].n).toBe(10);
    expect(openai.stats.requests).toBe(10);
  });

  it('a quick question gets no NOTICE; one whose answer takes over a second hears where it went', async () => {
    openai.reset();
    notices.length = 0;
    await c.query(`SELECT ai_query('llm', 'a quick question') AS a`);
    expect(notices).toEqual([]);
    openai.reset({ latencyMs: 1500 });
    await c.query(`SELECT ai_query('llm', 'a slow question') AS a`);
    expect(notices.map((n) => n.message)).toEqual([expect.stringMatching(/^ai_query\(llm\): sending to POST http:\/\/127\.0\.0\.1:\d+\/v1\/chat\/completions/)]);
  });

  it('a 5xx burst is retried: NOTICEs start with the first request and name each retry\'s reason', async () => {
    openai.reset({ fail500: 12, latencyMs: 20 });
    notices.length = 0;
    const t0 = performance.now();
    const r = await c.query(`SELECT count(ai_query('llm', 'burst ' || topic))::INT AS n FROM topics WHERE id < 200`);
    expect(r.rows[0].n).toBe(200);
    const messages = notices.map((n) => n.message);
    // Where the requests go, once for the statement, before any row is done.
    expect(messages.filter((m) => /^ai_query\(llm\): sending to POST/.test(m))).toHaveLength(1);
    expect(notices[0]!.at - t0).toBeLessThan(1000);
    const retries = messages.filter((m) => m.startsWith('ai_query(llm): retrying after HTTP 500 Internal Server Error from POST'));
    expect(retries.length).toBeGreaterThan(0);
    expect(retries[0]).toMatch(/The server had an error while processing your request \(attempt \d of 6 in \d+\.\d s\)$/);
    expect(openai.stats.requests).toBe(212);
  });
});
