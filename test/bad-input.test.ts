import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { serialize } from 'pg-protocol';
import { Parser } from 'pg-protocol/dist/parser.js';
import { connect, type Socket } from 'node:net';
import { startTestServer, type TestServer } from './helpers/server.js';
import { startOpenAIServer, type OpenAITestServer } from './helpers/openai-server.js';
import { startReferencePostgres } from './helpers/reference-postgres.mjs';

// Bad input gets an error that says what is wrong, with the SQLSTATE Postgres uses: never XX000,
// never a silently different value. Where Postgres takes the input, the same client code runs
// against PostgreSQL 15 and the answers are compared.
let server: TestServer;
let reference: Awaited<ReturnType<typeof startReferencePostgres>>;
let openai: OpenAITestServer;
let c: pg.Client;

beforeAll(async () => {
  openai = await startOpenAIServer({ dimension: 16 });
  server = await startTestServer({ storage: 'memory' });
  reference = await startReferencePostgres();
  c = await server.client();
  await c.query(`SELECT * FROM register_model('llm', 'openai:${openai.url}', endpoint_model => 'gpt-test')`);
  await c.query(`SELECT * FROM register_model('summarizer', 'openai:${openai.url}', endpoint_model => 'gpt-test')`);
});
afterAll(async () => {
  await server?.stop();
  await reference?.stop();
  await openai?.close();
});

/** A session on a raw socket: Parse/Bind/Describe/Execute/Sync of one statement with one binary parameter. */
class BinaryProbe {
  private readonly messages: Array<{ name: string; code?: string; message?: string; fields?: unknown[] }> = [];
  private wake: (() => void) | null = null;
  private constructor(private readonly socket: Socket) {
    const parser = new Parser();
    socket.on('data', (d: Buffer) => {
      parser.parse(d, (m) => this.messages.push(m as (typeof this.messages)[number]));
      this.wake?.();
    });
  }

  static async open(port: number, user: string, database: string): Promise<BinaryProbe> {
    const socket = connect(port, '127.0.0.1');
    await new Promise((r) => socket.once('connect', r));
    const p = new BinaryProbe(socket);
    socket.write(serialize.startup({ user, database }));
    await p.ready();
    return p;
  }

  private async ready(): Promise<Array<{ name: string; code?: string; message?: string; fields?: unknown[] }>> {
    for (;;) {
      const i = this.messages.findIndex((m) => m.name === 'readyForQuery');
      if (i >= 0) return this.messages.splice(0, i + 1);
      await new Promise<void>((r) => (this.wake = r));
    }
  }

  /** The SQLSTATE of the error, or the value as text. */
  async run(sql: string, oid: number, value: Buffer): Promise<string> {
    this.socket.write(Buffer.concat([serialize.parse({ text: sql, types: [oid] }), serialize.bind({ values: [value] }),
      serialize.describe({ type: 'P' }), serialize.execute(), serialize.sync()]));
    const got = await this.ready();
    const err = got.find((m) => m.name === 'error');
    if (err) return `error ${err.code}`;
    const row = got.find((m) => m.name === 'dataRow') as { fields?: Array<string | null> } | undefined;
    return `value ${row?.fields?.[0]}`;
  }

  close(): void {
    this.socket.destroy();
  }
}

const numeric = (ndigits: number, weight: number, sign: number, dscale: number, digits: number[]): Buffer => {
  const b = Buffer.alloc(8 + digits.length * 2);
  b.writeUInt16BE(ndigits & 0xffff, 0);
  b.writeInt16BE(weight, 2);
  b.writeUInt16BE(sign, 4);
  b.writeUInt16BE(dscale & 0xffff, 6);
  digits.forEach((d, i) => b.writeInt16BE(d, 8 + i * 2));
  return b;
};
const int4 = (v: number): Buffer => { const b = Buffer.alloc(4); b.writeInt32BE(v); return b; };
const int8 = (v: bigint): Buffer => { const b = Buffer.alloc(8); b.writeBigInt64BE(v); return b; };
/** Postgres' binary array: dimensions, has-nulls, element type, (size, lower bound) per dimension, then each element. */
const pgArray = (elementOid: number, dims: number[], elements: Array<Buffer | null>): Buffer => {
  const head = Buffer.alloc(12 + 8 * dims.length);
  head.writeInt32BE(dims.length, 0);
  head.writeInt32BE(elements.includes(null) ? 1 : 0, 4);
  head.writeInt32BE(elementOid, 8);
  dims.forEach((d, i) => { head.writeInt32BE(d, 12 + 8 * i); head.writeInt32BE(1, 16 + 8 * i); });
  return Buffer.concat([head, ...elements.map((e) => (e === null ? int4(-1) : Buffer.concat([int4(e.length), e])))]);
};
const float8 = (v: number): Buffer => { const b = Buffer.alloc(8); b.writeDoubleBE(v); return b; };
const NUMERIC = 1700;
const DATE = 1082;
const TIMESTAMP = 1114;
const TIMESTAMPTZ = 1184;

