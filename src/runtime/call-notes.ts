import type { NoteListener, ProviderNote } from './provider.js';

/** Retry notes of one call reach the engine at most this often (a burst of 5xx retries many requests at once). */
export const RETRY_NOTE_INTERVAL_MS = 1000;

/**
 * A call of at most this many rows announces where its requests go only if it is still running
 * after START_NOTE_DELAY_MS: a quick question to an endpoint does not need a NOTICE, a job does.
 */
export const QUIET_CALL_ROWS = 64;
export const START_NOTE_DELAY_MS = 1000;

export interface CallNotes {
  listener: NoteListener;
  /** The call is over: a start note still held back is dropped. */
  end(): void;
}

/**
 * The provider notes of one runtime call that are passed on: its first 'start' (a batch is sent as
 * several provider calls, each announcing itself) — at once for a call of many rows, after a second
 * for a small one — and at most one 'retry' a second.
 */
export function callNotes(rows: number, send: (note: ProviderNote) => void, now: () => number = Date.now): CallNotes {
  let started = false;
  let held: ProviderNote | undefined;
  let lastRetry = -Infinity;
  let timer: NodeJS.Timeout | undefined;
  const release = (): void => {
    clearTimeout(timer);
    if (held) send(held);
    held = undefined;
  };
  return {
    listener(note) {
      if (note.kind === 'start') {
        if (started) return;
        started = true;
        held = note;
        if (rows > QUIET_CALL_ROWS) release();
        else timer = setTimeout(release, START_NOTE_DELAY_MS);
        return;
      }
      const t = now();
      if (t - lastRetry < RETRY_NOTE_INTERVAL_MS) return;
      lastRetry = t;
      // Where the requests go comes before why one is tried again.
      release();
      send(note);
    },
    end() {
      clearTimeout(timer);
      held = undefined;
    },
  };
}
