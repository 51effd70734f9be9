import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import pg from 'pg';
import { serialize } from 'pg-protocol';
import { RawClient } from '../helpers/raw-client.js';
import { expectSameExcept } from './expect-same.js';
import { CLIENTS_DIR, PGJDBC, PYTHON, runOnBoth, startServerPair, type ServerPair, type Target } from './servers.js';

// Bulk inserts as drivers make them — psycopg2's execute_batch, execute_values and executemany,
// pandas.to_sql, pgJDBC's executeBatch with and without reWriteBatchedInserts, node-postgres'
// statement after statement — the same client code against aiduck and PostgreSQL 15: the same rows
// stored, the same answers when a batch fails. aiduck runs such batches as multi-row statements
// (src/session/insert-batches.ts); that it does is guarded by counting the statements DuckDB
// prepares (SHOW aiduck.statement_prepares), which unlike a timing does not depend on the load.

let servers: ServerPair;
let python: Record<'postgres' | 'aiduck', Record<string, unknown>>;
let jdbc: Record<'postgres' | 'aiduck', Record<string, unknown>>;

beforeAll(async () => {
  servers = await startServerPair();
  python = await runOnBoth(servers, PYTHON, [join(CLIENTS_DIR, 'bulk_inserts.py')]);
  jdbc = await runOnBoth(servers, 'java', ['-cp', PGJDBC, join(CLIENTS_DIR, 'JdbcBulk.java')]);
}, 120_000);
afterAll(async () => {
  await servers?.stop();
});

const rowsOf = (v: unknown): unknown[] => (Array.isArray(v) ? v : (v as { rows: unknown[] }).rows);

describe('psycopg2 and pandas', () => {
  it('store the same rows as PostgreSQL with execute_batch, execute_values, executemany and to_sql', () => {
    for (const key of ['execute_batch', 'execute_values', 'executemany', 'typed_values', 'to_sql_multi', 'copy_text', 'copy_text_crlf', 'copy_csv']) {
      expectSameExcept(python.postgres[key], python.aiduck[key]);
    }
    expect(rowsOf(python.aiduck['execute_batch'])).toHaveLength(2000);
    expect(rowsOf(python.aiduck['execute_values'])).toHaveLength(2000);
    expect(rowsOf(python.aiduck['typed_values'])).toHaveLength(300);
    expect(rowsOf(python.aiduck['execute_batch'])[3]).toEqual([4, 2147483647, '3.0000', 2.5, 'üñí ☃', true]);
    expect(rowsOf(python.aiduck['execute_values'])[2]).toEqual([3, -1, '12345678.1234', 1e300, 'back\\slash', null]);
    expect(rowsOf(python.aiduck['typed_values'])[6]).toEqual([7, '06ff0001', '2020-01-07', '\\x00ff']);
    // COPY FROM STDIN: text lines as they came and lines with escapes, NULL, empty strings, \x01; csv with quotes and newlines
    expect(rowsOf(python.aiduck['copy_text'])).toHaveLength(5000);
    expect(rowsOf(python.aiduck['copy_text']).slice(12, 17)).toEqual([
      [13, 'back\\slash', 'b13'], [14, 'plain 14', null], [15, 'plain 15', 'b15'], [16, 'plain 16', 'b16'], [17, 'étA', 'b17'],
    ]);
    expect(rowsOf(python.aiduck['copy_text'])[10]).toEqual([11, 'plain 11', '']);
    expect(rowsOf(python.aiduck['copy_csv'])[4]).toEqual([5, 'say "5"\n on two lines', null]);
  });

  it('fail a batch as PostgreSQL does: the same SQLSTATE, and what is left after it', () => {
    for (const key of ['batch_duplicate', 'values_duplicate', 'values_out_of_range', 'autocommit_batch', 'savepoint_after_failed_batch']) {
      expectSameExcept(python.postgres[key], python.aiduck[key]);
    }
    expect(python.aiduck['batch_duplicate']).toEqual({ error: '23505', left: [1, 0, 0] });
    expect(python.aiduck['values_out_of_range']).toEqual({ error: '22003', left: [1, 0, 0] });
    // the pages before the failing one were committed, the failing page went as a whole
    expect(python.aiduck['autocommit_batch']).toEqual({ error: '23505', left: [200, 1, 200] });
    expect(python.aiduck['savepoint_after_failed_batch']).toEqual({ error: '23505', left: [151, -1, 1149] });
  });

  it('prepare a few statements for a batch, not one per row', () => {
    // 2,000 rows in pages of 100: a statement of one row (which gives the columns' types), one of 100
    expect(python.aiduck['prepares.execute_batch']).toBe(2);
    expect(python.aiduck['prepares.execute_values']).toBe(2);
    // 300 statements of one row each: the first prepared as it is, then one for all the others
    expect(python.aiduck['prepares.executemany']).toBe(2);
  });
});

