import { setMaxListeners } from 'node:events';
import { workerData } from 'node:worker_threads';
import { toWire, type WireError } from '../errors/wire.js';
import type { FromRuntime, ProbeOp, RuntimeOp, RuntimeOptions, RuntimeValue, ToRuntime } from './messages.js';
import { ModelUnavailable, type ModelSpec, type NoteListener, type Provider, type ProviderNote, type RowResult } from './provider.js';
import { callNotes } from './call-notes.js';
import { createBuiltinProvider } from './providers/builtin.js';
import { createOnnxProvider } from './providers/onnx.js';
import { createLlamaProvider } from './providers/llama.js';
import { createFewShotProvider } from './providers/fewshot.js';
import { createOpenAIProvider } from './providers/openai.js';
import type { OpenAIProviderOptions } from './providers/openai/options.js';
import { ResultCache, type CachedValue } from './result-cache.js';
import { modelIdentity, opScope } from './op-scope.js';
import { loadedOnce } from './loaded-once.js';

/**
 * The model runtime thread: providers (loaded once per model version and kept), the result
 * cache, and cancellation. Engine-side SQL functions post it batches and wait for the reply.
 */
const options = workerData as RuntimeOptions;
const port = options.port;
const signal = new Int32Array(options.signal);
const providers = new Map<string, Promise<Provider>>();
const caches = new Map<string, ResultCache>();
/** Running calls by session, so a cancel aborts that session's work. */
const running = new Map<number, Set<AbortController>>();

function createProvider(spec: ModelSpec): Promise<Provider> {
  switch (spec.provider) {
    case 'builtin': return Promise.resolve(createBuiltinProvider(spec.location));
    case 'openai': return Promise.resolve(createOpenAIProvider(spec, openAIOptions(spec.options)));
    case 'fewshot': return Promise.resolve(createFewShotProvider(spec, providerFor));
    case 'onnx': return createOnnxProvider(spec);
    case 'llama': case 'lora': return createLlamaProvider(spec);
  }
}

function providerFor(spec: ModelSpec): Promise<Provider> {
  return loadedOnce(providers, modelIdentity(spec), () => createProvider(spec));
}

/** register_model's options (strings) as the OpenAI provider's options. */
function openAIOptions(o: Record<string, string> | undefined): OpenAIProviderOptions {
  const out: OpenAIProviderOptions = { allowedKeyEnvs: options.allowedKeyEnvs };
  if (o?.['max_concurrency']) out.maxConcurrency = Number(o['max_concurrency']);
  if (o?.['timeout_ms']) out.timeoutMs = Number(o['timeout_ms']);
  if (o?.['max_retries']) out.maxRetries = Number(o['max_retries']);
  return out;
}

function cacheFor(spec: ModelSpec): ResultCache {
  const key = modelIdentity(spec);
  let c = caches.get(key);
  if (!c) caches.set(key, (c = new ResultCache(options.cacheDir, key)));
  return c;
}

async function compute(work: RuntimeOp, provider: Provider, inputs: string[], abort: AbortSignal, onNote: NoteListener): Promise<Array<RowResult<RuntimeValue>>> {
  const unsupported = (what: string): Error =>
    new Error(`model ${work.spec.name}/${work.spec.version} (task ${work.spec.task}, provider ${work.spec.provider}) cannot ${what}`);
  switch (work.op) {
    case 'embed':
      if (!provider.embed) throw unsupported('embed text: register an embedding model');
      return provider.embed(inputs, abort, onNote);
    case 'generate': {
      if (!provider.generate) throw unsupported('generate text: use ai_embed or ai_classify with it, or register a generative model');
      const o = { parameters: work.parameters, signal: abort, onNote, ...(work.responseSchema ? { responseSchema: work.responseSchema } : {}), ...(work.chat ? { chat: true } : {}) };
      return provider.generate(inputs, o);
    }
    case 'classify':
      if (!provider.classify) throw unsupported('classify text: register a zero-shot-classification or text-classification model');
      return provider.classify(inputs, { labels: work.labels, multiLabel: work.multiLabel, hypothesisTemplate: work.hypothesisTemplate, signal: abort });
    case 'count_tokens':
      if (!provider.countTokens) throw unsupported('count tokens: chunk by the tokens of a local model (ONNX folder or builtin)');
      return provider.countTokens(inputs);
  }
}

/**
 * Rows per cached slice: small for HTTP (a request is one row, or 256 for embeddings), the whole
 * batch for local models, which sort and pad it best in one piece.
 */
function sliceSize(work: RuntimeOp): number {
  if (work.spec.provider === 'openai') return work.op === 'generate' ? 8 : 256;
  return work.op === 'generate' ? 64 : work.inputs.length;
}

/**
 * Loads a model apart from the kept ones and lets it go: registration checks that it runs. An
 * embedding model embeds one text, and its vector length is the answer; other models answer 0.
 */
