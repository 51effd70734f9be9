import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { startClientPair, type ClientPair } from './helpers/client-pair.js';
import { namePgColumns } from '../src/rewrite/column-names.js';

// Result columns are named as PostgreSQL 15 names them: the same select lists through aiduck and a
// real PostgreSQL, the names compared.

let pair: ClientPair;
let ours: pg.Client;
let theirs: pg.Client;

beforeAll(async () => {
  pair = await startClientPair();
  ({ ours, theirs } = pair);
  for (const c of [ours, theirs]) await c.query('CREATE TEMP TABLE t (a int, b text)');
});
afterAll(async () => {
  await pair?.stop();
});

const EXPRESSIONS = [
  'count(*)', 'count(a)', 'version()', 'sum(a)', 'max(a) filter (where true)', '1', 'now()', "'x'", 'a+1', 'upper(b)', 'cast(a as int)',
  'a::text', '1::text', '1::int', "'1'::bigint", "'x'::varchar(3)", 'coalesce(null, a)', 't.a', '(SELECT 1)', 'EXISTS (SELECT 1)',
  'CASE WHEN a > 1 THEN 1 END', '-a', 'a IS NULL', 'ARRAY[1,2]', '(a)', 'a AS x', 'current_date', "lower(b) || 'x'", "b LIKE 'x'",
  'a = 1', 'count(*) n', "date '2024-01-02'", "interval '1 day'", 'pg_catalog.upper(b)', 'row_number() over ()',
  'row_number() over (order by a)', 'greatest(a, 2)', 'nullif(a, 1)', "'a'::text::varchar", '(a + 1)::text', 'upper(b)::text',
  'current_user', 'percentile_cont(0.5) within group (order by a)', 'extract(year from now())', '$$x$$', '1.5::numeric(10,2)', 'true',
  'null', 'b', '"b"', 't.*', 'count(*), count(a), upper(b) AS "Upper"',
];

const names = async (c: pg.Client, sql: string): Promise<string> => {
  try {
    return (await c.query(sql)).fields.map((f) => f.name).join(' | ');
  } catch (e) {
    return `ERROR ${(e as { code?: string }).code}`;
  }
};

describe('column names, against PostgreSQL 15', () => {
  it('names each kind of select-list item as Postgres does: functions, casts, keywords, ?column?', async () => {
    for (const e of EXPRESSIONS) {
      const sql = `SELECT ${e} FROM t GROUP BY a, b`;
      expect(await names(ours, sql), sql).toBe(await names(theirs, sql));
    }
  });

  it('in WITH queries, and in the columns CREATE TABLE AS and CREATE VIEW make', async () => {
    for (const c of [ours, theirs]) {
      await c.query("CREATE TEMP TABLE ctas AS SELECT count(*), max(a) AS m, a::text, upper('x') FROM t GROUP BY a");
      await c.query('CREATE TEMP VIEW v AS SELECT sum(a), b::varchar FROM t GROUP BY b');
    }
    for (const sql of ["WITH x AS (SELECT 1 AS q), y (r) AS (SELECT 2) SELECT count(*), upper('a') FROM x, y", 'SELECT * FROM ctas', 'SELECT * FROM v',
      'SELECT count FROM (SELECT count(*) FROM t) s']) {
      expect(await names(ours, sql), sql).toBe(await names(theirs, sql));
    }
    expect(await names(ours, 'SELECT * FROM ctas')).toBe('count | m | a | upper');
  });
});

describe('the column-names pass', () => {
  it('aliases only what DuckDB would name otherwise, in every select list, and leaves the rest alone', () => {
    expect(namePgColumns('SELECT count(*), a, t.b, x AS y, 1 FROM t')).toBe('SELECT count(*) AS "count", a, t.b, x AS y, 1 AS "?column?" FROM t');
    expect(namePgColumns('SELECT x FROM (SELECT max(a) FROM t) s WHERE EXISTS (SELECT 1)')).toBe('SELECT x FROM (SELECT max(a) AS "max" FROM t) s WHERE EXISTS (SELECT 1 AS "?column?")');
    for (const sql of ['UPDATE t SET a = upper(b)', 'SELECT * FROM t', 'DELETE FROM t WHERE a IN (SELECT a FROM u)']) {
      expect(namePgColumns(sql)).toBe(sql);
    }
  });
});
