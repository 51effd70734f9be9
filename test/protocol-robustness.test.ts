import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serialize } from 'pg-protocol';
import { Parser } from 'pg-protocol/dist/parser.js';
import type { BackendMessage, DatabaseError } from 'pg-protocol/dist/messages.js';
import { startTestServer, type TestServer } from './helpers/server.js';

const MAX_MESSAGE_BYTES = 1024 * 1024;
const WAIT_MS = 5000;

/** A backend message as pg-protocol parses it; errors and notices carry their fields. */
type Received = BackendMessage & Partial<Pick<DatabaseError, 'code' | 'severity' | 'message'>> & {
  processID?: number;
  secretKey?: number;
  status?: string;
  fields?: unknown[];
  text?: string;
  mechanisms?: string[];
};

/**
 * A Postgres client on a raw socket: sends whatever bytes a test wants and collects the
 * server's replies, so that malformed input can be sent on purpose.
 */
class RawClient {
  readonly messages: Received[] = [];
  /** Single bytes the server sends in answer to SSLRequest / GSSENCRequest. */
  readonly sslAnswers: string[] = [];
  closed = false;
  private expectSslByte = false;
  private readonly parser = new Parser();
  private waiters: Array<() => void> = [];

  private constructor(readonly socket: Socket) {
    socket.on('data', (data: Buffer) => {
      if (this.expectSslByte && data.length) {
        this.expectSslByte = false;
        this.sslAnswers.push(String.fromCharCode(data[0]!));
        data = data.subarray(1);
      }
      if (data.length) this.parser.parse(data, (m) => this.messages.push(m as Received));
      this.wake();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
  }

  static connect(port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port });
      s.once('connect', () => resolve(new RawClient(s)));
      s.once('error', reject);
    });
  }

  /** Connects and completes a trust-auth startup, up to the first ReadyForQuery. */
  static async ready(port: number): Promise<RawClient> {
    const c = await RawClient.connect(port);
    c.send(serialize.startup({ user: 'aiduck', database: 'aiduck' }));
    await c.waitFor('readyForQuery');
    return c;
  }

  private wake(): void {
    const ws = this.waiters;
    this.waiters = [];
    for (const w of ws) w();
  }

  send(data: Buffer | string): void {
    this.socket.write(data);
  }

  sendSslRequest(): void {
    this.expectSslByte = true;
    this.send(serialize.requestSsl());
  }

  async until<T>(check: () => T | undefined, what: string, ms: number): Promise<T> {
    const deadline = Date.now() + ms;
    for (;;) {
      const v = check();
      if (v !== undefined) return v;
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(`timed out waiting for ${what}; got ${JSON.stringify(this.messages.map((m) => (m.name === 'error' ? `error ${m.code} ${m.message}` : m.name)))}, closed=${this.closed}`);
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** The first message with this name received at index `from` or later. */
  waitFor(name: BackendMessage['name'], from = 0, ms = WAIT_MS): Promise<Received> {
    return this.until(() => this.messages.slice(from).find((m) => m.name === name), name, ms);
  }

  /** Waits for the server to close the connection; fails the test if it does not. */
  waitClosed(ms = WAIT_MS): Promise<true> {
    return this.until(() => (this.closed ? true : undefined), 'the server to close the socket', ms);
  }

  errors(): Received[] {
    return this.messages.filter((m) => m.name === 'error');
  }

  /** Runs one simple query and returns the messages of its reply (up to ReadyForQuery). */
  async query(sql: string, ms = WAIT_MS): Promise<Received[]> {
    const from = this.messages.length;
    this.send(serialize.query(sql));
    await this.waitFor('readyForQuery', from, ms);
    return this.messages.slice(from);
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** A typed message by hand: type byte, length word, body. */
function message(type: string, body: Buffer, length = body.length + 4): Buffer {
  const head = Buffer.alloc(5);
  head.write(type, 0, 'latin1');
  head.writeInt32BE(length, 1);
  return Buffer.concat([head, body]);
}

/** A startup-phase packet (no type byte). */
function startupPacket(code: number, body: Buffer = Buffer.alloc(0)): Buffer {
  const b = Buffer.alloc(8);
  b.writeInt32BE(8 + body.length, 0);
  b.writeInt32BE(code, 4);
  return Buffer.concat([b, body]);
}

/** A fatal ErrorResponse followed by the server closing the socket; returns the error. */
async function expectFatal(c: RawClient, code: string): Promise<Received> {
  const err = await c.waitFor('error');
  expect(err.severity).toBe('FATAL');
  expect(err.code).toBe(code);
  await c.waitClosed();
  return err;
}

/** Checks that the server still serves a normal (node-postgres) client. */
async function stillServes(server: TestServer): Promise<void> {
  const c = await server.client();
  const r = await c.query('SELECT 41 + 1 AS answer');
  expect(r.rows).toEqual([{ answer: 42 }]);
}

/** A query that runs for minutes unless interrupted. */
const LONG_QUERY = 'SELECT count(*) FROM range(1000000000) a, range(1000000000) b WHERE a.range + b.range < 0';

describe('protocol robustness', { timeout: 15_000 }, () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ storage: 'memory', maxMessageBytes: MAX_MESSAGE_BYTES });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('answers garbage before startup with FATAL 08P01 and keeps serving', async () => {
    const c = await RawClient.connect(server.port);
    c.send('GET / HTTP/1.1\r\nHost: localhost\r\n\r\n');
    await expectFatal(c, '08P01');
    await stillServes(server);
  });

  it('refuses a startup length below the minimum', async () => {
    const c = await RawClient.connect(server.port);
    const b = Buffer.alloc(8);
    b.writeInt32BE(2, 0);
    c.send(b);
    await expectFatal(c, '08P01');
  });

  it('refuses an unsupported protocol version with a FATAL error', async () => {
    const c = await RawClient.connect(server.port);
    const params = Buffer.from('user\0aiduck\0\0');
    c.send(startupPacket((2 << 16) | 0, params));
    const err = await c.waitFor('error');
    expect(err.severity).toBe('FATAL');
    expect(err.code).toBe('0A000');
    expect(err.message).toMatch(/protocol/);
    await c.waitClosed();
    expect(c.messages.some((m) => m.name === 'authenticationOk')).toBe(false);

    const v4 = await RawClient.connect(server.port);
    v4.send(startupPacket((4 << 16) | 0, params));
    const err4 = await v4.waitFor('error');
    expect(err4.severity).toBe('FATAL');
    await v4.waitClosed();
  });

  it('refuses an oversized message with 54000 before the body arrives', async () => {
    const c = await RawClient.ready(server.port);
    const from = c.messages.length;
    // Only the header: the server must decide from the length word alone.
    c.send(message('Q', Buffer.alloc(0), MAX_MESSAGE_BYTES + 1024));
    const err = await c.waitFor('error', from);
    expect(err.severity).toBe('FATAL');
    expect(err.code).toBe('54000');
    await c.waitClosed();

    // A message just under the limit is still accepted.
    const ok = await RawClient.ready(server.port);
    const sql = `SELECT length('${'x'.repeat(MAX_MESSAGE_BYTES - 1024)}') AS n`;
    const reply = await ok.query(sql);
    expect(reply.find((m) => m.name === 'error')).toBeUndefined();
    expect(reply.some((m) => m.name === 'dataRow')).toBe(true);
    ok.destroy();
  });

  it('refuses an oversized startup packet without buffering it', async () => {
    const c = await RawClient.connect(server.port);
    const b = Buffer.alloc(4);
    b.writeInt32BE(MAX_MESSAGE_BYTES - 16, 0);
    c.send(b);
    await expectFatal(c, '08P01');
  });

  it('serves a query sent in the same write as the startup packet', async () => {
    const c = await RawClient.connect(server.port);
    c.send(Buffer.concat([serialize.startup({ user: 'aiduck', database: 'aiduck' }), serialize.query('SELECT 8 AS eight')]));
    await c.until(() => (c.messages.filter((m) => m.name === 'readyForQuery').length === 2 ? true : undefined), 'two ReadyForQuery', WAIT_MS);
    expect(c.errors()).toEqual([]);
    expect(c.messages.find((m) => m.name === 'dataRow')).toBeDefined();
    c.destroy();
  });

  it('survives a truncated message and a client that then closes', async () => {
    const before = await RawClient.ready(server.port);
    const c = await RawClient.ready(server.port);
    const from = c.messages.length;
    c.send(Buffer.concat([message('Q', Buffer.alloc(0), 100), Buffer.from('SELECT 1;')]).subarray(0, 15));
    // The server waits for the rest rather than acting on half a message.
    await new Promise((r) => setTimeout(r, 200));
    expect(c.messages.slice(from)).toEqual([]);
    expect(c.closed).toBe(false);
    c.socket.end();
    await c.waitClosed();

    // Truncated startup packet, too.
    const s = await RawClient.connect(server.port);
    s.send(startupPacket(3 << 16, Buffer.from('user\0aiduck\0\0')).subarray(0, 10));
    s.socket.end();
    await s.waitClosed();

    const reply = await before.query('SELECT 7 AS n');
    expect(reply.find((m) => m.name === 'dataRow')).toBeDefined();
    before.destroy();
    await stillServes(server);
  });

  it('ends a session whose Parse string is not NUL-terminated, others unaffected', async () => {
    const other = await RawClient.ready(server.port);
    const c = await RawClient.ready(server.port);
    const from = c.messages.length;
    // Name "" then a query string with no terminator and nothing after it.
    c.send(Buffer.concat([message('P', Buffer.from('\0SELECT 1')), serialize.sync()]));
    const err = await c.waitFor('error', from);
    expect(err.code).toBe('08P01');
    expect(err.severity).toBe('FATAL');
    await c.waitClosed();

    const reply = await other.query('SELECT 1 AS one');
    expect(reply.some((m) => m.name === 'dataRow')).toBe(true);
    other.destroy();
  });

  it('ends a session whose Bind is too short, others unaffected', async () => {
    const other = await RawClient.ready(server.port);
    const c = await RawClient.ready(server.port);
    const from = c.messages.length;
    c.send(serialize.parse({ name: '', text: 'SELECT $1::int AS v', types: [23] }));
    // Portal "", statement "", then an int16 count of parameter formats that claims 5 but has none.
    c.send(Buffer.concat([message('B', Buffer.from([0, 0, 0, 5])), serialize.sync()]));
    const err = await c.waitFor('error', from);
    expect(err.code).toBe('08P01');
    await c.waitClosed();
    expect(c.messages.slice(from).some((m) => m.name === 'parseComplete')).toBe(true);

    // A Bind whose parameter length runs past the end of the message.
    const d = await RawClient.ready(server.port);
    const fromD = d.messages.length;
    d.send(serialize.parse({ name: '', text: 'SELECT $1::int AS v', types: [23] }));
    const bind = Buffer.alloc(2 + 2 + 2 + 4 + 2);
    // portal "" and statement "" (two NULs), 0 formats, 1 param claiming 1000 bytes, no result formats.
    bind.writeInt16BE(0, 2);
    bind.writeInt16BE(1, 4);
    bind.writeInt32BE(1000, 6);
    d.send(Buffer.concat([message('B', bind), serialize.sync()]));
    const errD = await d.waitFor('error', fromD);
    expect(errD.code).toBe('08P01');
    await d.waitClosed();

    const reply = await other.query('SELECT 2 AS two');
    expect(reply.some((m) => m.name === 'dataRow')).toBe(true);
    other.destroy();
    await stillServes(server);
  });

  it('answers an unknown message type after authentication with FATAL 08P01', async () => {
    const c = await RawClient.ready(server.port);
    const from = c.messages.length;
    c.send(message('z', Buffer.from('hello')));
    const err = await c.waitFor('error', from);
    expect(err.severity).toBe('FATAL');
    expect(err.code).toBe('08P01');
    await c.waitClosed();
    await stillServes(server);
  });

  it("answers SSLRequest with 'N' when TLS is not configured, then starts in plain text", async () => {
    const c = await RawClient.connect(server.port);
    c.sendSslRequest();
    await c.until(() => c.sslAnswers[0], 'the SSL answer', WAIT_MS);
    expect(c.sslAnswers).toEqual(['N']);
    c.send(serialize.startup({ user: 'aiduck', database: 'aiduck' }));
    await c.waitFor('readyForQuery');
    expect(c.messages.some((m) => m.name === 'authenticationOk')).toBe(true);
    const reply = await c.query('SELECT 3 AS three');
    expect(reply.find((m) => m.name === 'dataRow')).toBeDefined();
    c.destroy();
  });

  it('does not cancel anything on a CancelRequest with a wrong secret; the right one cancels only its session', async () => {
    const bystander = await RawClient.ready(server.port);
    const c = await RawClient.ready(server.port);
    const key = c.messages.find((m) => m.name === 'backendKeyData');
    expect(key?.processID).toBeTypeOf('number');
    const from = c.messages.length;
    const fromB = bystander.messages.length;
    c.send(serialize.query(LONG_QUERY));
    bystander.send(serialize.query(LONG_QUERY));
    await new Promise((r) => setTimeout(r, 100));
    // Wrong secret, and a wrong pid: neither may touch the running query.
    const wrong: Array<[number, number]> = [[key!.processID!, (key!.secretKey! + 1) | 0], [key!.processID! + 100000, key!.secretKey!]];
    for (const [pid, secret] of wrong) {
      const k = await RawClient.connect(server.port);
      k.send(serialize.cancel(pid, secret));
      await k.waitClosed();
      expect(k.messages).toEqual([]);
    }
    await new Promise((r) => setTimeout(r, 400));
    expect(c.messages.slice(from)).toEqual([]);
    expect(c.closed).toBe(false);

    // The control: the right key cancels this session's query, and not the bystander's.
    const k = await RawClient.connect(server.port);
    k.send(serialize.cancel(key!.processID!, key!.secretKey!));
    await k.waitClosed();
    const err = await c.waitFor('error', from);
    expect(err.code).toBe('57014');
    await c.waitFor('readyForQuery', from);
    const after = await c.query('SELECT 5 AS five');
    expect(after.some((m) => m.name === 'dataRow')).toBe(true);
    expect(bystander.messages.slice(fromB)).toEqual([]);
    c.destroy();
    // Stop the bystander's query too, so that nothing is left running.
    const bkey = bystander.messages.find((m) => m.name === 'backendKeyData')!;
    const kb = await RawClient.connect(server.port);
    kb.send(serialize.cancel(bkey.processID!, bkey.secretKey!));
    expect((await bystander.waitFor('error', fromB)).code).toBe('57014');
    bystander.destroy();
  });

});

