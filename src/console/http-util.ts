import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ApiError } from './api-types.js';

const MAX_BODY_BYTES = 1024 * 1024;

/** An answer other than 200, with the body the page shows. */
export class HttpError extends Error {
  constructor(readonly status: number, message: string, readonly detail: Omit<ApiError, 'error'> = {}) {
    super(message);
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string | string[]> = {}): void {
  const data = Buffer.from(JSON.stringify(body));
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': data.length,
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(data);
}

export function sendError(res: ServerResponse, err: unknown): void {
  if (err instanceof HttpError) {
    sendJson(res, err.status, { error: err.message, ...err.detail } satisfies ApiError);
    return;
  }
  const e = err as { message?: string; code?: string; hint?: string; position?: string };
  // An error from the engine (node-postgres passes on its SQLSTATE, hint and position).
  if (typeof e?.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code)) {
    const status = e.code === '57014' ? 409 : e.code.startsWith('28') ? 401 : e.code.startsWith('08') || e.code.startsWith('53') ? 503 : 400;
    sendJson(res, status, {
      error: e.message ?? 'the statement failed', code: e.code,
      ...(e.hint ? { hint: e.hint } : {}),
      ...(e.position ? { position: Number(e.position) } : {}),
    } satisfies ApiError);
    return;
  }
  sendJson(res, 500, { error: err instanceof Error ? err.message : String(err) } satisfies ApiError);
}

/** The request's JSON body (at most 1 MiB); requests that change anything must send one. */
export async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) {
    throw new HttpError(415, 'send the request body as application/json');
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, 'the request body is larger than 1 MiB');
    chunks.push(chunk);
  }
  let body: unknown;
  try {
    body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
  } catch {
    throw new HttpError(400, 'the request body is not valid JSON');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new HttpError(400, 'the request body must be a JSON object');
  return body as Record<string, unknown>;
}

export function stringField(body: Record<string, unknown>, name: string): string {
  const v = body[name];
  if (typeof v !== 'string') throw new HttpError(400, `"${name}" must be a string`);
  return v;
}

export function intField(body: Record<string, unknown>, name: string, fallback?: number): number {
  const v = body[name] ?? fallback;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new HttpError(400, `"${name}" must be a non-negative integer`);
  return v;
}
