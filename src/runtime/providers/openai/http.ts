/** One logical POST to the endpoint: JSON in, JSON out, with a per-attempt timeout, retries and cancellation. */
import { isRetryableStatus, parseRetryAfter, retryDelayMs, sleep, type RetryPolicy } from './retry.js';

export interface RequestContext {
  /** Aborted when the call is cancelled or the provider closes: the POST then rejects with its reason. */
  signal: AbortSignal;
  headers: Record<string, string>;
  timeoutMs: number;
  retry: RetryPolicy;
}

export type PostOutcome =
  | { ok: true; json: unknown }
  /** status: the HTTP status of the last attempt; absent for network errors and timeouts. */
  | { ok: false; error: string; status?: number; kind: 'http' | 'network' | 'timeout' | 'format' };

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
      return {
        ok: false,
        kind: 'http',
        status: res.status,
        error: `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''} from ${where}: ${endpointMessage(text)}`,
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
    return { ok: false, kind: 'network', retryable: true, error: `cannot reach ${where}: ${networkMessage(err)}` };
  } finally {
    clearTimeout(timer);
    ctx.signal.removeEventListener('abort', onCancel);
  }
}

/**
 * POSTs `body` to `url`, retrying 429, 408, 5xx and network errors with backoff (honouring Retry-After).
 * Timeouts are not retried: an answer that took too long once will most likely take too long again.
 * Resolves with the parsed JSON or the last error; rejects only when `ctx.signal` aborts.
 */
export async function postJson(url: URL, body: string, ctx: RequestContext): Promise<PostOutcome> {
  for (let retry = 0; ; retry++) {
    const { retryable, retryAfterMs, ...outcome } = await attempt(url, body, ctx);
    if (outcome.ok || !retryable) return outcome;
    if (retry >= ctx.retry.maxRetries) {
      return ctx.retry.maxRetries === 0 ? outcome : { ...outcome, error: `${outcome.error} (gave up after ${retry + 1} attempts)` };
    }
    await sleep(retryDelayMs(ctx.retry, retry, retryAfterMs), ctx.signal);
  }
}
