import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { startOpenAIServer, type OpenAITestServer } from './helpers/openai-server.js';
import { startRoundRobinProxy, type RoundRobinProxy } from './helpers/round-robin-proxy.js';
import { startTestServer, type TestServer } from './helpers/server.js';

// Scaling out inference: one OpenAI-compatible endpoint in front of two replicas (a serving
// cluster behind its router), a 10,000-row statement, the concurrency set at registration.
describe('a 10,000-row statement against a serving cluster', () => {
  const CONCURRENCY = 16;
  const LATENCY_MS = 5;
  let server: TestServer;
  let replicas: OpenAITestServer[];
  let proxy: RoundRobinProxy;
  let c: pg.Client;

  beforeAll(async () => {
    replicas = [await startOpenAIServer({ latencyMs: LATENCY_MS }), await startOpenAIServer({ latencyMs: LATENCY_MS })];
    proxy = await startRoundRobinProxy(replicas.map((r) => r.url));
    server = await startTestServer();
    c = await server.client();
    await c.query(`SELECT * FROM register_model('cluster_llm', 'openai:${proxy.url}', endpoint_model => 'test-model',
      options => MAP {'max_concurrency': '${CONCURRENCY}'})`);
    await c.query(`CREATE TABLE prompts AS SELECT i AS id, 'prompt ' || i AS p FROM range(10000) t(i)`);
  });
  afterAll(async () => {
    await server?.stop();
    await proxy?.close();
    for (const r of replicas ?? []) await r.close();
  });

  it('spreads its requests over the replicas, exactly max_concurrency at a time, and survives one replica\'s 5xx burst', async () => {
    const BURST = Number(process.env['BURST'] ?? 300);
    replicas[1]!.set({ fail500: BURST });
    const notices: string[] = [];
    c.on('notice', (n) => notices.push(n.message ?? ''));
    const t0 = performance.now();
    await c.query(`CREATE TABLE completions AS SELECT id, ai_query('cluster_llm', p) AS answer FROM prompts`);
    const seconds = (performance.now() - t0) / 1000;

    const r = await c.query(`SELECT count(answer)::INT AS answered, count(DISTINCT answer)::INT AS distinct_answers,
      count(*) FILTER (WHERE answer = 'echo: ' || 'prompt ' || id)::INT AS right_answers FROM completions`);
    expect(r.rows[0]).toEqual({ answered: 10000, distinct_answers: 10000, right_answers: 10000 });
    // Every failed request was retried and answered; none was sent twice otherwise.
    expect(proxy.stats.byStatus[500]).toBe(BURST);
    expect(proxy.stats.byStatus[200]).toBe(10000);
    expect(proxy.stats.requests).toBe(10000 + BURST);
    // Round robin: each replica took half the requests.
    expect(proxy.stats.byReplica[0]).toBe(proxy.stats.requests / 2);
    // The configured concurrency was used, and never exceeded.
    expect(proxy.stats.maxInFlight).toBe(CONCURRENCY);
    expect(notices.some((n) => /^ai_query\(cluster_llm\): retrying after HTTP 500/.test(n))).toBe(true);
    const ideal = CONCURRENCY / (LATENCY_MS / 1000);
    console.log(`10,000 rows in ${seconds.toFixed(2)} s: ${(10000 / seconds).toFixed(0)} rows/s, ` +
      `${((10000 / seconds) / ideal).toFixed(2)} of the ideal ${ideal} rows/s (concurrency / latency), with a ${BURST}-request 5xx burst`);
  }, 120_000);
});
