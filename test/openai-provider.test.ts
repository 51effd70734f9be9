import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createOpenAIProvider, type OpenAIProviderOptions } from '../src/runtime/providers/openai.js';
import { ModelUnavailable, type GenerateOptions, type ModelSpec, type Provider, type ProviderNote, type Task } from '../src/runtime/provider.js';
import { fakeEmbedding, startOpenAIServer, type OpenAITestServer } from './helpers/openai-server.js';

let server: OpenAITestServer;
const providers: Provider[] = [];

beforeAll(async () => {
  server = await startOpenAIServer();
});
afterAll(async () => {
  await Promise.all(providers.map((p) => p.close()));
  await server.close();
});
beforeEach(() => server.reset());

function spec(task: Task, extra: Partial<ModelSpec> = {}): ModelSpec {
  return { name: 'm', version: 1, task, provider: 'openai', location: server.url, endpointModel: 'test-model', ...extra };
}

/** A provider with fast retries, closed after the tests. */
function provider(task: Task = 'chat', options: OpenAIProviderOptions = {}, extra: Partial<ModelSpec> = {}): Provider {
  const p = createOpenAIProvider(spec(task, extra), { retryBaseDelayMs: 1, ...options });
  providers.push(p);
  return p;
}

function generate(p: Provider, inputs: string[], options: Partial<GenerateOptions> = {}) {
  if (!p.generate) throw new Error('provider has no generate');
  return p.generate(inputs, { parameters: {}, ...options });
}

const oks = <T>(rows: Array<{ ok: true; value: T } | { ok: false; error: string }>): T[] =>
  rows.map((r) => {
    if (!r.ok) throw new Error(`row failed: ${r.error}`);
    return r.value;
  });

describe('generate', () => {
  it('chat: one chat/completions request per row, answers in input order', async () => {
    const rows = await generate(provider('chat'), ['hello', 'world', 'third']);
    expect(oks(rows)).toEqual(['echo: hello', 'echo: world', 'echo: third']);
    expect(server.stats.byPath).toEqual({ '/v1/chat/completions': 3 });
    expect(server.stats.lastBody).toMatchObject({ model: 'test-model', messages: [{ role: 'user' }] });
    expect(server.stats.lastBody).not.toHaveProperty('prompt');
  });

  it('summarization and text-generation models also use chat/completions', async () => {
    expect(oks(await generate(provider('summarization'), ['doc']))).toEqual(['echo: doc']);
    expect(server.stats.byPath).toEqual({ '/v1/chat/completions': 1 });
  });

  it('completion: completions with a prompt', async () => {
    const rows = await generate(provider('completion'), ['once upon', 'a time']);
    expect(oks(rows)).toEqual(['completion: once upon', 'completion: a time']);
    expect(server.stats.byPath).toEqual({ '/v1/completions': 2 });
    expect(server.stats.lastBody).toMatchObject({ model: 'test-model' });
    expect(server.stats.lastBody).not.toHaveProperty('messages');
  });

  it('passes parameters through into the body', async () => {
    const parameters = { temperature: 0.2, max_tokens: 7n, top_p: 0.9, stop: ['\n', 'END'], logit_bias: { '50256': -100 }, seed: null };
    await generate(provider(), ['x'], { parameters });
    expect(server.stats.lastBody).toEqual({
      model: 'test-model', temperature: 0.2, max_tokens: 7, top_p: 0.9, stop: ['\n', 'END'], logit_bias: { '50256': -100 }, seed: null,
      messages: [{ role: 'user', content: 'x' }],
    });
  });

  it('rejects parameters it cannot send, naming them, before any request', async () => {
    const p = provider();
    await expect(generate(p, ['x'], { parameters: { temperature: new Date() } })).rejects.toThrow(/model parameter 'temperature'.*Date/);
    await expect(generate(p, ['x'], { parameters: { stop: ['a', Symbol('b')] } })).rejects.toThrow(/model parameter 'stop\[1\]'/);
    await expect(generate(p, ['x'], { parameters: { top_p: Number.NaN } })).rejects.toThrow(/model parameter 'top_p'/);
    await expect(generate(p, ['x'], { parameters: { model: 'other' } })).rejects.toThrow(/'model' cannot be set/);
    await expect(generate(p, ['x'], { parameters: { n: 3 } })).rejects.toThrow(/'n' must be 1/);
    expect(server.stats.requests).toBe(0);
  });

  it('json_schema response format: sent with strict, answers checked as JSON', async () => {
    server.set({ notJsonFor: 'chatty' });
    const schema = { type: 'object', properties: { topic: { type: 'string' }, length: { type: 'integer' } }, required: ['topic', 'length'] };
    const rows = await generate(provider(), ['billing', 'chatty', 'shipping'], { responseSchema: schema });
    expect(server.stats.lastBody?.['response_format']).toEqual({ type: 'json_schema', json_schema: { name: 'response', schema, strict: true } });
    expect(rows[0]).toEqual({ ok: true, value: '{"topic":"billing","length":7}' });
    expect(JSON.parse((rows[2] as { value: string }).value)).toEqual({ topic: 'shipping', length: 8 });
    expect(rows[1]).toMatchObject({ ok: false, error: expect.stringMatching(/not the JSON that responseFormat asks for: Sure!/) });
  });

  it('a JSON answer lacking a required property is a row error', async () => {
    const schema = { type: 'object', properties: { a: { type: 'string' } }, required: ['a', 'b'] };
    const [row] = await generate(provider(), ['x'], { responseSchema: schema });
    expect(row).toMatchObject({ ok: false, error: expect.stringMatching(/lacks the required property b/) });
  });
});

