import { ProtocolError } from '../errors/sql-error.js';

/** One framed frontend message: its type byte and its body (without the length word). */
export interface FrontendMessage {
  code: number;
  body: Buffer;
}

/** The longest startup packet accepted (as in PostgreSQL). */
export const MAX_STARTUP_BYTES = 10_000;

/**
 * Cuts a byte stream into frontend messages. The first message of a connection has no type byte
 * (startup, SSLRequest, CancelRequest); `expectStartup` covers that. Lengths beyond `maxMessageBytes`
 * (or MAX_STARTUP_BYTES for a startup packet) are refused before any of the body is buffered.
 *
 * The pieces a socket delivers are kept as they came and copied once, into the message they end
 * up in, so a message sent in many small pieces costs time linear in its size.
 */
export class MessageFramer {
  private chunks: Buffer[] = [];
  /** How much of chunks[0] was already taken. */
  private offset = 0;
  private buffered = 0;
  expectStartup = true;

  /** May be lowered while the client is not yet authenticated. */
  constructor(public maxMessageBytes: number) {}

  push(data: Buffer): void {
    if (!data.length) return;
    this.chunks.push(data);
    this.buffered += data.length;
  }

  /** The first n buffered bytes (n is a header's few bytes), not consumed. */
  private peek(n: number): Buffer {
    const first = this.chunks[0]!;
    if (first.length - this.offset >= n) return first.subarray(this.offset, this.offset + n);
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    let skip = this.offset;
    for (const c of this.chunks) {
      filled += c.copy(out, filled, skip, Math.min(c.length, skip + n - filled));
      skip = 0;
      if (filled === n) break;
    }
    return out;
  }

  /** Removes the first n buffered bytes and returns them in a buffer of their own. */
  private take(n: number): Buffer {
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const c = this.chunks[0]!;
      const copied = c.copy(out, filled, this.offset, Math.min(c.length, this.offset + n - filled));
      filled += copied;
      this.offset += copied;
      if (this.offset === c.length) {
        this.chunks.shift();
        this.offset = 0;
      }
    }
    this.buffered -= n;
    return out;
  }

  /** The next complete message, or null when more bytes are needed. */
  next(): FrontendMessage | null {
    const header = this.expectStartup ? 4 : 5;
    if (this.buffered < header) return null;
    const head = this.peek(header);
    const code = this.expectStartup ? 0 : head[0]!;
    const len = head.readInt32BE(this.expectStartup ? 0 : 1);
    if (this.expectStartup) {
      // Also what garbage such as an HTTP request line ends in ("GET " read as a length).
      if (len < 8 || len > MAX_STARTUP_BYTES) throw new ProtocolError('invalid length of startup packet');
    } else if (len < 4) {
      throw new ProtocolError(`invalid message length ${len}`);
    } else if (len > this.maxMessageBytes) {
      throw new ProtocolError(`message of ${len} bytes exceeds the limit of ${this.maxMessageBytes} bytes`, '54000');
    }
    const total = len + (this.expectStartup ? 0 : 1);
    if (this.buffered < total) return null;
    return { code, body: this.take(total).subarray(header) };
  }
}