describe('binary parameters out of range', () => {
  const cases: Array<[string, string, number, Buffer]> = [
    ['numeric announcing 5 digits, sending 1', 'SELECT $1::numeric', NUMERIC, numeric(5, 0, 0, 0, [1])],
    ['numeric announcing 65535 digits, sending none', 'SELECT $1::numeric', NUMERIC, numeric(0xffff, 0, 0, 0, [])],
    ['numeric of 3 bytes', 'SELECT $1::numeric', NUMERIC, Buffer.from([0, 1, 0])],
    ['numeric with bytes after its digits', 'SELECT $1::numeric', NUMERIC, Buffer.concat([numeric(1, 0, 0, 0, [1]), Buffer.from([0, 0])])],
    ['numeric digit 10000', 'SELECT $1::numeric', NUMERIC, numeric(1, 0, 0, 0, [10000])],
    ['numeric digit -5', 'SELECT $1::numeric', NUMERIC, numeric(1, 0, 0, 0, [-5])],
    ['numeric sign 0x1234', 'SELECT $1::numeric', NUMERIC, numeric(1, 0, 0x1234, 0, [1])],
    ['numeric scale 0xfffd', 'SELECT $1::numeric', NUMERIC, numeric(1, 0, 0, 0xfffd, [1])],
    ['numeric 12.5', 'SELECT $1::numeric = 12.5', NUMERIC, numeric(2, 0, 0, 1, [12, 5000])],
    ['date 0x7fffffff (infinity)', 'SELECT $1::date::text', DATE, int4(0x7fffffff)],
    ['date 0x7ffffffe', 'SELECT $1::date', DATE, int4(0x7ffffffe)],
    ['date -0x7fffffff', 'SELECT $1::date', DATE, int4(-0x7fffffff)],
    ['date -2,000,000,000', 'SELECT $1::date', DATE, int4(-2_000_000_000)],
    ['timestamp int64 max (infinity)', 'SELECT $1::timestamp::text', TIMESTAMP, int8(9223372036854775807n)],
    ['timestamp int64 max - 1', 'SELECT $1::timestamp', TIMESTAMP, int8(9223372036854775806n)],
    ['timestamp int64 min + 1', 'SELECT $1::timestamp', TIMESTAMP, int8(-9223372036854775807n)],
    ['timestamptz int64 max - 1', 'SELECT $1::timestamptz', TIMESTAMPTZ, int8(9223372036854775806n)],
    ['timestamp -9e18', 'SELECT $1::timestamp', TIMESTAMP, int8(-9_000_000_000_000_000_000n)],
    ['int4 sent for an int2', 'SELECT $1::smallint', 21, int4(5)],
    // Arrays, as pgJDBC sends setArray once its statement is prepared on the server.
    ['int4[] {1,NULL,3}', 'SELECT $1::int[]', 1007, pgArray(23, [3], [int4(1), null, int4(3)])],
    ['int8[] of 2x2', 'SELECT $1::bigint[][]', 1016, pgArray(20, [2, 2], [int8(1n), int8(-2n), int8(9007199254740993n), int8(4n)])],
    ['text[] with quotes, commas, braces and NULL', 'SELECT $1::text[]', 1009, pgArray(25, [4], [Buffer.from('a'), Buffer.from('b,"c'), Buffer.from('{x}'), null])],
    ['float8[] NaN, Infinity, -0', 'SELECT $1::float8[]', 1022, pgArray(701, [3], [float8(NaN), float8(-Infinity), float8(-0)])],
    ['bool[]', 'SELECT $1::boolean[]', 1000, pgArray(16, [2], [Buffer.from([1]), Buffer.from([0])])],
    ['empty int4[]', 'SELECT $1::int[]', 1007, pgArray(23, [], [])],
    ['int4[] in = ANY', 'SELECT 3 = ANY($1::int[])', 1007, pgArray(23, [2], [int4(1), int4(3)])],
    ['int4[] cut short', 'SELECT $1::int[]', 1007, pgArray(23, [3], [int4(1), int4(2), int4(3)]).subarray(0, 30)],
  ];

  it('get the error PostgreSQL 15 gives (or its value), never XX000', async () => {
    const ours = await BinaryProbe.open(server.port, 'aiduck', 'aiduck');
    const theirs = await BinaryProbe.open(reference.port, reference.user, reference.database);
    const seen: Record<string, [string, string]> = {};
    for (const [name, sql, oid, value] of cases) seen[name] = [await ours.run(sql, oid, value), await theirs.run(sql, oid, value)];
    ours.close();
    theirs.close();
    for (const [name, [a, b]] of Object.entries(seen)) expect(a, name).toBe(b);
    expect(Object.values(seen).filter(([a]) => a.startsWith('error')).length).toBeGreaterThan(12);
  });

  it('say which parameter is wrong and how; numbers beyond DuckDB\'s types are refused, not changed', async () => {
    const ours = await BinaryProbe.open(server.port, 'aiduck', 'aiduck');
    expect(await ours.run('SELECT $1::numeric', NUMERIC, numeric(1, 0, 0, 0, [10000]))).toBe('error 22P03');
    // Postgres takes these (its numeric has no size limit, and infinities); aiduck's numeric (DECIMAL(38,10)) does not.
    expect(await ours.run('SELECT $1::numeric', NUMERIC, numeric(1, 32767, 0, 0, [1]))).toBe('error 22003');
    expect(await ours.run('SELECT $1::numeric', NUMERIC, numeric(0, 0, 0xd000, 0, []))).toBe('error 22P02');
    // 41 digits before the point: refused as not fitting exactly (22003), never rounded.
    expect(await ours.run('SELECT $1::numeric', NUMERIC, numeric(11, 10, 0, 0, [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]))).toBe('error 22003');
    ours.close();
  });
});

