import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { serialize } from 'pg-protocol';
import { RawClient } from './helpers/raw-client.js';
import { startTestServer, type TestServer } from './helpers/server.js';

let server: TestServer;
let c: pg.Client;

beforeAll(async () => {
  server = await startTestServer();
  c = await server.client();
});
afterAll(async () => {
  await server.stop();
});

/** Column type OID and Postgres text of each expression, as a client receives them. */
async function wire(exprs: string[]): Promise<Array<[number, string | null]>> {
  const r = await c.query({ text: `SELECT ${exprs.join(', ')}`, rowMode: 'array', types: { getTypeParser: () => (v: string) => v } });
  return r.fields.map((f, i) => [f.dataTypeID, (r.rows[0] as Array<string | null>)[i] ?? null]);
}

describe('type mapping (text format)', () => {
  it('maps scalar types to Postgres OIDs and text forms', async () => {
    const got = await wire([
      'true', "1::TINYINT", '2::SMALLINT', '3::INTEGER', '4::BIGINT', '5::UTINYINT', '6::USMALLINT', '7::UINTEGER',
      '8::UBIGINT', '170141183460469231731687303715884105727::HUGEINT', '1.5::FLOAT', '0.1::DOUBLE',
      "'Infinity'::DOUBLE", '12.345::DECIMAL(10,3)', "'héllo'", "'\\x00\\xff'::BLOB", "DATE '2024-02-29'",
      "TIME '13:14:15.5'", "TIMESTAMP '2024-01-02 03:04:05.123456'", "TIMESTAMPTZ '2024-01-02 03:04:05+00'",
      "INTERVAL '1 year 2 months 3 days 04:05:06.7'", "'5d0a4bde-7e44-4d2a-9f1b-0a1f6e1f0b11'::UUID",
      `'{"a": 1}'::JSON`, 'NULL::INTEGER',
    ]);
    expect(got).toEqual([
      [16, 't'], [21, '1'], [21, '2'], [23, '3'], [20, '4'], [21, '5'], [23, '6'], [20, '7'],
      [1700, '8'], [1700, '170141183460469231731687303715884105727'], [700, '1.5'], [701, '0.1'],
      [701, 'Infinity'], [1700, '12.345'], [25, 'héllo'], [17, '\\x00ff'], [1082, '2024-02-29'],
      [1083, '13:14:15.5'], [1114, '2024-01-02 03:04:05.123456'], [1184, '2024-01-02 03:04:05+00'],
      [1186, '1 year 2 mons 3 days 04:05:06.7'], [2950, '5d0a4bde-7e44-4d2a-9f1b-0a1f6e1f0b11'],
      [114, '{"a": 1}'], [23, null],
    ]);
  });

  it('sends lists and fixed arrays as Postgres arrays, structs and maps as json', async () => {
    const got = await wire([
      '[1, 2, NULL]', "['a', 'b c', '', NULL, 'x\"y']", '[[1, 2], [3]]', '[0.5, 1.5]::FLOAT[2]',
      "{'k': 1, 'v': [1, 2]}", "MAP {'a': 1}", "[{'x': 1}]",
    ]);
    expect(got).toEqual([
      [1007, '{1,2,NULL}'], [1009, '{a,"b c","",NULL,"x\\"y"}'], [1007, '{{1,2},{3}}'], [1021, '{0.5,1.5}'],
      [114, '{"k":1,"v":[1,2]}'], [114, '{"a":1}'], [199, '{"{\\"x\\":1}"}'],
    ]);
  });
});

