import { MessageWriter } from '../protocol/writer.js';

const FLUSH_BYTES = 256 * 1024;
const WINDOW_BYTES = 2 * 1024 * 1024;

/**
 * A session's outgoing bytes. Messages accumulate in a writer and go to the server thread in
 * batches; at most WINDOW_BYTES may be unacknowledged (not yet written to the socket), so a slow
 * client slows the query instead of filling memory.
 */
export class SessionOutput {
  readonly w = new MessageWriter(64 * 1024);
  private inFlight = 0;
  private waiters: Array<() => void> = [];
  closed = false;
  /** The session's TimeZone: timestamptz values are written at it, as Postgres writes them. */
  timeZone = 'UTC';

  constructor(private readonly send: (data: Buffer) => void) {}

  flush(): void {
    if (this.closed || this.w.length === 0) return;
    const data = this.w.take();
    this.inFlight += data.length;
    this.send(data);
  }

  /** Enough is buffered for a flush: a producer stops adding rows and calls maybeFlush. */
  get full(): boolean {
    return this.w.length >= FLUSH_BYTES;
  }

  /** Flushes when enough is buffered, then waits while the client is behind. */
  async maybeFlush(): Promise<void> {
    if (this.w.length >= FLUSH_BYTES) this.flush();
    while (this.inFlight > WINDOW_BYTES && !this.closed) {
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  ack(bytes: number): void {
    this.inFlight -= bytes;
    if (this.inFlight <= WINDOW_BYTES) this.wake();
  }

  close(): void {
    this.closed = true;
    this.wake();
  }

  private wake(): void {
    const ws = this.waiters;
    this.waiters = [];
    for (const w of ws) w();
  }
}