describe('pgJDBC', () => {
  it('stores the same rows with executeBatch, with and without reWriteBatchedInserts, with the same update counts', () => {
    for (const key of ['jdbc_batch', 'jdbc_rewrite', 'jdbc_small']) expectSameExcept(jdbc.postgres[key], jdbc.aiduck[key]);
    expect(jdbc.aiduck['jdbc_batch']).toMatchObject({ updateCountSum: 2000, updateCounts: 2000 });
    expect(rowsOf(jdbc.aiduck['jdbc_batch'])).toHaveLength(2000);
    expect(rowsOf(jdbc.aiduck['jdbc_rewrite'])[1]).toEqual([2, '1', '-0.0001', '-1.0E-5', "it's", false, '01ff0001', '2020-01-02']);
  });

  it('reports a batch with a duplicate key as PostgreSQL does: the entry that failed, the update counts before it', () => {
    expectSameExcept(jdbc.postgres['jdbc_dup'], jdbc.aiduck['jdbc_dup']);
    expectSameExcept(jdbc.postgres['jdbc_dup_rewrite'], jdbc.aiduck['jdbc_dup_rewrite']);
    expect(jdbc.aiduck['jdbc_dup']).toMatchObject({ sqlState: '23505', entry: 'Batch entry 200', left: 0 });
    // (pgJDBC reports every entry of a failed batch as EXECUTE_FAILED, whichever server)
    expect((jdbc.aiduck['jdbc_dup'] as { updateCounts: number[] }).updateCounts).toEqual(Array(300).fill(-3));
    expect(jdbc.aiduck['jdbc_dup_rewrite']).toMatchObject({ sqlState: '23505', left: 0 });
  });

  it('prepares a few statements for a batch, not one per row', () => {
    // 2,000 rows as the Bind messages arrive: statements of powers of two rows, then of the numbers
    // that come again (the statement itself and the few its batches settle on)
    expect(jdbc.aiduck['prepares.jdbc_batch']).toBeLessThanOrEqual(16);
    expect(jdbc.aiduck['prepares.jdbc_rewrite']).toBeLessThanOrEqual(16);
  });
});

describe('node-postgres', () => {
  const prepares = async (c: pg.Client): Promise<number> => Number((await c.query('SHOW aiduck.statement_prepares')).rows[0]['aiduck.statement_prepares']);

  it('prepares a statement it sends again and again once (it sends Parse before every execution)', async () => {
    const c = await servers.server.client();
    await c.query('CREATE TABLE node_rows (id integer, name text)');
    const before = await prepares(c);
    await c.query('BEGIN');
    for (let i = 1; i <= 300; i++) await c.query('INSERT INTO node_rows (id, name) VALUES ($1, $2)', [i, `name ${i}`]);
    await c.query('COMMIT');
    expect(await prepares(c) - before).toBe(1);
    expect((await c.query('SELECT count(*)::int AS n, sum(id)::int AS s FROM node_rows')).rows).toEqual([{ n: 300, s: 45150 }]);
  });

  it('prepares it again after the table changes, in this session or another one', async () => {
    const [a, b] = [await servers.server.client(), await servers.server.client()];
    await a.query('CREATE TABLE node_changing (x text)');
    const insert = { text: 'INSERT INTO node_changing (x) VALUES ($1)', values: ['7'] };
    const select = 'SELECT * FROM node_changing WHERE x IS NOT NULL';
    await a.query(insert);
    expect((await a.query(select)).rows).toEqual([{ x: '7' }]);
    // another session makes the column an integer and adds one: the same texts now mean other things
    await b.query('DROP TABLE node_changing; CREATE TABLE node_changing (x integer, y text DEFAULT \'new\')');
    await a.query({ ...insert, values: ['8'] });
    const after = await a.query(select);
    expect(after.fields.map((f) => [f.name, f.dataTypeID])).toEqual([['x', 23], ['y', 25]]);
    expect(after.rows).toEqual([{ x: 8, y: 'new' }]);
    // and in its own session, inside a transaction that is rolled back
    await a.query('BEGIN');
    await a.query('ALTER TABLE node_changing ADD COLUMN z boolean');
    expect((await a.query(select)).fields.map((f) => f.name)).toEqual(['x', 'y', 'z']);
    await a.query('ROLLBACK');
    expect((await a.query(select)).fields.map((f) => f.name)).toEqual(['x', 'y']);
  });

});

