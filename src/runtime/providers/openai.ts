/**
 * The provider for OpenAI-compatible HTTP endpoints (OpenAI, vLLM, Ollama, LM Studio, llama.cpp, ...):
 * chat and legacy completions for the generation tasks, /embeddings for the embedding task.
 *
 * Every row is one request (embeddings: up to embedBatchSize rows per request); at most maxConcurrency
 * requests of the provider are in flight, whatever the number of concurrent calls. Transient failures
 * are retried; a row that still fails gets `{ ok: false, error }` and the other rows are unaffected.
 * A failure every row would meet (see unavailable.ts) stops the call at once: it rejects with a
 * ModelUnavailable and the requests still in flight or waiting are abandoned.
 */
import { setMaxListeners } from 'node:events';
import { SqlError } from '../../errors/sql-error.js';
import { VERSION } from '../../package.js';
import { chatOf, ModelUnavailable, type GenerateOptions, type ModelSpec, type NoteListener, type Provider, type RowResult, type Task } from '../provider.js';
import { displayUrl, postJson, type PostOutcome, type RequestContext, type RetryInfo } from './openai/http.js';
import { unavailableError, type EndpointIdentity } from './openai/unavailable.js';
import { Limiter } from './openai/limiter.js';
import { checkKeyEnv } from './openai/key-env.js';
import { baseUrl, endpointUrl, resolveOptions, type OpenAIProviderOptions } from './openai/options.js';
import { bodyParameters, toJson, type JsonValue } from './openai/parameters.js';
import { chatText, checkJsonAnswer, completionText, embeddingVectors } from './openai/responses.js';

export { OPENAI_PROVIDER_DEFAULTS, type OpenAIProviderOptions } from './openai/options.js';

/** Tasks answered by POST {base}/chat/completions; 'completion' uses {base}/completions, 'embedding' {base}/embeddings. */
const CHAT_TASKS: ReadonlySet<Task> = new Set<Task>(['chat', 'text-generation', 'summarization', 'text2text-generation']);

/** Statuses of an embeddings request that may come from one bad input: the batch is split to find it. */
const SPLIT_STATUS: ReadonlySet<number> = new Set([400, 413, 422]);

interface Call {
  ctx: RequestContext;
  /** Set once a failure makes further requests of this call pointless; the remaining rows get it as their error. */
  stopped?: string;
  /** Abandons the call: requests in flight and waiting reject with `err`, and so does the call. */
  fail(err: ModelUnavailable): never;
  end(): void;
}

/**
 * Requests in a row that failed after all their retries (429, 5xx, dropped connections) or timed
 * out before the endpoint counts as down, per request in flight allowed: a few unlucky rows stay
 * row errors, an endpoint that answers nothing but errors (or nothing at all) ends the call.
 */
const GIVE_UPS_PER_SLOT = 2;
const MIN_GIVE_UPS = 10;