describe('type mapping (binary format)', () => {
  /** Runs a query through the extended protocol asking for binary results; returns each field's bytes. */
  async function binaryRow(sql: string): Promise<{ oids: number[]; formats: number[]; values: Array<Buffer | null> }> {
    const raw = await RawClient.connect(server.port);
    try {
      raw.send(serialize.parse({ text: sql }), serialize.bind({ binary: true }), serialize.describe({ type: 'P' }),
        serialize.execute(), serialize.sync());
      const msgs = await raw.until((m) => m.name === 'readyForQuery');
      const err = msgs.find((m) => m.name === 'error');
      if (err) throw Object.assign(new Error(err.message), { code: err.code });
      const desc = msgs.find((m) => m.name === 'rowDescription')!;
      const row = msgs.find((m) => m.name === 'dataRow')!;
      return {
        oids: desc.fields!.map((f) => f.dataTypeID),
        formats: desc.fields!.map((f) => (f.format === 'binary' ? 1 : 0)),
        values: row.values!,
      };
    } finally {
      raw.close();
    }
  }

  const PG_EPOCH_MS = Date.UTC(2000, 0, 1);

  it('encodes scalars in Postgres binary formats', async () => {
    const r = await binaryRow("SELECT 42::SMALLINT, 7::INTEGER, 9007199254740993::BIGINT, 1.25::FLOAT, 2.5::DOUBLE, true, 'txt', " +
      "TIMESTAMP '2024-01-02 03:04:05.5', DATE '2024-01-02', INTERVAL '1 month 2 days 00:00:03', '\\x01\\x02'::BLOB, " +
      "'5d0a4bde-7e44-4d2a-9f1b-0a1f6e1f0b11'::UUID, TIME '01:00:00'");
    expect(r.oids).toEqual([21, 23, 20, 700, 701, 16, 25, 1114, 1082, 1186, 17, 2950, 1083]);
    expect(r.formats.every((f) => f === 1)).toBe(true);
    const v = r.values as Buffer[];
    expect(v[0]!.readInt16BE(0)).toBe(42);
    expect(v[1]!.readInt32BE(0)).toBe(7);
    expect(v[2]!.readBigInt64BE(0)).toBe(9007199254740993n);
    expect(v[3]!.readFloatBE(0)).toBe(1.25);
    expect(v[4]!.readDoubleBE(0)).toBe(2.5);
    expect([...v[5]!]).toEqual([1]);
    expect(v[6]!.toString()).toBe('txt');
    expect(v[7]!.readBigInt64BE(0)).toBe(BigInt(Date.UTC(2024, 0, 2, 3, 4, 5, 500) - PG_EPOCH_MS) * 1000n);
    expect(v[8]!.readInt32BE(0)).toBe((Date.UTC(2024, 0, 2) - PG_EPOCH_MS) / 86_400_000);
    expect([v[9]!.readBigInt64BE(0), v[9]!.readInt32BE(8), v[9]!.readInt32BE(12)]).toEqual([3_000_000n, 2, 1]);
    expect([...v[10]!]).toEqual([1, 2]);
    expect(v[11]!.toString('hex')).toBe('5d0a4bde7e444d2a9f1b0a1f6e1f0b11');
    expect(v[12]!.readBigInt64BE(0)).toBe(3_600_000_000n);
  });

  it('encodes numerics as base-10000 digits with weight, sign and scale', async () => {
    const r = await binaryRow('SELECT -1234.5678::DECIMAL(12,4), 0.0001::DECIMAL(10,4), 10000::DECIMAL(10,0), 0::DECIMAL(5,2)');
    const parts = (b: Buffer): number[] => Array.from({ length: b.length / 2 }, (_, i) => (i === 2 ? b.readUInt16BE(4) : b.readInt16BE(i * 2)));
    // ndigits, weight, sign, dscale, digits...
    expect(parts(r.values[0]!)).toEqual([2, 0, 0x4000, 4, 1234, 5678]);
    expect(parts(r.values[1]!)).toEqual([1, -1, 0, 4, 1]);
    expect(parts(r.values[2]!)).toEqual([1, 1, 0, 0, 1]);
    expect(parts(r.values[3]!)).toEqual([0, 0, 0, 2]);
  });

  it('encodes one-dimensional arrays with a header and NULL elements', async () => {
    const r = await binaryRow('SELECT [1, NULL, 3]::INTEGER[]');
    const b = r.values[0]!;
    expect(r.oids).toEqual([1007]);
    // ndim, has-null, element oid, length, lower bound
    expect([0, 4, 8, 12, 16].map((o) => b.readInt32BE(o))).toEqual([1, 1, 23, 3, 1]);
    expect([b.readInt32BE(20), b.readInt32BE(24), b.readInt32BE(28), b.readInt32BE(32), b.readInt32BE(36)]).toEqual([4, 1, -1, 4, 3]);
  });

  it('refuses a binary result for a type without a binary form, with 0A000', async () => {
    await expect(binaryRow("SELECT TIME '01:02:03'::TIMETZ AS t")).rejects.toMatchObject({ code: '0A000' });
  });

  it('decodes binary parameters', async () => {
    const r = await c.query({ text: 'SELECT $1::INTEGER + 1 AS n, $2::TEXT AS t', values: [41, 'x'], queryMode: 'extended' });
    expect(r.rows).toEqual([{ n: 42, t: 'x' }]);
    const raw = await RawClient.connect(server.port);
    try {
      const int8 = Buffer.alloc(8);
      int8.writeBigInt64BE(5000000000n);
      const f8 = Buffer.alloc(8);
      f8.writeDoubleBE(0.5);
      const ts = Buffer.alloc(8);
      ts.writeBigInt64BE(BigInt(Date.UTC(2024, 5, 1) - PG_EPOCH_MS) * 1000n);
      raw.send(
        serialize.parse({ text: 'SELECT $1 * 2, $2 + 1, CAST($3 AS VARCHAR)', types: [20, 701, 1114] }),
        serialize.bind({ values: [int8, f8, ts], valueMapper: (v: unknown) => v as Buffer }),
        serialize.execute(), serialize.sync());
      const msgs = await raw.until((m) => m.name === 'readyForQuery');
      const row = msgs.find((m) => m.name === 'dataRow');
      expect(msgs.find((m) => m.name === 'error')).toBeUndefined();
      expect(row!.values!.map((f) => String(f))).toEqual(['10000000000', '1.5', '2024-06-01 00:00:00']);
    } finally {
      raw.close();
    }
  });
});