describe('the extended protocol, message by message', () => {
  /**
   * A table, a statement on it, then Bind/Describe/Execute of it for each row, sent as pgJDBC sends
   * a batch (in two writes, the second a moment later) and ended by Sync; then the table's count.
   * The messages back, as type and tag, SQLSTATE or values.
   */
  async function both(sql: string, rows: Array<Array<string | null>>): Promise<Record<'postgres' | 'aiduck', string[]>> {
    const run = async (target: Target): Promise<string[]> => {
      const raw = await RawClient.connect(target.port, target.user, 'aiduck', target.host);
      try {
        raw.send(serialize.query('DROP TABLE IF EXISTS raw_pipe; CREATE TABLE raw_pipe (id integer PRIMARY KEY, v numeric(6,2), note text DEFAULT \'-\')'));
        await raw.until((m) => m.name === 'readyForQuery');
        raw.send(serialize.parse({ name: 'ins', text: sql }), serialize.describe({ type: 'S', name: 'ins' }), serialize.sync());
        await raw.until((m) => m.name === 'readyForQuery');
        const execution = (row: Array<string | null>): Buffer[] =>
          [serialize.bind({ statement: 'ins', values: row }), serialize.describe({ type: 'P', name: '' }), serialize.execute({})];
        const half = Math.floor(rows.length / 2);
        raw.send(...rows.slice(0, half).flatMap(execution));
        await new Promise((r) => setTimeout(r, 50));
        raw.send(...rows.slice(half).flatMap(execution), serialize.sync());
        const batch = await raw.until((m) => m.name === 'readyForQuery');
        raw.send(serialize.query('SELECT count(*)::int, sum(v)::text, min(note) FROM raw_pipe'));
        const counted = await raw.until((m) => m.name === 'readyForQuery');
        return [...batch, ...counted].map((m) => [m.name, m.tag ?? m.code ?? m.status ?? m.values?.map((v) => v?.toString()).join('|')].filter(Boolean).join(' '));
      } finally {
        raw.close();
      }
    };
    const [postgres, aiduck] = await Promise.all([run(servers.postgres), run(servers.aiduck)]);
    return { postgres: postgres!, aiduck: aiduck! };
  }

  const rows = (n: number, duplicateAt = -1): Array<Array<string | null>> =>
    Array.from({ length: n }, (_, i) => [String(i === duplicateAt ? 3 : i), i % 7 === 0 ? null : (i / 4).toFixed(2)]);

  it('answers every Bind, Describe and Execute of a batch as PostgreSQL does', async () => {
    const { postgres, aiduck } = await both('INSERT INTO raw_pipe (id, v) VALUES ($1, $2)', rows(300));
    expectSameExcept(postgres, aiduck);
    expect(aiduck.filter((m) => m === 'commandComplete INSERT 0 1')).toHaveLength(300);
    const sum = rows(300).reduce((n, [, v]) => n + Number(v ?? 0), 0);
    expect(aiduck.slice(-4)).toEqual(['rowDescription', `dataRow 300|${sum.toFixed(2)}|-`, 'commandComplete SELECT 1', 'readyForQuery I']);
  });

  it('fails a batch at the row that fails, with the answers before it, as PostgreSQL does', async () => {
    const { postgres, aiduck } = await both('INSERT INTO raw_pipe (id, v) VALUES ($1, $2)', rows(300, 211));
    expectSameExcept(postgres, aiduck);
    expect(aiduck.filter((m) => m === 'commandComplete INSERT 0 1')).toHaveLength(211);
    expect(aiduck).toContain('error 23505');
  });

  it('runs rows with constants, DEFAULT and casts around the parameters as the statement says', async () => {
    const { postgres, aiduck } = await both("INSERT INTO raw_pipe (note, id, v) VALUES ('n' || 'x', $1::int + 1000, CAST($2 AS numeric) * 2), (DEFAULT, $1, 1.5)", rows(40));
    expectSameExcept(postgres, aiduck);
    expect(aiduck.filter((m) => m === 'commandComplete INSERT 0 2')).toHaveLength(40);
  });
});
