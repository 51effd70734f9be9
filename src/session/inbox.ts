import { Frontend } from '../protocol/codes.js';
import type { FrontendMessage } from '../protocol/framer.js';

const REPORT_BYTES = 256 * 1024;

/**
 * The frontend messages of one session, in order. The session pulls them one at a time, so a
 * handler that needs more input (COPY FROM STDIN) simply pulls the next ones itself.
 */
export class Inbox {
  private queue: FrontendMessage[] = [];
  private waiting: ((m: FrontendMessage | null) => void) | null = null;
  private arrival: ((more: boolean) => void) | null = null;
  private closed = false;
  private unreported = 0;
  /** The cancel count stamped on each waiting message (parallel to `queue`). */
  private stamps: number[] = [];
  /**
   * The session's cancel count when the message last taken arrived at the server: a cancel counted
   * after it was sent for that message's statement, however long the statement waited to start.
   */
  cancelsAtArrival: number | null = null;

  constructor(private readonly reportConsumed: (bytes: number) => void) {}

  /** Frames a batch of whole messages as forwarded by the server thread. */
  push(data: Uint8Array, cancels: number): void {
    const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    let pos = 0;
    while (pos + 5 <= buf.length) {
      const len = buf.readInt32BE(pos + 1);
      const msg = { code: buf[pos]!, body: buf.subarray(pos + 5, pos + 1 + len) };
      pos += 1 + len;
      if (this.waiting) {
        const w = this.waiting;
        this.waiting = null;
        this.account(msg);
        this.cancelsAtArrival = cancels;
        w(msg);
      } else {
        this.queue.push(msg);
        this.stamps.push(cancels);
      }
    }
    const a = this.arrival;
    this.arrival = null;
    a?.(true);
  }

  /**
   * The server thread pauses a client that is far ahead of the session; reports in 256 KiB steps
   * let it resume without a message per round trip.
   */
  private account(msg: FrontendMessage): void {
    this.unreported += msg.body.length + 5;
    if (this.unreported >= REPORT_BYTES) {
      this.reportConsumed(this.unreported);
      this.unreported = 0;
    }
  }

  /** How many Execute messages are already waiting before the next Sync (a pipelined batch). */
  executesQueuedBeforeSync(): number {
    let n = 0;
    for (const m of this.queue) {
      if (m.code === Frontend.Sync) break;
      if (m.code === Frontend.Execute) n++;
    }
    return n;
  }

  /** The `i`-th message waiting, without taking it. */
  peek(i: number): FrontendMessage | undefined {
    return this.queue[i];
  }

  /** Takes the first `n` messages waiting (looked at with peek) as handled. */
  take(n: number): void {
    for (const m of this.queue.splice(0, n)) this.account(m);
    this.cancelsAtArrival = this.stamps.splice(0, n).at(-1) ?? this.cancelsAtArrival;
  }

  /** Resolves once more messages have arrived (true) or the session is closed (false). */
  moreArrived(): Promise<boolean> {
    if (this.closed) return Promise.resolve(false);
    return new Promise((resolve) => (this.arrival = resolve));
  }

  /** The next message, or null once the session is closed. */
  next(): Promise<FrontendMessage | null> {
    const m = this.queue.shift();
    if (m) {
      this.account(m);
      this.cancelsAtArrival = this.stamps.shift() ?? null;
      return Promise.resolve(m);
    }
    if (this.closed) return Promise.resolve(null);
    return new Promise((resolve) => (this.waiting = resolve));
  }

  close(): void {
    this.closed = true;
    this.queue = [];
    this.stamps = [];
    const w = this.waiting;
    this.waiting = null;
    w?.(null);
    const a = this.arrival;
    this.arrival = null;
    a?.(false);
  }
}
