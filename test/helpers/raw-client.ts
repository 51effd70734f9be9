import { connect, type Socket } from 'node:net';
import { serialize } from 'pg-protocol';

/** A backend message as this client decodes it; only the fields the tests read. */
export interface BackendMessage {
  name: string;
  code?: string;
  message?: string;
  fields?: Array<{ name: string; dataTypeID: number; format: string }>;
  values?: Array<Buffer | null>;
  status?: string;
  /** CommandComplete's tag. */
  tag?: string;
  /** BackendKeyData's process id and secret key. */
  key?: { processID: number; secretKey: number };
}

const names: Record<string, string> = {
  R: 'authentication', S: 'parameterStatus', K: 'backendKeyData', Z: 'readyForQuery', T: 'rowDescription',
  D: 'dataRow', C: 'commandComplete', E: 'error', N: 'notice', '1': 'parseComplete', '2': 'bindComplete',
  '3': 'closeComplete', n: 'noData', t: 'parameterDescription', s: 'portalSuspended', I: 'emptyQuery',
};

/** Decodes one message body, independently of the server's own codec. */
function decode(code: string, body: Buffer): BackendMessage {
  const m: BackendMessage = { name: names[code] ?? `unknown(${code})` };
  let pos = 0;
  const cstr = (): string => {
    const end = body.indexOf(0, pos);
    const s = body.toString('utf8', pos, end);
    pos = end + 1;
    return s;
  };
  if (code === 'E' || code === 'N') {
    for (let t = body[pos++]; t; t = body[pos++]) {
      const v = cstr();
      if (t === 0x43) m.code = v;
      if (t === 0x4d) m.message = v;
    }
  } else if (code === 'T') {
    const n = body.readInt16BE(0);
    pos = 2;
    m.fields = [];
    for (let i = 0; i < n; i++) {
      const name = cstr();
      const dataTypeID = body.readInt32BE(pos + 6);
      const format = body.readInt16BE(pos + 16) === 1 ? 'binary' : 'text';
      pos += 18;
      m.fields.push({ name, dataTypeID, format });
    }
  } else if (code === 'D') {
    const n = body.readInt16BE(0);
    pos = 2;
    m.values = [];
    for (let i = 0; i < n; i++) {
      const len = body.readInt32BE(pos);
      pos += 4;
      m.values.push(len < 0 ? null : Buffer.from(body.subarray(pos, pos + len)));
      if (len > 0) pos += len;
    }
  } else if (code === 'Z') m.status = String.fromCharCode(body[0]!);
  else if (code === 'C') m.tag = cstr();
  else if (code === 'K') m.key = { processID: body.readInt32BE(0), secretKey: body.readInt32BE(4) };
  return m;
}

/**
 * A bare protocol client: sends frontend messages built by pg-protocol's serializer and collects
 * the parsed backend messages, with field values kept as raw bytes (binary mode).
 */
export class RawClient {
  /** The key a CancelRequest for this session carries. */
  key: { processID: number; secretKey: number } | null = null;
  private received: BackendMessage[] = [];
  private wake: (() => void) | null = null;
  closed = false;

  private constructor(readonly socket: Socket) {
    let pending = Buffer.alloc(0);
    socket.on('data', (d: Buffer) => {
      pending = Buffer.concat([pending, d]);
      while (pending.length >= 5 && pending.length >= 1 + pending.readInt32BE(1)) {
        const len = pending.readInt32BE(1);
        this.received.push(decode(String.fromCharCode(pending[0]!), pending.subarray(5, 1 + len)));
        pending = pending.subarray(1 + len);
      }
      this.wake?.();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake?.();
    });
    socket.on('error', () => undefined);
  }

  static async connect(port: number, user = 'aiduck', database = 'aiduck', host = '127.0.0.1'): Promise<RawClient> {
    const socket = connect(port, host);
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    const c = new RawClient(socket);
    c.send(serialize.startup({ user, database }));
    c.key = (await c.until((m) => m.name === 'readyForQuery')).find((m) => m.key)?.key ?? null;
    return c;
  }

  send(...bufs: Buffer[]): void {
    this.socket.write(Buffer.concat(bufs));
  }

  /** Messages received up to and including the first that matches, within the timeout. */
  async until(match: (m: BackendMessage) => boolean, timeoutMs = 10_000): Promise<BackendMessage[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.received.findIndex(match);
      if (i >= 0) return this.received.splice(0, i + 1);
      if (this.closed) throw new Error(`connection closed; got ${this.received.map((m) => m.name).join(', ')}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out; got ${this.received.map((m) => m.name).join(', ')}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
  }

  /** Everything received from now until the server closes the connection, within the timeout. */
  async untilClosed(timeoutMs = 10_000): Promise<BackendMessage[]> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`the server did not close the connection; got ${this.received.map((m) => m.name).join(', ')}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
    return this.received.splice(0);
  }

  close(): void {
    this.socket.destroy();
  }
}