describe('embed', () => {
  it('sub-batches the inputs and orders vectors by the returned index', async () => {
    const p = provider('embedding', { embedBatchSize: 4 });
    expect(p.generate).toBeUndefined();
    const inputs = Array.from({ length: 10 }, (_, i) => `text ${i}`);
    const rows = await p.embed!(inputs);
    const vectors = oks(rows);
    for (const [i, v] of vectors.entries()) {
      expect(v).toBeInstanceOf(Float32Array);
      expect(Array.from(v)).toEqual(Array.from(Float32Array.from(fakeEmbedding(`text ${i}`, 8))));
    }
    expect(server.stats.byPath).toEqual({ '/v1/embeddings': 3 });
    expect(server.stats.bodies.map((b) => (b['input'] as string[]).length).sort()).toEqual([2, 4, 4]);
    expect(server.stats.lastBody).toMatchObject({ model: 'test-model' });
  });

  it('a 400 caused by one input fails that row only (the batch is split to find it)', async () => {
    server.set({ badInput: 'poison' });
    const inputs = ['a', 'b', 'c', 'poison', 'e', 'f', 'g', 'h'];
    const rows = await provider('embedding').embed!(inputs);
    expect(rows.map((r) => r.ok)).toEqual([true, true, true, false, true, true, true, true]);
    expect(rows[3]).toMatchObject({ error: expect.stringMatching(/HTTP 400.*input 'poison' is not allowed/) });
    expect(server.stats.requests).toBeLessThanOrEqual(1 + 2 * Math.log2(inputs.length));
  });

  it('a vector whose length differs from the others is a row error', async () => {
    server.set({ shortVectorFor: 'odd' });
    const rows = await provider('embedding').embed!(['a', 'b', 'odd', 'd']);
    expect(rows.map((r) => r.ok)).toEqual([true, true, false, true]);
    expect(rows[2]).toMatchObject({ error: expect.stringMatching(/7 dimensions for this row but 8/) });
  });
});