describe('authentication', { timeout: 15_000 }, () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ storage: 'memory', password: 'secret' });
  });
  afterAll(async () => {
    await server?.stop();
  });

  /** A raw client that has sent its startup packet and been asked for SCRAM-SHA-256. */
  async function askedForPassword(): Promise<RawClient> {
    const c = await RawClient.connect(server.port);
    c.send(serialize.startup({ user: 'aiduck', database: 'aiduck' }));
    const sasl = await c.waitFor('authenticationSASL');
    expect(sasl.mechanisms).toEqual(['SCRAM-SHA-256']);
    return c;
  }

  it('refuses a wrong password with 28P01 and accepts the right one over SCRAM-SHA-256', async () => {
    await expect(server.client({ password: 'wrong' })).rejects.toMatchObject({ code: '28P01' });
    const good = await server.client({ password: 'secret' });
    expect((await good.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    // The right password for another user is refused as well.
    await expect(server.client({ password: 'secret', user: 'mallory' })).rejects.toMatchObject({ code: '28P01' });
  });

  it('refuses a non-password message during authentication with FATAL 08P01', async () => {
    const c = await askedForPassword();
    c.send(serialize.query('SELECT 1'));
    await expectFatal(c, '08P01');
    expect(c.messages.some((m) => m.name === 'authenticationOk' || m.name === 'readyForQuery')).toBe(false);
  });

  it('refuses a SASLInitialResponse whose length word runs past the message', async () => {
    const c = await askedForPassword();
    const body = Buffer.concat([Buffer.from('SCRAM-SHA-256\0'), Buffer.from([0, 0, 0x10, 0]), Buffer.from('n,,n=,r=abc')]);
    c.send(message('p', body));
    const err = await c.waitFor('error');
    expect(err.severity).toBe('FATAL');
    expect(err.code).toBe('08P01');
    await c.waitClosed();
    expect(c.messages.some((m) => m.name === 'authenticationOk')).toBe(false);
  });

  it('buffers only small messages before authentication, whatever maxMessageBytes says', async () => {
    const c = await askedForPassword();
    c.send(message('p', Buffer.alloc(0), 1024 * 1024));
    await expectFatal(c, '54000');
    const good = await server.client({ password: 'secret' });
    expect((await good.query('SELECT 2 AS two')).rows).toEqual([{ two: 2 }]);
  });
});

