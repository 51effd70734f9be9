const BASE_DELAY_MS = 100;
const MAX_DELAY_MS = 2000;
/** An address that has not failed for this long starts afresh. */
const FORGET_AFTER_MS = 10 * 60_000;
/** At most this many addresses are remembered (the oldest are dropped first). */
const MAX_ADDRESSES = 10_000;

interface Failures {
  count: number;
  last: number;
  /** When the next password check from this address may run. */
  nextAt: number;
}

/**
 * Slows password guessing per client address: after a failed password, the address's next checks
 * run one at a time, spaced by a delay that doubles with each consecutive failure (100 ms up to
 * 2 s). Parallel connections from the address do not help: each check reserves its turn, and one
 * whose turn would come after its login timeout is refused at once rather than queued. A success
 * clears the address's record; other addresses are never delayed.
 */
export class AuthThrottle {
  private readonly failures = new Map<string, Failures>();

  /**
   * How long the password check of a connection from `address` must wait, having reserved that
   * turn; null (and nothing reserved) when the turn would come later than `maxWaitMs`.
   */
  reserve(address: string, maxWaitMs: number, now = Date.now()): number | null {
    const f = this.failures.get(address);
    if (!f) return 0;
    if (now - f.last > FORGET_AFTER_MS) {
      this.failures.delete(address);
      return 0;
    }
    const at = Math.max(now, f.nextAt);
    if (at - now > maxWaitMs) return null;
    f.nextAt = at + delayAfter(f.count);
    return at - now;
  }

  failed(address: string, now = Date.now()): void {
    const f = this.failures.get(address);
    if (f) {
      f.count++;
      f.last = now;
      f.nextAt = Math.max(f.nextAt, now + delayAfter(f.count));
      return;
    }
    if (this.failures.size >= MAX_ADDRESSES) this.failures.delete(this.failures.keys().next().value!);
    this.failures.set(address, { count: 1, last: now, nextAt: now + delayAfter(1) });
  }

  succeeded(address: string): void {
    this.failures.delete(address);
  }
}

function delayAfter(failures: number): number {
  return Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** Math.min(failures - 1, 16));
}
