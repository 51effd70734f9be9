import type { ApiError } from '../../src/console/api-types.js';

/** An answer other than 200 from the console's API, with what the engine said. */
export class ApiFailure extends Error {
  constructor(readonly status: number, readonly body: ApiError) {
    super(body.error);
  }
}

/** Called when the API says the browser session is gone (401): the app shows the login page. */
let onLoggedOut: () => void = () => undefined;
export function whenLoggedOut(f: () => void): void {
  onLoggedOut = f;
}

async function answer<T>(res: Response): Promise<T> {
  const body = (await res.json().catch(() => ({ error: `${res.status} ${res.statusText}` }))) as unknown;
  if (!res.ok) {
    if (res.status === 401) onLoggedOut();
    throw new ApiFailure(res.status, body as ApiError);
  }
  return body as T;
}

export async function getJson<T>(path: string): Promise<T> {
  return answer<T>(await fetch(path, { credentials: 'same-origin' }));
}

export async function postJson<T>(path: string, body: unknown = {}): Promise<T> {
  return answer<T>(await fetch(path, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  }));
}

/** The error as the page shows it: the message, then the SQLSTATE and the hint. */
export function describeError(err: unknown): string {
  if (err instanceof ApiFailure) {
    const b = err.body;
    return [b.error, b.code ? `(SQLSTATE ${b.code})` : '', b.hint ? `Hint: ${b.hint}` : ''].filter(Boolean).join(' ');
  }
  return err instanceof Error ? err.message : String(err);
}