describe('connection limits', { timeout: 15_000 }, () => {
  it('refuses a third client with 53300 when maxConnections is 2; the first two keep working', async () => {
    const server = await startTestServer({ storage: 'memory', maxConnections: 2 });
    try {
      const a = await server.client();
      const b = await server.client();
      const c = await RawClient.connect(server.port);
      c.send(serialize.startup({ user: 'aiduck', database: 'aiduck' }));
      const err = await expectFatal(c, '53300');
      expect(err.message).toMatch(/too many clients/);
      expect((await a.query('SELECT 1 AS v')).rows).toEqual([{ v: 1 }]);
      expect((await b.query('SELECT 2 AS v')).rows).toEqual([{ v: 2 }]);
      // node-postgres sees the same refusal.
      await expect(server.client()).rejects.toMatchObject({ code: '53300' });
      // Once one leaves, its slot is free again.
      await b.end();
      const d = await waitForSlot(server);
      expect((await d.query('SELECT 3 AS v')).rows).toEqual([{ v: 3 }]);
    } finally {
      await server.stop();
    }
  });

  it('frees the session of a client that disconnects in the middle of a long query', async () => {
    const server = await startTestServer({ storage: 'memory', maxConnections: 3, threads: 2 });
    try {
      const c = await RawClient.ready(server.port);
      const from = c.messages.length;
      c.send(serialize.query(LONG_QUERY));
      await new Promise((r) => setTimeout(r, 300));
      expect(c.messages.slice(from)).toEqual([]); // still running
      c.destroy();

      // Three new sessions fit only once the engine has let go of the old one.
      const started = Date.now();
      const clients = [];
      for (let i = 0; i < 3; i++) clients.push(await waitForSlot(server));
      expect(Date.now() - started).toBeLessThan(3000);
      for (const [i, cl] of clients.entries()) {
        expect((await cl.query(`SELECT ${i} AS v`)).rows).toEqual([{ v: i }]);
      }
      // With the long query gone the engine is idle: a trivial query answers at once.
      const t = Date.now();
      await clients[0]!.query('SELECT sum(range) FROM range(1000)');
      expect(Date.now() - t).toBeLessThan(500);
    } finally {
      // If the query were still running, the engine could not shut down: fail instead of hanging.
      await stopWithin(server, 5000);
    }
  });
});

async function stopWithin(server: TestServer, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`server did not stop within ${ms} ms`)), ms);
  });
  try {
    await Promise.race([server.stop(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

describe('shutdown', { timeout: 15_000 }, () => {
  it('stops the server while queries are running without aborting the process', async () => {
    const server = await startTestServer({ storage: 'memory', threads: 2 });
    const clients = [await RawClient.ready(server.port), await RawClient.ready(server.port)];
    for (const c of clients) c.send(serialize.query(LONG_QUERY));
    await new Promise((r) => setTimeout(r, 300));
    const t = Date.now();
    await stopWithin(server, 6000);
    expect(Date.now() - t).toBeLessThan(6000);
    for (const c of clients) await c.waitClosed();
  });
});

/** Connects, retrying briefly while the server still reports 53300 for a slot being released. */
async function waitForSlot(server: TestServer) {
  const deadline = Date.now() + 3000;
  for (;;) {
    try {
      return await server.client();
    } catch (err) {
      if ((err as { code?: string }).code !== '53300' || Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
