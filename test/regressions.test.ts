import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serialize } from 'pg-protocol';
import type pg from 'pg';
import { RawClient } from './helpers/raw-client.js';
import { run } from './helpers/run.js';
import { startTestServer, type TestServer } from './helpers/server.js';

// Cases a review of the wire server found wrong, each checked against what PostgreSQL 15 does.

let server: TestServer;
let c: pg.Client;

beforeAll(async () => {
  server = await startTestServer();
  c = await server.client();
});
afterAll(async () => {
  await server.stop();
});

const psql = (args: string[], input?: string) =>
  run('psql', ['-X', '-A', '-t', '-h', '127.0.0.1', '-p', String(server.port), '-U', 'aiduck', '-d', 'aiduck', '-v', 'ON_ERROR_STOP=1', ...args],
    input === undefined ? {} : { input });

describe('COPY FROM STDIN', () => {
  it('survives a CopyFail right behind CopyData, and keeps serving', async () => {
    await c.query('CREATE TABLE cf (a INTEGER, b VARCHAR)');
    const raw = await RawClient.connect(server.port);
    try {
      raw.send(serialize.query('COPY cf FROM STDIN'));
      await raw.until((m) => m.name === 'unknown(G)');
      raw.send(serialize.copyData(Buffer.from('9\tx\n')), serialize.copyFail('client gave up'));
      const msgs = await raw.until((m) => m.name === 'readyForQuery');
      expect(msgs.find((m) => m.name === 'error')).toMatchObject({ code: '57014', message: 'COPY from stdin failed: client gave up' });
    } finally {
      raw.close();
    }
    expect((await c.query('SELECT count(*)::INTEGER AS n FROM cf')).rows).toEqual([{ n: 0 }]);
  });

  it('decodes UTF-8 characters split across CopyData messages', async () => {
    await c.query('CREATE TABLE split_utf8 (s VARCHAR)');
    const raw = await RawClient.connect(server.port);
    try {
      const bytes = Buffer.from('héllo wörld\n');
      raw.send(serialize.query('COPY split_utf8 FROM STDIN'));
      await raw.until((m) => m.name === 'unknown(G)');
      raw.send(serialize.copyData(bytes.subarray(0, 2)), serialize.copyData(bytes.subarray(2)), serialize.copyDone());
      const msgs = await raw.until((m) => m.name === 'readyForQuery');
      expect(msgs.find((m) => m.name === 'error')).toBeUndefined();
    } finally {
      raw.close();
    }
    expect((await c.query('SELECT s FROM split_utf8')).rows).toEqual([{ s: 'héllo wörld' }]);
  });

  it('takes inline csv data ended by \\. from a psql script, into a quoted table name', async () => {
    const script = 'CREATE TABLE "my table" (a INTEGER, b VARCHAR);\nCOPY "my table" FROM STDIN WITH (FORMAT csv);\n1,"two\nlines"\n2,plain\n\\.\nSELECT count(*), max(length(b)) FROM "my table";\n';
    const r = await psql(['-f', '-'], script);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('COPY 2');
    expect(r.stdout).toMatch(/^2\|9$/m);
  });

  it('round-trips bytea, arrays, structs and maps through COPY TO and FROM', async () => {
    await c.query(`CREATE TABLE rich AS SELECT '\\x00\\xff'::BLOB AS bin, [1, NULL, 3] AS ints, ['a b', 'c'] AS strs,
      {'k': 1, 's': 'x'} AS st, MAP {'m': 2} AS mp, 'tab\there' AS txt`);
    await c.query('CREATE TABLE rich_text AS SELECT * FROM rich LIMIT 0; CREATE TABLE rich_csv AS SELECT * FROM rich LIMIT 0');
    const file = `${server.dataDir}/rich`;
    for (const [table, opts] of [['rich_text', ''], ['rich_csv', 'WITH (FORMAT csv)']] as const) {
      const out = await psql(['-c', `\\copy rich TO '${file}' ${opts}`]);
      expect(out.status, out.stderr).toBe(0);
      const back = await psql(['-c', `\\copy ${table} FROM '${file}' ${opts}`]);
      expect(back.status, back.stderr).toBe(0);
      const same = await c.query(`SELECT count(*)::INTEGER AS n, octet_length(any_value(bin))::INTEGER AS bytes FROM (SELECT * FROM rich INTERSECT SELECT * FROM ${table})`);
      expect(same.rows).toEqual([{ n: 1, bytes: 2 }]);
    }
  });
});

