/**
 * The provider for OpenAI-compatible HTTP endpoints (OpenAI, vLLM, Ollama, LM Studio, llama.cpp, ...):
 * chat and legacy completions for the generation tasks, /embeddings for the embedding task.
 *
 * Every row is one request (embeddings: up to embedBatchSize rows per request); at most maxConcurrency
 * requests of the provider are in flight, whatever the number of concurrent calls. Transient failures
 * are retried; a row that still fails gets `{ ok: false, error }` and the other rows are unaffected.
 */
import { setMaxListeners } from 'node:events';
import { SqlError } from '../../errors/sql-error.js';
import { VERSION } from '../../package.js';
import type { GenerateOptions, ModelSpec, Provider, RowResult, Task } from '../provider.js';
import { displayUrl, postJson, type PostOutcome, type RequestContext } from './openai/http.js';
import { Limiter } from './openai/limiter.js';
import { checkKeyEnv } from './openai/key-env.js';
import { baseUrl, endpointUrl, resolveOptions, type OpenAIProviderOptions } from './openai/options.js';
import { bodyParameters, toJson, type JsonValue } from './openai/parameters.js';
import { chatText, checkJsonAnswer, completionText, embeddingVectors } from './openai/responses.js';

export { OPENAI_PROVIDER_DEFAULTS, type OpenAIProviderOptions } from './openai/options.js';

/** Tasks answered by POST {base}/chat/completions; 'completion' uses {base}/completions, 'embedding' {base}/embeddings. */
const CHAT_TASKS: ReadonlySet<Task> = new Set<Task>(['chat', 'text-generation', 'summarization', 'text2text-generation']);

/** HTTP statuses that would be the same for every row: the rest of the call is not sent. */
const CALL_WIDE_STATUS: ReadonlySet<number> = new Set([401, 403, 404]);

/** Statuses of an embeddings request that may come from one bad input: the batch is split to find it. */
const SPLIT_STATUS: ReadonlySet<number> = new Set([400, 413, 422]);

interface Call {
  ctx: RequestContext;
  /** Set once a failure makes further requests of this call pointless; the remaining rows get it as their error. */
  stopped?: string;
  end(): void;
}

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

  function startCall(signal: AbortSignal | undefined): Call {
    if (closed) throw new SqlError('55000', `the provider of model ${label} is closed; load the model again`);
    const cancelled = (): SqlError => Object.assign(new SqlError('57014', `the call to model ${label} was cancelled`), { cause: signal?.reason as unknown });
    if (signal?.aborted) throw cancelled();
    const ctx = { headers: headers(), timeoutMs: opts.timeoutMs, retry: { maxRetries: opts.maxRetries, baseDelayMs: opts.retryBaseDelayMs, maxDelayMs: opts.retryMaxDelayMs } };
    const ctl = new AbortController();
    setMaxListeners(0, ctl.signal); // one listener per request in flight or waiting
    const onAbort = (): void => ctl.abort(cancelled());
    signal?.addEventListener('abort', onAbort, { once: true });
    running.add(ctl);
    return {
      ctx: { ...ctx, signal: ctl.signal },
      end() {
        signal?.removeEventListener('abort', onAbort);
        running.delete(ctl);
      },
    };
  }

  /** Runs work(0..count-1), at most maxConcurrency at a time, each holding a slot of the provider's limiter. */
  async function forEach(count: number, call: Call, work: (i: number) => Promise<void>): Promise<void> {
    let next = 0;
    const lane = async (): Promise<void> => {
      for (let i = next++; i < count; i = next++) {
        const release = await limiter.acquire(call.ctx.signal);
        try {
          await work(i);
        } finally {
          release();
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(count, opts.maxConcurrency) }, lane));
  }

  /** The row error for a failed request, with what to check; stops the call when every row would fail alike. */
  function failure(call: Call, outcome: PostOutcome & { ok: false }): string {
    let error = outcome.error;
    if (outcome.status === 401 || outcome.status === 403) {
      error += spec.apiKeyEnv
        ? ` (check the API key in environment variable ${spec.apiKeyEnv})`
        : ' (the endpoint wants an API key: register the model with the name of an environment variable holding it)';
    } else if (outcome.status === 404) {
      error += ` (check the base URL ${displayUrl(base)} — most servers serve the API under /v1 — and the endpoint model name '${model}')`;
    }
    if (outcome.kind === 'network' || (outcome.status !== undefined && CALL_WIDE_STATUS.has(outcome.status))) call.stopped ??= error;
    return error;
  }

  async function generate(inputs: string[], options: GenerateOptions): Promise<Array<RowResult<string>>> {
    const schema = options.responseSchema;
    const params = bodyParameters(options.parameters, schema !== undefined);
    const responseFormat: JsonValue | undefined =
      schema === undefined ? undefined : { type: 'json_schema', json_schema: { name: 'response', schema: toJson(schema, 'responseFormat'), strict: true } };
    const url = endpointUrl(base, chat ? 'chat/completions' : 'completions');
    const where = `POST ${displayUrl(url)}`;
    const call = startCall(options.signal);
    const results = new Array<RowResult<string>>(inputs.length);
    try {
      await forEach(inputs.length, call, async (i) => {
        if (call.stopped !== undefined) {
          results[i] = { ok: false, error: call.stopped };
          return;
        }
        const input = inputs[i] ?? '';
        const body: Record<string, JsonValue> = chat
          ? { model, ...params, messages: [{ role: 'user', content: input }] }
          : { model, ...params, prompt: input };
        if (responseFormat !== undefined) body['response_format'] = responseFormat;
        const outcome = await postJson(url, JSON.stringify(body), call.ctx);
        if (!outcome.ok) {
          results[i] = { ok: false, error: failure(call, outcome) };
          return;
        }
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

  async function embed(inputs: string[], signal?: AbortSignal): Promise<Array<RowResult<Float32Array>>> {
    const url = endpointUrl(base, 'embeddings');
    const where = `POST ${displayUrl(url)}`;
    const call = startCall(signal);
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
        if (rows.length > 1 && outcome.status !== undefined && SPLIT_STATUS.has(outcome.status)) {
          const half = rows.length >> 1;
          await embedRows(rows.slice(0, half));
          return embedRows(rows.slice(half));
        }
        return fillError(rows, failure(call, outcome));
      }
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
      await forEach(Math.ceil(inputs.length / size), call, (b) => {
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
