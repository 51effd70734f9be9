import type { NoteListener, ProviderNote } from './provider.js';

/** Retry notes of one call reach the engine at most this often (a burst of 5xx retries many requests at once). */
export const RETRY_NOTE_INTERVAL_MS = 1000;

/**
 * The provider notes of one runtime call that are passed on: its first 'start' (a batch is sent as
 * several provider calls, each announcing itself), and at most one 'retry' a second.
 */
export function callNotes(send: (note: ProviderNote) => void, now: () => number = Date.now): NoteListener {
  let started = false;
  let lastRetry = -Infinity;
  return (note) => {
    if (note.kind === 'start') {
      if (!started) send(note);
      started = true;
      return;
    }
    const t = now();
    if (t - lastRetry < RETRY_NOTE_INTERVAL_MS) return;
    lastRetry = t;
    send(note);
  };
}