describe('transactions and errors', () => {
  it('runs several statements of one Query atomically', async () => {
    await c.query('CREATE TABLE atomic (i INTEGER)');
    await expect(c.query('INSERT INTO atomic VALUES (1); SELECT * FROM no_such_table')).rejects.toMatchObject({ code: '42P01' });
    expect((await c.query('SELECT count(*)::INTEGER AS n FROM atomic')).rows).toEqual([{ n: 0 }]);
    await c.query('INSERT INTO atomic VALUES (1); INSERT INTO atomic VALUES (2)');
    expect((await c.query('SELECT count(*)::INTEGER AS n FROM atomic')).rows).toEqual([{ n: 2 }]);
    // A COMMIT inside the Query ends the implicit transaction; what follows it is a new one.
    await expect(c.query('INSERT INTO atomic VALUES (3); COMMIT; INSERT INTO atomic VALUES (4); SELECT * FROM no_such_table'))
      .rejects.toMatchObject({ code: '42P01' });
    expect((await c.query('SELECT list(i ORDER BY i) AS xs FROM atomic')).rows).toEqual([{ xs: [1, 2, 3] }]);
  });

  it('runs a pipelined extended-protocol batch atomically, up to Sync', async () => {
    await c.query('CREATE TABLE batch (k INTEGER PRIMARY KEY)');
    const raw = await RawClient.connect(server.port);
    try {
      const insert = (k: number): Buffer[] => [serialize.parse({ text: 'INSERT INTO batch VALUES ($1)' }),
        serialize.bind({ values: [String(k)] }), serialize.describe({ type: 'P' }), serialize.execute()];
      raw.send(...insert(1), ...insert(2), ...insert(2), serialize.sync());
      const failed = await raw.until((m) => m.name === 'readyForQuery');
      expect(failed.find((m) => m.name === 'error')).toMatchObject({ code: '23505' });
      expect((await c.query('SELECT count(*)::INTEGER AS n FROM batch')).rows).toEqual([{ n: 0 }]);
      raw.send(...insert(1), ...insert(2), serialize.sync());
      const ok = await raw.until((m) => m.name === 'readyForQuery');
      expect(ok.filter((m) => m.name === 'commandComplete').length).toBe(2);
      expect(ok.at(-1)!.status).toBe('I');
    } finally {
      raw.close();
    }
    expect((await c.query('SELECT list(k ORDER BY k) AS ks FROM batch')).rows).toEqual([{ ks: [1, 2] }]);
  });

  it('does not report later errors as a statement timeout', async () => {
    const t = await server.client();
    await t.query("SET statement_timeout = '150ms'");
    await expect(t.query('SELECT sum(hash(i)) FROM range(5000000000) r(i)')).rejects.toMatchObject({ code: '57014' });
    await expect(t.query('SELEC 1')).rejects.toMatchObject({ code: '42601' });
    await expect(t.query('SELECT * FROM nowhere_at_all')).rejects.toMatchObject({ code: '42P01' });
  });

  it('finishes queued statements before honouring Terminate', async () => {
    await c.query('CREATE TABLE queued (i INTEGER)');
    const raw = await RawClient.connect(server.port);
    raw.send(serialize.query('INSERT INTO queued SELECT * FROM range(100000)'), serialize.query('INSERT INTO queued VALUES (-1)'), serialize.end());
    const deadline = Date.now() + 10_000;
    while (!raw.closed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(raw.closed).toBe(true);
    expect((await c.query('SELECT count(*)::INTEGER AS n FROM queued')).rows).toEqual([{ n: 100001 }]);
  });
});

describe('settings', () => {
  it('shows settings DuckDB keeps, not a table of that name', async () => {
    const t = await server.client();
    await t.query("SET search_path = 'main'");
    expect((await t.query('SHOW search_path')).rows).toEqual([{ search_path: 'main' }]);
    expect((await t.query('SHOW threads')).rows).toEqual([{ threads: '2' }]);
  });

  it('drops several objects in one DROP, all of them (test/drop-many.test.ts compares it with PostgreSQL)', async () => {
    const t = await server.client();
    await t.query('CREATE TABLE drop_a (x int); CREATE TABLE drop_b (x int)');
    expect((await t.query('DROP TABLE IF EXISTS drop_a, drop_b')).command).toBe('DROP');
    expect((await t.query("SELECT count(*)::INT AS n FROM duckdb_tables() WHERE table_name IN ('drop_a', 'drop_b')")).rows[0].n).toBe(0);
    await t.end();
  });
});

describe('INSERT without a column list', () => {
  it('fills the columns after the values with their defaults, as Postgres does; more values than columns is 42601', async () => {
    const t = await server.client();
    await t.query("CREATE TABLE short_rows (id int, name text DEFAULT 'n', n int)");
    await t.query('INSERT INTO short_rows VALUES (1)');
    await t.query("INSERT INTO short_rows VALUES (2, 'b'), (3, 'c')");
    await t.query('INSERT INTO short_rows VALUES ($1)', [4]);
    await expect(t.query("INSERT INTO short_rows VALUES (5, 'e', 5, 5)")).rejects.toMatchObject({ code: '42601' });
    expect((await t.query('SELECT id, name, n FROM short_rows ORDER BY id')).rows)
      .toEqual([{ id: 1, name: 'n', n: null }, { id: 2, name: 'b', n: null }, { id: 3, name: 'c', n: null }, { id: 4, name: 'n', n: null }]);
    await t.end();
  });
});

describe('what DuckDB cannot do', () => {
  it('is answered with the SQLSTATE Postgres uses and what to do instead', async () => {
    const t = await server.client();
    await t.query('CREATE TABLE cannot_t (id int)');
    await t.query('CREATE INDEX cannot_i ON cannot_t (id)');
    await expect(t.query('WITH gone AS (DELETE FROM cannot_t RETURNING id) SELECT count(*) FROM gone'))
      .rejects.toMatchObject({ code: '0A000', hint: expect.stringContaining('statement of its own') });
    await expect(t.query('CREATE MATERIALIZED VIEW cannot_mv AS SELECT 1')).rejects.toMatchObject({ code: '0A000', hint: expect.stringContaining('CREATE TABLE') });
    await expect(t.query('ALTER TABLE cannot_t RENAME COLUMN id TO key')).rejects.toMatchObject({ code: '2BP01', hint: expect.stringContaining('drop the indexes') });
    await expect(t.query('CREATE TEMP TABLE cannot_tt (x int) ON COMMIT DROP')).rejects.toMatchObject({ code: '0A000' });
    await t.end();
  });
});

describe('parameters and result descriptions', () => {
  it('types parameters that text does not fit as numbers', async () => {
    await c.query('CREATE TABLE prices (id INTEGER, price DOUBLE)');
    await c.query('INSERT INTO prices VALUES (1, 10), (2, 20)');
    const u = await c.query('UPDATE prices SET price = price * $1 WHERE id = $2', ['1.5', 1]);
    expect(u.rowCount).toBe(1);
    expect((await c.query('SELECT price FROM prices ORDER BY id')).rows).toEqual([{ price: 15 }, { price: 20 }]);
    expect((await c.query('SELECT $1 + 1 AS n', [41])).rows[0].n).toBe(42);
  });

  it('describes results whose types depend on the parameters (optional filters)', async () => {
    await c.query('CREATE TABLE opt (a INTEGER, b VARCHAR)');
    await c.query("INSERT INTO opt VALUES (1, 'x'), (2, 'y')");
    const all = await c.query('SELECT a FROM opt WHERE b = $1 OR $1 IS NULL ORDER BY a', [null]);
    expect(all.rows).toEqual([{ a: 1 }, { a: 2 }]);
    const one = await c.query('SELECT a FROM opt WHERE b = $1 OR $1 IS NULL ORDER BY a', ['y']);
    expect(one.rows).toEqual([{ a: 2 }]);
  });

  it('describes a named statement from its current result after the table changed', async () => {
    await c.query('CREATE TABLE shifting (a INTEGER)');
    await c.query('INSERT INTO shifting VALUES (1)');
    const q = { name: 'shifting_q', text: 'SELECT * FROM shifting WHERE $1::INTEGER = 1', values: [1] };
    expect((await c.query(q)).rows).toEqual([{ a: 1 }]);
    await c.query('DROP TABLE shifting');
    await c.query("CREATE TABLE shifting (a VARCHAR, b INTEGER)");
    await c.query("INSERT INTO shifting VALUES ('abc', 2)");
    expect((await c.query(q)).rows).toEqual([{ a: 'abc', b: 2 }]);
  });
});
