/** Serializes Postgres backend messages into one growing buffer, so a batch of rows costs one write. */
export class MessageWriter {
  private buf: Buffer;
  private pos = 0;
  private start = -1;

  constructor(initialSize = 16 * 1024) {
    this.buf = Buffer.allocUnsafe(initialSize);
  }

  get length(): number {
    return this.pos;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** Starts a message of type `code` (see codes.ts); `end()` writes its length. */
  begin(code: number): this {
    this.ensure(5);
    this.buf[this.pos] = code;
    this.start = this.pos + 1;
    this.pos += 5;
    return this;
  }

  end(): this {
    this.buf.writeInt32BE(this.pos - this.start, this.start);
    this.start = -1;
    return this;
  }

  int8(v: number): this {
    this.ensure(1);
    this.buf[this.pos++] = v & 0xff;
    return this;
  }

  int16(v: number): this {
    this.ensure(2);
    this.buf.writeInt16BE(v, this.pos);
    this.pos += 2;
    return this;
  }

  int32(v: number): this {
    this.ensure(4);
    this.buf.writeInt32BE(v | 0, this.pos);
    this.pos += 4;
    return this;
  }

  /** A NUL-terminated string. */
  cstring(s: string): this {
    const n = Buffer.byteLength(s);
    this.ensure(n + 1);
    this.pos += this.buf.write(s, this.pos);
    this.buf[this.pos++] = 0;
    return this;
  }

  /** A string's UTF-8 bytes, with no terminator or length. */
  utf8(s: string): this {
    this.ensure(s.length * 3);
    this.pos += this.buf.write(s, this.pos);
    return this;
  }

  bytes(b: Uint8Array): this {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
    return this;
  }

  /** A length-prefixed UTF-8 string (the form of a DataRow text field). */
  lengthPrefixedString(s: string): this {
    const len = s.length;
    this.ensure(len * 3 + 4);
    // Short ASCII values (numbers, dates, most identifiers) are copied by hand: a native
    // Buffer.write per value costs more than the copy itself.
    if (len < 48) {
      const buf = this.buf;
      const start = this.pos + 4;
      let i = 0;
      for (; i < len; i++) {
        const c = s.charCodeAt(i);
        if (c > 0x7f) break;
        buf[start + i] = c;
      }
      if (i === len) {
        buf.writeInt32BE(len, this.pos);
        this.pos = start + len;
        return this;
      }
    }
    const n = this.buf.write(s, this.pos + 4);
    this.buf.writeInt32BE(n, this.pos);
    this.pos += 4 + n;
    return this;
  }

  lengthPrefixedBytes(b: Uint8Array): this {
    this.ensure(b.length + 4);
    this.buf.writeInt32BE(b.length, this.pos);
    this.buf.set(b, this.pos + 4);
    this.pos += 4 + b.length;
    return this;
  }

  /** Hands back a copy of the bytes written so far (in its own ArrayBuffer, so it can be transferred) and starts over. */
  take(): Buffer {
    const out = Buffer.from(new ArrayBuffer(this.pos));
    this.buf.copy(out, 0, 0, this.pos);
    this.pos = 0;
    return out;
  }
}
