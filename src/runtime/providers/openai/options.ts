/** Options of the OpenAI-compatible provider, their defaults, and the checks of a model spec. */
import { SqlError } from '../../../errors/sql-error.js';
import type { ModelSpec } from '../../provider.js';

export interface OpenAIProviderOptions {
  /** Requests in flight to the endpoint at once, shared by all calls of the provider. Default 8. */
  maxConcurrency?: number;
  /** Retries of a request after 429, 408, 5xx or a network error. Default 5. */
  maxRetries?: number;
  /** Backoff before retry k is about retryBaseDelayMs·2^k (with jitter), unless the endpoint sends Retry-After. Default 500. */
  retryBaseDelayMs?: number;
  /** Upper bound of one backoff wait, Retry-After included. Default 30,000. */
  retryMaxDelayMs?: number;
  /** Time allowed for one attempt, from sending the request to the end of the answer's body. Default 120,000. */
  timeoutMs?: number;
  /** Inputs per embeddings request. Default 256. */
  embedBatchSize?: number;
  /** Where `spec.apiKeyEnv` is looked up, at the start of every call. Default `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Variables an operator allowed as API keys besides AIDUCK_KEY_* (see key-env.ts). */
  allowedKeyEnvs?: readonly string[];
}

export interface ResolvedOptions {
  maxConcurrency: number;
  maxRetries: number;
  retryBaseDelayMs: number;
  retryMaxDelayMs: number;
  timeoutMs: number;
  embedBatchSize: number;
  env: Readonly<Record<string, string | undefined>>;
  allowedKeyEnvs: readonly string[];
}

export const OPENAI_PROVIDER_DEFAULTS = {
  maxConcurrency: 8,
  maxRetries: 5,
  retryBaseDelayMs: 500,
  retryMaxDelayMs: 30_000,
  timeoutMs: 120_000,
  embedBatchSize: 256,
} as const;

/** The longest delay setTimeout takes (about 24.8 days). */
const MAX_TIMER_MS = 2_147_483_647;

function check(name: string, value: number, min: number, integer: boolean): number {
  if (!Number.isFinite(value) || value < min || value > MAX_TIMER_MS || (integer && !Number.isInteger(value))) {
    const what = `${min > 0 ? 'positive' : 'non-negative'} ${integer ? 'integer' : 'number'} up to ${MAX_TIMER_MS}`;
    throw new SqlError('22023', `openai provider option ${name} must be a ${what}, not ${value}`);
  }
  return value;
}

export function resolveOptions(options: OpenAIProviderOptions): ResolvedOptions {
  const d = OPENAI_PROVIDER_DEFAULTS;
  return {
    maxConcurrency: check('maxConcurrency', options.maxConcurrency ?? d.maxConcurrency, 1, true),
    maxRetries: check('maxRetries', options.maxRetries ?? d.maxRetries, 0, true),
    retryBaseDelayMs: check('retryBaseDelayMs', options.retryBaseDelayMs ?? d.retryBaseDelayMs, 0, false),
    retryMaxDelayMs: check('retryMaxDelayMs', options.retryMaxDelayMs ?? d.retryMaxDelayMs, 0, false),
    timeoutMs: check('timeoutMs', options.timeoutMs ?? d.timeoutMs, 1, false),
    embedBatchSize: check('embedBatchSize', options.embedBatchSize ?? d.embedBatchSize, 1, true),
    env: options.env ?? process.env,
    allowedKeyEnvs: options.allowedKeyEnvs ?? [],
  };
}

/** The base URL of a spec, checked: http(s), no credentials in it (they belong in the apiKeyEnv variable). */
export function baseUrl(spec: ModelSpec): URL {
  let url: URL;
  try {
    url = new URL(spec.location);
  } catch {
    throw new SqlError('22023', `model ${spec.name}/${spec.version}: '${spec.location}' is not a URL; give the endpoint's base URL, e.g. http://127.0.0.1:11434/v1`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new SqlError('22023', `model ${spec.name}/${spec.version}: the endpoint URL must start with http:// or https://, not ${url.protocol}//`);
  }
  if (url.username !== '' || url.password !== '') {
    throw new SqlError('22023', `model ${spec.name}/${spec.version}: the endpoint URL contains credentials; remove them and name an environment variable holding the API key instead (apiKeyEnv)`);
  }
  return url;
}

/** `base` with `path` appended to its path (a trailing slash of the base is ignored; the query string is kept). */
export function endpointUrl(base: URL, path: string): URL {
  const url = new URL(base.href);
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/${path}`;
  return url;
}