async function probe(work: ProbeOp): Promise<FromRuntime & { t: 'reply' }> {
  const provider = await createProvider(work.spec);
  try {
    if (!provider.embed) return { t: 'reply', id: 0, results: [{ ok: true, value: '0' }] };
    const [r] = await provider.embed(['aiduck probe']);
    if (!r?.ok) throw new Error(r?.error ?? 'no vector came back');
    return { t: 'reply', id: 0, results: [{ ok: true, value: String((r.value as Float32Array).length) }] };
  } finally {
    await provider.close();
  }
}

async function call(id: number, sid: number, work: RuntimeOp): Promise<FromRuntime & { t: 'reply' }> {
  const cache = cacheFor(work.spec);
  const scope = opScope(work);
  const keys = work.inputs.map((input) => ResultCache.key(scope, input));
  const results = new Array<RowResult<RuntimeValue>>(work.inputs.length);
  const missing: number[] = [];
  keys.forEach((k, i) => {
    const hit = cache.get(k);
    if (hit !== undefined) results[i] = { ok: true, value: hit };
    else missing.push(i);
  });
  if (missing.length < work.inputs.length) progress(id, work.inputs.length - missing.length, work.inputs.length - missing.length);
  if (missing.length) {
    const abort = new AbortController();
    // Every slice and request of the batch listens to this one signal.
    setMaxListeners(0, abort.signal);
    let set = running.get(sid);
    if (!set) running.set(sid, (set = new Set()));
    set.add(abort);
    const notes = callNotes(missing.length, (note) => progress(id, 0, 0, note));
    try {
      const provider = await providerFor(work.spec);
      // Slices run together (the provider bounds its own concurrency) and each is cached as soon
      // as it is done, so a cancelled or crashed job keeps what it finished. A slice that finds the
      // model unavailable stops the others: they would only meet the same failure.
      const size = sliceSize(work);
      const slices: number[][] = [];
      for (let k = 0; k < missing.length; k += size) slices.push(missing.slice(k, k + size));
      await Promise.all(slices.map(async (slice) => {
        const got = await compute(work, provider, slice.map((i) => work.inputs[i]!), abort.signal, notes.listener).catch((err: unknown) => {
          if (err instanceof ModelUnavailable && !abort.signal.aborted) abort.abort(err);
          throw err;
        });
        const fresh: Array<[string, CachedValue]> = [];
        progress(id, slice.length, 0);
        slice.forEach((i, j) => {
          const r = got[j] ?? { ok: false, error: 'the model returned fewer results than inputs' };
          results[i] = r;
          if (r.ok) fresh.push([keys[i]!, r.value]);
        });
        cache.putAll(fresh);
      }));
      if (abort.signal.aborted) return { t: 'reply', id: 0, error: { code: '57014', message: 'canceling statement due to user request' } };
    } finally {
      notes.end();
      set.delete(abort);
    }
  }
  return { t: 'reply', id: 0, results, cached: work.inputs.length - missing.length };
}

const inFlight = new Set<Promise<unknown>>();

function track<T>(work: Promise<T>): Promise<T> {
  inFlight.add(work);
  void work.finally(() => inFlight.delete(work)).catch(() => undefined);
  return work;
}

function progress(id: number, rows: number, cached: number, note?: ProviderNote): void {
  port.postMessage({ t: 'progress', id, rows, cached, ...(note === undefined ? {} : { note }) } satisfies FromRuntime);
}

/** A failed call's error as it crosses to the engine thread: its SQLSTATE, and whether the model is unavailable. */
function callError(err: unknown): WireError & { unavailable?: boolean } {
  return { ...toWire(err), ...(err instanceof ModelUnavailable ? { unavailable: true } : {}) };
}

function reply(m: FromRuntime): void {
  port.postMessage(m);
  Atomics.add(signal, 0, 1);
  Atomics.notify(signal, 0);
}

port.on('message', (m: ToRuntime) => {
  switch (m.t) {
    case 'probe':
      probe(m.work).then(
        (r) => reply({ ...r, id: m.id }),
        (err: unknown) => reply({ t: 'reply', id: m.id, error: callError(err) }),
      );
      break;
    case 'call':
      track(call(m.id, m.sid, m.work)).then(
        (r) => reply({ ...r, id: m.id }),
        (err: unknown) => reply({ t: 'reply', id: m.id, error: callError(err) }),
      );
      break;
    case 'cancel':
      for (const a of running.get(m.sid) ?? []) a.abort();
      break;
    case 'shutdown':
      // Work still running is stopped and awaited: the thread must not end while onnxruntime runs in it.
      for (const set of running.values()) for (const a of set) a.abort();
      void Promise.allSettled([...inFlight])
        .then(() => Promise.allSettled([...providers.values()].map(async (p) => (await p).close())))
        .then(() => reply({ t: 'stopped' }));
      break;
  }
});