describe('failures and retries', () => {
  it('retries 429s (Retry-After: 0) until they pass', async () => {
    server.set({ fail429: 3 });
    const rows = await generate(provider('chat', { maxConcurrency: 1 }), ['a', 'b']);
    expect(oks(rows)).toEqual(['echo: a', 'echo: b']);
    expect(server.stats.requests).toBe(5);
  });

  it('honours Retry-After seconds', async () => {
    server.set({ fail429: 1, retryAfter: '1' });
    const t0 = performance.now();
    expect(oks(await generate(provider(), ['a']))).toEqual(['echo: a']);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(950);
  });

  it('retries 500s', async () => {
    server.set({ fail500: 2 });
    expect(oks(await generate(provider('chat', { maxConcurrency: 1 }), ['a']))).toEqual(['echo: a']);
    expect(server.stats.requests).toBe(3);
  });

  it('exhausted retries give row errors with the status and the endpoint message', async () => {
    server.set({ fail500: 1000 });
    const rows = await generate(provider('chat', { maxRetries: 2 }), ['a', 'b']);
    for (const row of rows) {
      expect(row).toMatchObject({ ok: false, error: expect.stringMatching(/HTTP 500.*had an error.*gave up after 3 attempts/) });
    }
    expect(server.stats.requests).toBe(6);
  });

  it('a 400 on one row leaves the others ok and is not retried', async () => {
    server.set({ badInput: 'bad' });
    const rows = await generate(provider(), ['a', 'bad', 'c']);
    expect(rows[0]).toEqual({ ok: true, value: 'echo: a' });
    expect(rows[1]).toMatchObject({ ok: false, error: expect.stringMatching(/^HTTP 400 Bad Request from POST http:\/\/127\.0\.0\.1:\d+\/v1\/chat\/completions: input 'bad' is not allowed$/) });
    expect(rows[2]).toEqual({ ok: true, value: 'echo: c' });
    expect(server.stats.requests).toBe(3);
  });

  it('a slow endpoint gives row errors once the timeout passes', async () => {
    server.set({ latencyMs: 3000 });
    const t0 = performance.now();
    const rows = await generate(provider('chat', { timeoutMs: 200 }), ['a', 'b']);
    const elapsed = performance.now() - t0;
    expect(elapsed).toBeGreaterThanOrEqual(190);
    expect(elapsed).toBeLessThan(1000);
    for (const row of rows) expect(row).toMatchObject({ ok: false, error: expect.stringMatching(/within 200 ms/) });
    expect(server.stats.requests).toBe(2);
  });

  it('retries dropped connections', async () => {
    server.set({ dropConnections: 2 });
    expect(oks(await generate(provider('chat', { maxConcurrency: 1 }), ['a', 'b']))).toEqual(['echo: a', 'echo: b']);
    expect(server.stats.requests).toBe(4);
  });

  it('network errors past the retries: row errors, and the call stops sending after the first such row', async () => {
    server.set({ dropConnections: 1000 });
    const rows = await generate(provider('chat', { maxRetries: 1, maxConcurrency: 1 }), ['a', 'b', 'c']);
    for (const row of rows) expect(row).toMatchObject({ ok: false, error: expect.stringMatching(/cannot reach POST .*gave up after 2 attempts/) });
    expect(server.stats.requests).toBe(2);
  });

  it('an endpoint where nothing listens fails the call at once with 08001, without retries', async () => {
    const closed = await startOpenAIServer();
    await closed.close();
    const inputs = Array.from({ length: 200 }, (_, i) => `q${i}`);
    const t0 = performance.now();
    const call = generate(provider('chat', { retryBaseDelayMs: 10_000 }, { location: closed.url }), inputs);
    await expect(call).rejects.toBeInstanceOf(ModelUnavailable);
    await expect(call).rejects.toMatchObject({
      code: '08001',
      message: expect.stringMatching(/^model m\/1: cannot reach POST http:\/\/127\.0\.0\.1:\d+\/v1\/chat\/completions: fetch failed \(ECONNREFUSED/),
      hint: expect.stringContaining(`reachable from the aiduck server at ${closed.url}`),
    });
    // A retry would have waited 5 s or more.
    expect(performance.now() - t0).toBeLessThan(2000);
  });

  it('a host name that does not resolve fails the call with 08001 (ENOTFOUND)', async () => {
    const call = generate(provider('chat', { retryBaseDelayMs: 10_000 }, { location: 'http://aiduck-test.invalid/v1' }), ['a', 'b', 'c']);
    await expect(call).rejects.toMatchObject({ code: '08001', message: expect.stringMatching(/aiduck-test\.invalid.*(ENOTFOUND|EAI_AGAIN)/) });
  });

  it('a port fetch refuses to use is 08001 with a hint that says so', async () => {
    const call = generate(provider('chat', {}, { location: 'http://127.0.0.1:6000/v1' }), ['a']);
    await expect(call).rejects.toMatchObject({ code: '08001', hint: expect.stringMatching(/refuses to connect to this port/) });
  });

  it('an endpoint that answers nothing but 5xx after retries ends the call with 08006 once it has failed many requests in a row', async () => {
    server.set({ fail500: 100_000 });
    const inputs = Array.from({ length: 200 }, (_, i) => `q${i}`);
    const call = generate(provider('chat', { maxRetries: 1, maxConcurrency: 2 }), inputs);
    await expect(call).rejects.toMatchObject({ code: '08006', message: expect.stringMatching(/failed 10 requests in a row.*HTTP 500/) });
    // 10 requests of 2 attempts each, and at most the other slot's request in flight.
    expect(server.stats.requests).toBeLessThanOrEqual(22);
    // A request sent just before the call failed may reach the server only now, on a loaded machine:
    // let them all land, so that the next test's server counts only its own.
    let seen = -1;
    await expect.poll(() => {
      const quiet = server.stats.requests === seen && server.stats.inFlight === 0;
      seen = server.stats.requests;
      return quiet;
    }, { interval: 300, timeout: 5000 }).toBe(true);
  });

  it('a few rows that fail after their retries stay row errors: an answer in between resets the count', async () => {
    const p = provider('chat', { maxRetries: 0, maxConcurrency: 1 });
    for (let round = 0; round < 4; round++) {
      server.set({ fail500: 5 });
      const rows = await generate(p, ['a', 'b', 'c', 'd', 'e', 'f']);
      expect(rows.map((r) => r.ok)).toEqual([false, false, false, false, false, true]);
    }
  });

  it('reports the first request and each retry with its reason to onNote', async () => {
    server.set({ fail500: 2 });
    const notes: ProviderNote[] = [];
    expect(oks(await generate(provider('chat', { maxConcurrency: 1 }), ['a'], { onNote: (n) => notes.push(n) }))).toEqual(['echo: a']);
    expect(notes.map((n) => n.kind)).toEqual(['start', 'retry', 'retry']);
    expect(notes[0]!.text).toMatch(/^sending to POST http:\/\/127\.0\.0\.1:\d+\/v1\/chat\/completions \(endpoint model 'test-model'\), up to 1 requests at a time$/);
    expect(notes[1]!.text).toMatch(/^retrying after HTTP 500 .*had an error.* \(attempt 2 of 6 in \d+\.\d s\)$/);
    expect(notes[2]!.text).toMatch(/\(attempt 3 of 6 in/);
  });
});

describe('cancellation and concurrency', () => {
  it('an AbortSignal stops a call at once, in-flight requests included', async () => {
    server.set({ latencyMs: 5000 });
    const ctl = new AbortController();
    const t0 = performance.now();
    const call = generate(provider(), ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j'], { signal: ctl.signal });
    setTimeout(() => ctl.abort(), 100);
    await expect(call).rejects.toMatchObject({ code: '57014', message: expect.stringMatching(/cancelled/) });
    expect(performance.now() - t0).toBeLessThan(600);
    await expect.poll(() => server.stats.inFlight, { timeout: 1000 }).toBe(0);
    expect(server.stats.aborted).toBe(8);
  });

  it('an AbortSignal also cuts a pending retry short', async () => {
    server.set({ fail500: 1000 });
    const ctl = new AbortController();
    const t0 = performance.now();
    const call = generate(provider('chat', { retryBaseDelayMs: 10_000 }), ['a'], { signal: ctl.signal });
    setTimeout(() => ctl.abort(), 100);
    await expect(call).rejects.toMatchObject({ code: '57014' });
    expect(performance.now() - t0).toBeLessThan(600);
    expect(server.stats.requests).toBe(1);
  });

  it('close() aborts calls in flight and refuses new ones', async () => {
    server.set({ latencyMs: 5000 });
    const p = createOpenAIProvider(spec('chat'));
    const call = generate(p, ['a', 'b']);
    await expect.poll(() => server.stats.inFlight).toBe(2);
    await p.close();
    await expect(call).rejects.toThrow(/closed while a call was running/);
    await expect(generate(p, ['a'])).rejects.toThrow(/is closed/);
  });

  it('never has more than maxConcurrency requests in flight, across concurrent calls too', async () => {
    server.set({ latencyMs: 30 });
    const p = provider('chat', { maxConcurrency: 3 });
    const inputs = Array.from({ length: 24 }, (_, i) => `q${i}`);
    expect(oks(await generate(p, inputs))).toEqual(inputs.map((q) => `echo: ${q}`));
    expect(server.stats.maxInFlight).toBe(3);
    server.reset({ latencyMs: 30 });
    const both = await Promise.all([generate(p, inputs), generate(p, inputs)]);
    expect(both.flat().every((r) => r.ok)).toBe(true);
    expect(server.stats.maxInFlight).toBe(3);
    expect(server.stats.requests).toBe(48);
  });
});

describe('API key', () => {
  const name = 'AIDUCK_KEY_TEST_OPENAI';

  it('sends the key from the environment variable, read at call time', async () => {
    server.set({ apiKey: 'sk-secret' });
    const p = provider('chat', { maxConcurrency: 2 }, { apiKeyEnv: name });
    process.env[name] = 'sk-secret';
    try {
      expect(oks(await generate(p, ['a']))).toEqual(['echo: a']);
      expect(server.stats.authorizations).toEqual(['Bearer sk-secret']);
      process.env[name] = 'sk-wrong';
      const call = generate(p, ['a', 'b', 'c', 'd', 'e', 'f']);
      await expect(call).rejects.toMatchObject({
        code: '28000',
        message: expect.stringMatching(/HTTP 401.*Incorrect API key/),
        hint: expect.stringMatching(/check the API key in environment variable AIDUCK_KEY_TEST_OPENAI/),
      });
      const err = await call.catch((e: unknown) => e);
      expect(JSON.stringify({ ...(err as object), message: (err as Error).message })).not.toContain('sk-wrong');
      // every row would fail alike: the call stops sending after the first 401s
      expect(server.stats.requests).toBe(1 + 2);
    } finally {
      delete process.env[name];
    }
  });

  it('an unset variable is a clear error and nothing is sent', async () => {
    const p = provider('chat', {}, { apiKeyEnv: name });
    await expect(generate(p, ['a'])).rejects.toThrow(/environment variable AIDUCK_KEY_TEST_OPENAI is not set/);
    await expect(provider('embedding', {}, { apiKeyEnv: name }).embed!(['a'])).rejects.toMatchObject({ code: '28000' });
    expect(server.stats.requests).toBe(0);
  });

  it('the env option replaces process.env; a variable outside AIDUCK_KEY_* is read only when the operator allowed it', async () => {
    server.set({ apiKey: 'k2' });
    const p = provider('chat', { env: { OTHER_KEY: 'k2' }, allowedKeyEnvs: ['OTHER_KEY'] }, { apiKeyEnv: 'OTHER_KEY' });
    expect(oks(await generate(p, ['a']))).toEqual(['echo: a']);
    const before = server.stats.requests;
    const refused = provider('chat', { env: { OTHER_KEY: 'k2' } }, { apiKeyEnv: 'OTHER_KEY' });
    await expect(generate(refused, ['a'])).rejects.toMatchObject({ code: '42501', hint: expect.stringContaining('--allow-key-env OTHER_KEY') });
    const own = provider('chat', { env: { AIDUCK_PASSWORD: 'secret' }, allowedKeyEnvs: ['AIDUCK_PASSWORD'] }, { apiKeyEnv: 'AIDUCK_PASSWORD' });
    await expect(generate(own, ['a'])).rejects.toMatchObject({ code: '42501' });
    expect(server.stats.requests).toBe(before);
  });
});

describe('creation', () => {
  it('refuses specs it cannot serve, saying what to change', () => {
    expect(() => createOpenAIProvider(spec('zero-shot-classification'))).toThrow(/task 'zero-shot-classification' is not served.*'chat', 'completion' or 'embedding'/);
    expect(() => createOpenAIProvider(spec('chat', { location: 'localhost:11434' }))).toThrow(/must start with http/);
    expect(() => createOpenAIProvider(spec('chat', { location: 'http://u:p@127.0.0.1/v1' }))).toThrow(/contains credentials/);
    expect(() => createOpenAIProvider(spec('chat', { endpointModel: '' }))).toThrow(/no endpoint model name/);
    expect(() => createOpenAIProvider(spec('chat'), { maxConcurrency: 0 })).toThrow(/maxConcurrency must be a positive integer/);
  });

  it('a wrong base URL fails the call with 42704 and a hint to check it', async () => {
    const call = generate(provider('chat', {}, { location: server.url.replace(/\/v1$/, '') }), ['a', 'b']);
    await expect(call).rejects.toMatchObject({ code: '42704', message: expect.stringMatching(/HTTP 404/), hint: expect.stringMatching(/check the base URL .*\/v1/) });
  });

  it('a model name the endpoint does not know fails the call with 42704 and the endpoint\'s message (404, or 400 as LiteLLM answers)', async () => {
    for (const status of [404, 400]) {
      server.reset({ models: ['llama3.2'], unknownModelStatus: status });
      const call = generate(provider('chat'), Array.from({ length: 50 }, (_, i) => `q${i}`));
      await expect(call).rejects.toMatchObject({ code: '42704', message: expect.stringMatching(/The model `test-model` does not exist/), hint: expect.stringMatching(/endpoint model name 'test-model'/) });
      expect(server.stats.requests).toBeLessThanOrEqual(8);
      const embed = provider('embedding', { embedBatchSize: 4 }).embed!(Array.from({ length: 40 }, (_, i) => `t${i}`));
      await expect(embed).rejects.toMatchObject({ code: '42704' });
    }
  });

  it('a 403 fails the call with 28000', async () => {
    server.set({ forbidden: true });
    await expect(generate(provider('chat'), ['a'])).rejects.toMatchObject({ code: '28000', message: expect.stringMatching(/HTTP 403.*not allowed to use this model/) });
  });
});