export function createOpenAIProvider(spec: ModelSpec, options: OpenAIProviderOptions = {}): Provider {
  const label = `${spec.name}/${spec.version}`;
  if (spec.provider !== 'openai') {
    throw new SqlError('22023', `model ${label} is served by the ${spec.provider} provider, not by an OpenAI-compatible endpoint`);
  }
  const chat = CHAT_TASKS.has(spec.task);
  if (!chat && spec.task !== 'completion' && spec.task !== 'embedding') {
    throw new SqlError('0A000', `model ${label}: task '${spec.task}' is not served over OpenAI-compatible HTTP; register the endpoint with task 'chat', 'completion' or 'embedding'`);
  }
  const opts = resolveOptions(options);
  const base = baseUrl(spec);
  const model = spec.endpointModel ?? '';
  if (model === '') {
    throw new SqlError('22023', `model ${label} has no endpoint model name: register it with the name the endpoint knows the model by (e.g. 'llama3.2' for Ollama)`);
  }
  const limiter = new Limiter(opts.maxConcurrency);
  const who: EndpointIdentity = { label, base: displayUrl(base), model, apiKeyEnv: spec.apiKeyEnv || undefined };
  const giveUpLimit = Math.max(MIN_GIVE_UPS, GIVE_UPS_PER_SLOT * opts.maxConcurrency);
  /** Requests that failed after all their retries since the last answer, across calls. */
  let giveUpsInARow = 0;
  const running = new Set<AbortController>();
  let closed = false;
  /** The length of this model's vectors, from the first one received. */
  let dimension: number | undefined;

  function headers(): Record<string, string> {
    const h: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json', 'user-agent': `aiduck/${VERSION}` };
    if (spec.apiKeyEnv !== undefined && spec.apiKeyEnv !== '') {
      checkKeyEnv(spec.apiKeyEnv, opts.allowedKeyEnvs);
      const key = opts.env[spec.apiKeyEnv];
      if (key === undefined || key === '') {
        throw new SqlError('28000', `environment variable ${spec.apiKeyEnv} is not set: model ${label} sends its value as the API key; set it in the environment aiduck runs in, or register the model without an API key variable if the endpoint needs none`);
      }
      h['authorization'] = `Bearer ${key}`;
    }
    return h;
  }

  function startCall(signal: AbortSignal | undefined, onNote: NoteListener | undefined, url: URL): Call {
    if (closed) throw new SqlError('55000', `the provider of model ${label} is closed; load the model again`);
    const cancelled = (): SqlError => Object.assign(new SqlError('57014', `the call to model ${label} was cancelled`), { cause: signal?.reason as unknown });
    if (signal?.aborted) throw cancelled();
    const ctx = { headers: headers(), timeoutMs: opts.timeoutMs, retry: { maxRetries: opts.maxRetries, baseDelayMs: opts.retryBaseDelayMs, maxDelayMs: opts.retryMaxDelayMs } };
    const ctl = new AbortController();
    setMaxListeners(0, ctl.signal); // one listener per request in flight or waiting
    const onAbort = (): void => ctl.abort(cancelled());
    signal?.addEventListener('abort', onAbort, { once: true });
    running.add(ctl);
    onNote?.({ kind: 'start', text: `sending to POST ${displayUrl(url)} (endpoint model '${model}'), up to ${opts.maxConcurrency} requests at a time` });
    const onRetry = onNote === undefined ? {} : {
      onRetry: (r: RetryInfo) =>
        onNote({ kind: 'retry', text: `retrying after ${r.error} (attempt ${r.attempt} of ${r.attempts} in ${(r.delayMs / 1000).toFixed(1)} s)` }),
    };
    const call: Call = {
      ctx: { ...ctx, ...onRetry, limiter, signal: ctl.signal },
      fail(err) {
        call.stopped ??= err.message;
        if (!ctl.signal.aborted) ctl.abort(err);
        throw err;
      },
      end() {
        signal?.removeEventListener('abort', onAbort);
        running.delete(ctl);
      },
    };
    return call;
  }

  /**
   * Runs work(0..count-1), at most maxConcurrency at a time. Each attempt of a request holds a slot
   * of the provider's limiter (see http.ts); a request waiting to retry holds none, so one replica's
   * burst of errors does not idle the slots the others could use.
   */
  async function forEach(count: number, work: (i: number) => Promise<void>): Promise<void> {
    let next = 0;
    const lane = async (): Promise<void> => {
      for (let i = next++; i < count; i = next++) await work(i);
    };
    await Promise.all(Array.from({ length: Math.min(count, opts.maxConcurrency) }, lane));
  }

  /** An answer came: the endpoint is up. */
  function answered(): void {
    giveUpsInARow = 0;
  }

  /**
   * The row error for a failed request. A failure every row would meet fails the whole call (see
   * unavailable.ts), and so does a run of requests that all failed after every retry.
   */
  function failure(call: Call, outcome: PostOutcome & { ok: false }): string {
    const fatal = unavailableError(outcome, who);
    if (fatal) call.fail(fatal);
    if ((outcome.exhausted || outcome.kind === 'timeout') && ++giveUpsInARow >= giveUpLimit) {
      call.fail(new ModelUnavailable('08006', `model ${label}: the endpoint failed ${giveUpsInARow} requests in a row (each after its retries); the last: ${outcome.error}`,
        `the endpoint at ${who.base} is down or overloaded: check it, or lower max_concurrency in the model's options; a re-run computes only the rows that have no answer yet`));
    }
    // A dropped connection past its retries: the other rows of this call would most likely fail alike.
    if (outcome.kind === 'network') call.stopped ??= outcome.error;
    return outcome.error;
  }

  async function generate(inputs: string[], options: GenerateOptions): Promise<Array<RowResult<string>>> {
    const schema = options.responseSchema;
    const params = bodyParameters(options.parameters, schema !== undefined);
    // A bare object schema is "any JSON object": OpenAI's json_object mode (Databricks' responseFormat '{"type": "json_object"}').
    const anyObject = schema !== undefined && schema['type'] === 'object' && schema['properties'] === undefined;
    const responseFormat: JsonValue | undefined = schema === undefined ? undefined
      : anyObject ? { type: 'json_object' }
        : { type: 'json_schema', json_schema: { name: 'response', schema: toJson(schema, 'responseFormat'), strict: true } };
    const url = endpointUrl(base, chat ? 'chat/completions' : 'completions');
    const where = `POST ${displayUrl(url)}`;
    const call = startCall(options.signal, options.onNote, url);
    const results = new Array<RowResult<string>>(inputs.length);
    try {
      await forEach(inputs.length, async (i) => {
        if (call.stopped !== undefined) {
          results[i] = { ok: false, error: call.stopped };
          return;
        }
        const input = inputs[i] ?? '';
        if (options.chat && !chat) {
          results[i] = { ok: false, error: `model ${label} is a completion endpoint (task completion): a list of chat messages needs a chat model; send a text, or register the endpoint with task => 'chat'` };
          return;
        }
        const messages: JsonValue = options.chat ? chatOf(input).map((m) => ({ role: m.role, content: m.content })) : [{ role: 'user', content: input }];
        const body: Record<string, JsonValue> = chat ? { model, ...params, messages } : { model, ...params, prompt: input };
        if (responseFormat !== undefined) body['response_format'] = responseFormat;
        const outcome = await postJson(url, JSON.stringify(body), call.ctx);
        if (!outcome.ok) {
          results[i] = { ok: false, error: failure(call, outcome) };
          return;
        }
        answered();
        const answer = chat ? chatText(outcome.json, where) : completionText(outcome.json, where);
        if (!answer.ok) results[i] = { ok: false, error: answer.error };
        else if (schema !== undefined) results[i] = checkJsonAnswer(answer.value, schema, answer.finishReason);
        else results[i] = { ok: true, value: answer.value };
      });
      return results;
    } finally {
      call.end();
    }
  }

  async function embed(inputs: string[], signal?: AbortSignal, onNote?: NoteListener): Promise<Array<RowResult<Float32Array>>> {
    const url = endpointUrl(base, 'embeddings');
    const where = `POST ${displayUrl(url)}`;
    const call = startCall(signal, onNote, url);
    const results = new Array<RowResult<Float32Array>>(inputs.length);
    const fillError = (rows: number[], error: string): void => {
      for (const i of rows) results[i] = { ok: false, error };
    };

    /** Embeds the rows in one request; on a 400-like answer, halves the batch until the bad rows stand alone. */
    const embedRows = async (rows: number[]): Promise<void> => {
      if (call.stopped !== undefined) return fillError(rows, call.stopped);
      const body = JSON.stringify({ model, input: rows.map((i) => inputs[i] ?? '') });
      const outcome = await postJson(url, body, call.ctx);
      if (!outcome.ok) {
        if (rows.length > 1 && outcome.status !== undefined && SPLIT_STATUS.has(outcome.status) && !unavailableError(outcome, who)) {
          const half = rows.length >> 1;
          await embedRows(rows.slice(0, half));
          return embedRows(rows.slice(half));
        }
        return fillError(rows, failure(call, outcome));
      }
      answered();
      const vectors = embeddingVectors(outcome.json, rows.length, where);
      if (typeof vectors === 'string') return fillError(rows, vectors);
      vectors.forEach((v, k) => {
        const i = rows[k] ?? 0;
        if (v.length === 0) results[i] = { ok: false, error: `${where} returned an empty vector` };
        else if ((dimension ??= v.length) === v.length) results[i] = { ok: true, value: v };
        else {
          results[i] = {
            ok: false,
            error: `${where} returned a vector of ${v.length} dimensions for this row but ${dimension} for earlier rows; every embedding of model ${label} must have the same length`,
          };
        }
      });
    };

    try {
      const size = opts.embedBatchSize;
      await forEach(Math.ceil(inputs.length / size), (b) => {
        const rows = Array.from({ length: Math.min(size, inputs.length - b * size) }, (_, k) => b * size + k);
        return embedRows(rows);
      });
      return results;
    } finally {
      call.end();
    }
  }

  async function close(): Promise<void> {
    closed = true;
    const reason = new SqlError('57P01', `the provider of model ${label} was closed while a call was running`);
    for (const ctl of running) ctl.abort(reason);
    running.clear();
  }

  if (spec.task === 'embedding') return { embed, close };
  return { generate, close };
}