describe('COPY', () => {
  it('a COPY whose query does not parse is a syntax error (42601), as in PostgreSQL', async () => {
    const ref = new (await import('pg')).default.Client({ host: '127.0.0.1', port: reference.port, user: reference.user, database: reference.database });
    await ref.connect();
    for (const sql of ['COPY (SELECT 1 TO STDOUT', 'COPY (SELECT FROM) TO STDOUT', 'COPY (SELEC 1) TO STDOUT']) {
      const ours = await c.query(sql).catch((e: unknown) => e);
      const theirs = await ref.query(sql).catch((e: unknown) => e);
      expect(ours, sql).toMatchObject({ code: '42601' });
      expect(theirs, sql).toMatchObject({ code: '42601' });
    }
    await ref.end();
    expect((await c.query('SELECT 1 AS still')).rows).toEqual([{ still: 1 }]);
  });
});

describe('argument checks of the SQL functions', () => {
  it('the retrieval metrics refuse a k that is not a positive whole number, and say so', async () => {
    for (const [call, fn] of [['ndcg_at_k([\'a\'], [\'a\', \'b\'], -1)', 'ndcg_at_k'], ['recall_at_k([\'a\'], [\'a\'], 0)', 'recall_at_k'],
      ['precision_at_k([\'a\'], [\'a\'], 2.5)', 'precision_at_k']] as const) {
      const err = await c.query(`SELECT ${call} AS v`).catch((e: unknown) => e);
      expect(err, call).toMatchObject({ code: '22023', message: expect.stringContaining(`${fn}: k must be a positive whole number`) });
    }
    // Row by row too, and a NULL k is a NULL score.
    const bad = await c.query(`SELECT recall_at_k(['a'], ['a'], k) FROM (VALUES (1), (0)) t(k)`).catch((e: unknown) => e);
    expect(bad).toMatchObject({ code: '22023' });
    const ok = await c.query(`SELECT recall_at_k(['a', 'b'], ['a', 'x', 'b'], 2) AS r, ndcg_at_k(['a'], ['a'], 1) AS n, precision_at_k(['a'], ['a'], NULL) AS p`);
    expect(ok.rows).toEqual([{ r: 0.5, n: 1, p: null }]);
  });

  it('ai_summarize refuses a max_words that is not a positive whole number', async () => {
    for (const words of ['-1', '0', '2.5']) {
      const err = await c.query(`SELECT ai_summarize('some text', max_words => ${words}) AS s`).catch((e: unknown) => e);
      expect(err, words).toMatchObject({ code: '22023', message: expect.stringContaining(`max_words must be a positive whole number, got ${words}`) });
    }
    openai.reset({ dimension: 16 });
    const ok = await c.query(`SELECT ai_summarize('some text', max_words => 10) AS s`);
    expect(ok.rows[0].s).toBe('echo: some text');
    expect(openai.stats.lastBody).toMatchObject({ max_tokens: 20 });
  });

  it('ai_extract refuses an empty list of labels, and empty or repeated ones', async () => {
    const cases = [["[]::VARCHAR[]", 'labels is empty'], ["['person', '']", 'labels must be distinct, non-empty names'],
      ["['person', 'person']", 'labels must be distinct, non-empty names'], ["['person', NULL]", 'labels must be distinct, non-empty names']];
    for (const [labels, says] of cases) {
      const err = await c.query(`SELECT ai_extract('Ada met Grace', ${labels}) AS e`).catch((e: unknown) => e);
      expect(err, labels).toMatchObject({ code: '22023', message: expect.stringContaining(`ai_extract: ${says}`) });
    }
    const ok = await c.query(`SELECT ai_extract('Ada met Grace', ['person']) IS NOT NULL AS e, ai_extract('x', NULL::VARCHAR[]) IS NULL AS n`);
    expect(ok.rows).toEqual([{ e: true, n: true }]);
  });
});
