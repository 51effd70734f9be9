/** One logical POST to the endpoint: JSON in, JSON out, with a per-attempt timeout, retries and cancellation. */
import type { Limiter } from './limiter.js';
import { isRetryableStatus, parseRetryAfter, retryDelayMs, sleep, type RetryPolicy } from './retry.js';

/** A request about to be sent again: which attempt it will be, of how many, after what wait and why. */
export interface RetryInfo {
  attempt: number;
  attempts: number;
  delayMs: number;
  error: string;
}

export interface RequestContext {
  /** Aborted when the call is cancelled or the provider closes: the POST then rejects with its reason. */
  signal: AbortSignal;
  headers: Record<string, string>;
  timeoutMs: number;
  retry: RetryPolicy;
  /** Bounds the requests in flight: each attempt holds a slot from sending to the end of the answer. */
  limiter: Limiter;
  /** Told before each wait for a retry. */
  onRetry?: (info: RetryInfo) => void;
}

export type PostOutcome =
  | { ok: true; json: unknown }
  /**
   * status: the HTTP status of the last attempt; absent for network errors and timeouts. cause: the
   * system error code of a network error (ECONNREFUSED, ENOTFOUND, ...). exhausted: a failure that
   * was worth retrying and still failed after every retry. said: the endpoint's own message (HTTP errors).
   */
  | { ok: false; error: string; status?: number; cause?: string; said?: string; exhausted?: boolean; kind: 'http' | 'network' | 'timeout' | 'format' };

type Attempt = PostOutcome & { retryable: boolean; retryAfterMs?: number };

/** The URL as it may appear in messages: without user info (there should be none) and query string. */
export function displayUrl(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}

/** The endpoint's own error message, from the OpenAI error shape `{error: {message}}` or a few common variants. */
function endpointMessage(text: string): string {
  try {
    const body = JSON.parse(text) as unknown;
    if (body !== null && typeof body === 'object') {
      const { error, message, detail } = body as Record<string, unknown>;
      if (typeof error === 'string') return error;
      if (error !== null && typeof error === 'object') {
        const m = (error as Record<string, unknown>)['message'];
        if (typeof m === 'string') return m;
      }
      if (typeof message === 'string') return message;
      if (typeof detail === 'string') return detail;
    }
  } catch {
    // not JSON: the text itself is the message
  }
  const trimmed = text.trim();
  return trimmed.length > 500 ? `${trimmed.slice(0, 500)}...` : trimmed || '(empty body)';
}

function networkMessage(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause;
  if (cause instanceof Error) {
    const code = (cause as Error & { code?: unknown }).code;
    return `${err.message} (${typeof code === 'string' ? `${code}: ` : ''}${cause.message})`;
  }
  return err.message;
}

/**
 * The system error code under a failed fetch (ECONNREFUSED, ENOTFOUND, UND_ERR_CONNECT_TIMEOUT, ...);
 * BAD_PORT for a port fetch refuses to connect to at all.
 */
function networkCause(err: unknown): string | undefined {
  const cause = err instanceof Error ? err.cause : undefined;
  if (!(cause instanceof Error)) return undefined;
  const code = (cause as Error & { code?: unknown }).code;
  if (typeof code === 'string') return code;
  return cause.message === 'bad port' ? 'BAD_PORT' : undefined;
}

/** Network errors no retry fixes: nothing listens there, the name does not resolve, there is no route. */
const UNREACHABLE: ReadonlySet<string> = new Set([
  'ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EAI_NONAME', 'EAI_FAIL', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT', 'BAD_PORT',
]);

export const isUnreachable = (cause: string | undefined): boolean => cause !== undefined && UNREACHABLE.has(cause);

async function attempt(url: URL, body: string, ctx: RequestContext): Promise<Attempt> {
  // An abort before this point fired no event this attempt could have heard.
  if (ctx.signal.aborted) throw ctx.signal.reason;
  const where = `POST ${displayUrl(url)}`;
  const ctl = new AbortController();
  let timedOut = false;
  const onCancel = (): void => ctl.abort(ctx.signal.reason);
  ctx.signal.addEventListener('abort', onCancel, { once: true });
  const timer = setTimeout(() => {
    timedOut = true;
    ctl.abort(new Error('request timeout'));
  }, ctx.timeoutMs);
  try {
    const res = await fetch(url, { method: 'POST', headers: ctx.headers, body, signal: ctl.signal });
    const text = await res.text();
    if (!res.ok) {
      const retryAfterMs = parseRetryAfter(res.headers);
      const said = endpointMessage(text);
      return {
        ok: false,
        kind: 'http',
        status: res.status,
        said,
        error: `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''} from ${where}: ${said}`,
        retryable: isRetryableStatus(res.status),
        ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
      };
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return { ok: false, kind: 'format', retryable: false, error: `${where} answered HTTP ${res.status} with a body that is not JSON: ${endpointMessage(text)}` };
    }
    return { ok: true, json, retryable: false };
  } catch (err) {
    if (ctx.signal.aborted) throw ctx.signal.reason;
    if (timedOut) {
      return {
        ok: false,
        kind: 'timeout',
        retryable: false,
        error: `no answer from ${where} within ${ctx.timeoutMs} ms (the request timeout): the endpoint is slow or overloaded; lower the concurrency or raise the timeout`,
      };
    }
    const cause = networkCause(err);
    return {
      ok: false,
      kind: 'network',
      retryable: !isUnreachable(cause),
      error: `cannot reach ${where}: ${networkMessage(err)}`,
      ...(cause === undefined ? {} : { cause }),
    };
  } finally {
    clearTimeout(timer);
    ctx.signal.removeEventListener('abort', onCancel);
  }
}

/**
 * POSTs `body` to `url`, retrying 429, 408, 5xx and dropped connections with backoff (honouring
 * Retry-After). Not retried: timeouts (an answer that took too long once will most likely take too
 * long again) and an address where nothing can answer (refused, unknown host, no route).
 * Resolves with the parsed JSON or the last error; rejects only when `ctx.signal` aborts.
 */
export async function postJson(url: URL, body: string, ctx: RequestContext): Promise<PostOutcome> {
  for (let retry = 0; ; retry++) {
    const release = await ctx.limiter.acquire(ctx.signal);
    let result: Attempt;
    try {
      result = await attempt(url, body, ctx);
    } finally {
      release();
    }
    const { retryable, retryAfterMs, ...outcome } = result;
    if (outcome.ok || !retryable) return outcome;
    if (retry >= ctx.retry.maxRetries) {
      return ctx.retry.maxRetries === 0
        ? { ...outcome, exhausted: true }
        : { ...outcome, exhausted: true, error: `${outcome.error} (gave up after ${retry + 1} attempts)` };
    }
    const delayMs = retryDelayMs(ctx.retry, retry, retryAfterMs);
    ctx.onRetry?.({ attempt: retry + 2, attempts: ctx.retry.maxRetries + 1, delayMs, error: outcome.error });
    await sleep(delayMs, ctx.signal);
  }
}
