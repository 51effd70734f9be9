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
 */
export class MessageFramer {
  private chunks: Buffer[] = [];
  private buffered = 0;
  expectStartup = true;

  /** May be lowered while the client is not yet authenticated. */
  constructor(public maxMessageBytes: number) {}

  push(data: Buffer): void {
    this.chunks.push(data);
    this.buffered += data.length;
  }

  private peek(n: number): Buffer {
    if (this.chunks.length > 1) {
      this.chunks = [Buffer.concat(this.chunks)];
    }
    return this.chunks[0]!.subarray(0, n);
  }

  private consume(n: number): Buffer {
    const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    const out = all.subarray(0, n);
    const rest = all.subarray(n);
    this.chunks = rest.length ? [rest] : [];
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
    const msg = this.consume(total);
    return { code, body: Buffer.from(msg.subarray(header)) };
  }
}
