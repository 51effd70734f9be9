import type { ProviderNote } from '../runtime/provider.js';

/** Retry notes of one statement reach the client this often at most (retries of many requests come in bursts). */
export const RETRY_NOTICE_INTERVAL_MS = 1000;

/**
 * Which runtime notes a statement passes on to its client as NOTICEs: where a model's requests go
 * once (a statement sends many batches, and each announces itself), and retries at most once a second.
 */
export class StatementNotes {
  private readonly started = new Set<string>();
  private lastRetry = -Infinity;

  constructor(private readonly now: () => number = Date.now) {}

  /** True when the client should be told `note` about `model` now. */
  admit(model: string, note: ProviderNote): boolean {
    if (note.kind === 'start') {
      const key = `${model}\0${note.text}`;
      if (this.started.has(key)) return false;
      this.started.add(key);
      return true;
    }
    const t = this.now();
    if (t - this.lastRetry < RETRY_NOTICE_INTERVAL_MS) return false;
    this.lastRetry = t;
    return true;
  }

  clear(): void {
    this.started.clear();
    this.lastRetry = -Infinity;
  }
}
