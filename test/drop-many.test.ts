import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import pg from 'pg';
import { startClientPair, type ClientPair } from './helpers/client-pair.js';
import { clientEnv } from './helpers/reference-postgres.mjs';
import { run } from './helpers/run.js';
import { CLIENTS_DIR, PGJDBC } from './clients/servers.js';

// DROP of several objects in one statement (`DROP TABLE IF EXISTS a, b, c`), as PostgreSQL 15 runs
// it: the same statements through aiduck and a real PostgreSQL, in both protocols, and what each
// client saw — tags, notices, errors — and what remained, compared.

let pair: ClientPair;
let ours: pg.Client;
let theirs: pg.Client;

beforeAll(async () => {
  pair = await startClientPair();
  ({ ours, theirs } = pair);
});
afterAll(async () => {
  await pair?.stop();
});

/** Errors whose words aiduck promises to be Postgres' own; for the others (a dependency's details) the SQLSTATE is compared. */
const WORDED = new Set(['42P01', '42704', '3F000', '42883', '25006', '25P02', '3B001', '42809']);

/**
 * What one client saw for each statement: its tag or rows, each notice, or the error. PostgreSQL's
 * "drop cascades to ..." NOTICEs are left out: aiduck's single DROP ... CASCADE does not send them either.
 */
async function seen(c: pg.Client, statements: string[], extended = false): Promise<string[]> {
  const out: string[] = [];
  const onNotice = (n: { severity?: string; message: string }): void => {
    if (!n.message.startsWith('drop cascades to')) out.push(`${n.severity} ${n.message}`);
  };
  c.on('notice', onNotice);
  try {
    for (const sql of statements) {
      out.push(`> ${sql}`);
      try {
        const r = await c.query(extended && !/^(BEGIN|COMMIT|ROLLBACK|SAVEPOINT)/.test(sql) ? { text: sql, queryMode: 'extended' } : sql);
        out.push(r.command === 'SELECT' ? JSON.stringify(r.rows) : r.command);
      } catch (e) {
        const err = e as { code?: string; message: string; hint?: string };
        out.push(`ERROR ${err.code}${WORDED.has(err.code ?? '') ? ` ${err.message}${err.code === '42809' ? ` / ${err.hint}` : ''}` : ''}`);
      }
    }
  } finally {
    c.off('notice', onNotice);
  }
  return out;
}

/** Runs the statements on both servers and expects the same answers; returns PostgreSQL's. */
async function compare(statements: string[], extended = false): Promise<string[]> {
  const [a, b] = [await seen(ours, statements, extended), await seen(theirs, statements, extended)];
  expect(a).toEqual(b);
  return b;
}

/** The tables and views named dm_% of the default schema, as a query both servers answer. */
const REMAINING = "SELECT c.relname::text AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind IN ('r', 'v') AND c.relname LIKE 'dm%' ORDER BY 1";

describe('DROP of several objects, against PostgreSQL 15', () => {
  for (const extended of [false, true]) {
    const protocol = extended ? 'Parse/Bind/Execute' : 'a simple Query';
    const p = extended ? 'dmx' : 'dms';

    it(`drops tables by quoted and qualified names, with a NOTICE per missing one, in ${protocol}`, async () => {
      const b = await compare([
        `CREATE SCHEMA ${p}_s`,
        `CREATE TABLE ${p}_a (x int)`, `CREATE TABLE "${p}_q,1" (x int)`, `CREATE TABLE "${p}_Up" (x int)`, `CREATE TABLE ${p}_s.t1 (x int)`, `CREATE TABLE ${p}_keep (x int)`,
        `DROP TABLE IF EXISTS ${p}_a, ${p}_nope, "${p}_q,1", ${p}_s.t1, ${p}_nos.t2, "${p}_Up", ${p}_nope2`,
        `CREATE TABLE ${p}_dup (x int)`, `DROP TABLE ${p}_dup, ${p}_dup`,
        `CREATE VIEW ${p}_view AS SELECT 1 AS a`, `DROP TABLE IF EXISTS ${p}_nope, ${p}_keep, ${p}_view`, `DROP VIEW ${p}_view, ${p}_keep`,
        `DROP VIEW ${p}_view`,
        REMAINING.replace("'dm%'", `'${p}%'`),
        `SELECT count(*)::int AS n FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = '${p}_s' AND c.relkind = 'r'`,
      ], extended);
      expect(b.filter((l) => l.startsWith('NOTICE'))).toEqual([
        `NOTICE table "${p}_nope" does not exist, skipping`,
        `NOTICE schema "${p}_nos" does not exist, skipping`,
        `NOTICE table "${p}_nope2" does not exist, skipping`,
        `NOTICE table "${p}_nope" does not exist, skipping`,
      ]);
      expect(b).toContain(`ERROR 42809 "${p}_view" is not a table / Use DROP VIEW to remove a view.`);
      expect(b).toContain(`ERROR 42809 "${p}_keep" is not a view / Use DROP TABLE to remove a table.`);
      expect(b).toContain('DROP');
      expect(b).toContain(JSON.stringify([{ name: `${p}_keep` }]));
    });

    it(`drops nothing when one name is missing without IF EXISTS or has dependents without CASCADE, in ${protocol}`, async () => {
      const b = await compare([
        `CREATE TABLE ${p}_b (x int)`, `CREATE TABLE ${p}_p (id int PRIMARY KEY)`, `CREATE TABLE ${p}_ch (id int REFERENCES ${p}_p (id))`,
        `DROP TABLE ${p}_b, ${p}_missing, ${p}_p`,
        `DROP TABLE ${p}_b, ${p}_p`,
        `DROP TABLE IF EXISTS ${p}_b, ${p}_gone, ${p}_p RESTRICT`,
        REMAINING.replace("'dm%'", `'${p}_%'`),
        // The referencing table named after the one it references: both go, as in Postgres.
        `DROP TABLE ${p}_p, ${p}_ch, ${p}_b`,
        REMAINING.replace("'dm%'", `'${p}_%'`),
      ], extended);
      expect(b).toContain(`ERROR 42P01 table "${p}_missing" does not exist`);
      expect(b.filter((l) => l === 'ERROR 2BP01')).toHaveLength(2);
      expect(b).toContain(JSON.stringify([{ name: `${p}_b` }, { name: `${p}_ch` }, { name: `${p}_keep` }, { name: `${p}_p` }]));
      expect(b[b.length - 1]).toBe(JSON.stringify([{ name: `${p}_keep` }]));
    });
  }

  it('drops views, sequences, indexes and schemas several at a time, CASCADE and RESTRICT', async () => {
    const b = await compare([
      'CREATE TABLE dmk_t (x int)', 'CREATE VIEW dmk_v1 AS SELECT 1 AS a', 'CREATE VIEW dmk_v2 AS SELECT 2 AS a',
      'DROP VIEW IF EXISTS dmk_v1, dmk_vnope, dmk_v2',
      'CREATE SEQUENCE dmk_sq1', 'CREATE SEQUENCE dmk_sq2',
      'DROP SEQUENCE dmk_sq1, dmk_sq2 RESTRICT',
      'CREATE SEQUENCE dmk_sq1',
      'CREATE INDEX dmk_i1 ON dmk_t (x)', 'CREATE INDEX dmk_i2 ON dmk_t (x)',
      'DROP INDEX dmk_i1, dmk_inope',
      'DROP INDEX IF EXISTS dmk_i1, dmk_inope, dmk_i2',
      'DROP INDEX IF EXISTS dmk_i1, dmk_sq1',
      'CREATE INDEX dmk_i1 ON dmk_t (x)',
      'CREATE SCHEMA dmk_s1', 'CREATE SCHEMA dmk_s2', 'CREATE TABLE dmk_s2.x (i int)',
      'DROP SCHEMA dmk_s1, dmk_s2',
      'DROP SCHEMA IF EXISTS dmk_s1, dmk_snope, dmk_s2 CASCADE',
      "SELECT count(*)::int AS n FROM pg_namespace WHERE nspname LIKE 'dmk%'",
      'DROP SEQUENCE dmk_sq1, dmk_sq2',
      'DROP TABLE dmk_t, dmk_v2',
    ]);
    // node-postgres keeps a tag's first word; the psql script below compares whole tags.
    expect(b.filter((l) => l === 'DROP')).toHaveLength(4);
    expect(b).toContain('NOTICE view "dmk_vnope" does not exist, skipping');
    expect(b).toContain('NOTICE schema "dmk_snope" does not exist, skipping');
    expect(b).toContain('ERROR 42704 index "dmk_inope" does not exist');
    expect(b).toContain('ERROR 42809 "dmk_sq1" is not an index / Use DROP SEQUENCE to remove a sequence.');
    expect(b).toContain('ERROR 2BP01');
    expect(b).toContain(JSON.stringify([{ n: 0 }]));
  });

  it('drops types, and functions (macros in aiduck), several at a time', async () => {
    await ours.query('CREATE MACRO dmf_1(x) AS x + 1; CREATE MACRO dmf_2(x) AS x + 2');
    await theirs.query('CREATE FUNCTION dmf_1(x int) RETURNS int AS $$ SELECT x + 1 $$ LANGUAGE sql; CREATE FUNCTION dmf_2(x int) RETURNS int AS $$ SELECT x + 2 $$ LANGUAGE sql');
    const b = await compare([
      "CREATE TYPE dmy_1 AS ENUM ('a')", "CREATE TYPE dmy_2 AS ENUM ('b')",
      'DROP TYPE dmy_1, dmy_nope',
      'DROP TYPE IF EXISTS dmy_1, dmy_nope, dmy_2',
      "CREATE TYPE dmy_1 AS ENUM ('a')",
      'DROP FUNCTION dmf_1, dmf_nope',
      'DROP FUNCTION IF EXISTS dmf_1, dmf_nope, dmf_2',
      'DROP FUNCTION dmf_2, dmf_1',
      'DROP TYPE dmy_1',
    ]);
    expect(b).toContain('ERROR 42704 type "dmy_nope" does not exist');
    expect(b).toContain('NOTICE function dmf_nope() does not exist, skipping');
    expect(b).toContain('ERROR 42883 could not find a function named "dmf_nope"');
    expect(b).toContain('ERROR 42883 could not find a function named "dmf_2"');
    expect(b[b.length - 1]).toBe('DROP');
  });

  it('is one statement of a transaction block: rolled back with it, to a savepoint, and replayed after one', async () => {
    const b = await compare([
      'CREATE TABLE dmt_x (i int)', 'CREATE TABLE dmt_y (i int)', 'CREATE TABLE dmt_p (id int PRIMARY KEY)', 'CREATE TABLE dmt_ch (id int REFERENCES dmt_p (id))',
      'BEGIN', 'DROP TABLE dmt_x, dmt_y', 'ROLLBACK',
      'BEGIN', 'DROP TABLE dmt_x, dmt_missing', 'SELECT 1 AS one', 'ROLLBACK',
      'BEGIN', 'SAVEPOINT s', 'DROP TABLE dmt_x, dmt_y', 'ROLLBACK TO SAVEPOINT s', 'SELECT count(*)::int AS n FROM dmt_x', 'COMMIT',
      'BEGIN', 'SAVEPOINT s', 'DROP TABLE dmt_x, dmt_p', 'ROLLBACK TO SAVEPOINT s', 'SELECT count(*)::int AS n FROM dmt_x', 'COMMIT',
      REMAINING.replace("'dm%'", "'dmt%'"),
      'BEGIN', 'DROP TABLE dmt_x, dmt_y', 'SAVEPOINT s', 'CREATE TABLE dmt_z (i int)', 'ROLLBACK TO SAVEPOINT s', 'COMMIT',
      REMAINING.replace("'dm%'", "'dmt%'"),
      'BEGIN READ ONLY', 'DROP TABLE IF EXISTS dmt_p, dmt_ch', 'ROLLBACK',
      'DROP TABLE dmt_ch, dmt_p',
      REMAINING.replace("'dm%'", "'dmt%'"),
    ]);
    expect(b).toContain('ERROR 25P02 current transaction is aborted, commands ignored until end of transaction block');
    expect(b).toContain('ERROR 25006 cannot execute DROP TABLE in a read-only transaction');
    expect(b).toContain(JSON.stringify([{ name: 'dmt_ch' }, { name: 'dmt_p' }, { name: 'dmt_x' }, { name: 'dmt_y' }]));
    expect(b).toContain(JSON.stringify([{ name: 'dmt_ch' }, { name: 'dmt_p' }]));
    expect(b[b.length - 1]).toBe('[]');
  });

  it('drops the sequences of the serial columns of the tables it drops', async () => {
    const b = await compare([
      'CREATE TABLE dmq_1 (id serial)', 'CREATE TABLE dmq_2 (id serial)',
      'DROP TABLE dmq_1, dmq_2',
      'CREATE SEQUENCE dmq_1_id_seq', 'CREATE SEQUENCE dmq_2_id_seq',
      'DROP SEQUENCE dmq_1_id_seq, dmq_2_id_seq',
    ]);
    expect(b.filter((l) => l.startsWith('ERROR'))).toEqual([]);
  });

  it('runs a psql script as PostgreSQL does', async () => {
    const script = [
      'CREATE TABLE dmp_a (x int);', 'CREATE TABLE dmp_b (x int);',
      'DROP TABLE IF EXISTS dmp_a, dmp_nope, dmp_b;',
      'CREATE TABLE dmp_c (x int);',
      'DROP TABLE dmp_c, dmp_nope;',
      "SELECT relname FROM pg_class WHERE relname LIKE 'dmp%' ORDER BY 1;",
      'DROP TABLE IF EXISTS dmp_c, dmp_a CASCADE;',
      'CREATE VIEW dmp_v1 AS SELECT 1 AS a;', 'CREATE VIEW dmp_v2 AS SELECT 1 AS a;', 'DROP VIEW dmp_v1, "dmp_v2";',
      'CREATE SEQUENCE dmp_s1;', 'CREATE SEQUENCE dmp_s2;', 'DROP SEQUENCE IF EXISTS dmp_s1, public.dmp_s2, dmp_s3;',
      'CREATE TABLE dmp_t (x int);', 'CREATE INDEX dmp_i1 ON dmp_t (x);', 'CREATE INDEX dmp_i2 ON dmp_t (x);', 'DROP INDEX dmp_i1, dmp_i2;',
      'CREATE SCHEMA dmp_n1;', 'CREATE SCHEMA dmp_n2;', 'DROP SCHEMA dmp_n1, dmp_n2 RESTRICT;',
      'DROP TABLE dmp_t;',
      '',
    ].join('\n');
    const psql = (c: pg.Client): Promise<{ stdout: string; stderr: string }> =>
      run('psql', ['-X', '-h', c.host, '-p', String(c.port), '-U', c.user!, '-d', c.database!, '-f', '-'], { input: script, env: clientEnv() });
    const [a, b] = [await psql(ours), await psql(theirs)];
    expect(a.stdout).toBe(b.stdout);
    expect(a.stderr).toBe(b.stderr);
    expect(b.stderr).toContain('NOTICE:  table "dmp_nope" does not exist, skipping');
    expect(b.stderr).toContain('ERROR:  table "dmp_nope" does not exist');
    expect(b.stdout).toContain(' dmp_c\n');
    for (const tag of ['DROP VIEW', 'DROP SEQUENCE', 'DROP INDEX', 'DROP SCHEMA']) expect(b.stdout).toContain(`\n${tag}\n`);
  });
});

describe('DROP of several objects through pgJDBC, against PostgreSQL 15', () => {
  it('gives the same update counts, warnings, SQLSTATEs and remaining tables', async () => {
    const java = (c: pg.Client): Promise<{ status: number | null; stdout: string; stderr: string }> =>
      run('java', ['-cp', PGJDBC, join(CLIENTS_DIR, 'JdbcDropMany.java'), c.host, String(c.port), c.user!, c.database!], { env: clientEnv() });
    const [a, b] = [await java(ours), await java(theirs)];
    expect(b.status, b.stderr).toBe(0);
    expect(a.stdout).toBe(b.stdout);
    expect(b.stdout).toContain('DROP TABLE IF EXISTS jd_a, jd_nope, jd_b: rows=false count=0 | 00000 table "jd_nope" does not exist, skipping');
    expect(b.stdout).toContain('prepared: 42P01 ERROR: table "jd_missing" does not exist');
    expect(b.stdout).toContain('DROP TABLE jd_c, jd_d: rows=false count=0\nremaining: jd_c;jd_d;\n');
    expect(b.stdout.endsWith('DROP TABLE jd_c, jd_d: rows=false count=0\nremaining: \n')).toBe(true);
  }, 60_000);
});

describe('DROP of several objects, what aiduck adds', () => {
  it('refuses to drop a registry table among others (42501), dropping none', async () => {
    await ours.query('CREATE TABLE dma_keep (x int)');
    await expect(ours.query('DROP TABLE IF EXISTS dma_keep, ai.model_versions')).rejects.toMatchObject({ code: '42501' });
    await expect(ours.query({ text: 'DROP TABLE dma_keep, ai.model_versions', queryMode: 'extended' })).rejects.toMatchObject({ code: '42501' });
    await ours.query('CREATE SCHEMA dma_s');
    await expect(ours.query('DROP SCHEMA IF EXISTS dma_s, ai CASCADE')).rejects.toMatchObject({ code: '42501' });
    expect((await ours.query("SELECT count(*)::int AS n FROM duckdb_schemas() WHERE schema_name IN ('dma_s', 'ai')")).rows[0].n).toBe(2);
    expect((await ours.query("SELECT count(*)::int AS n FROM duckdb_tables() WHERE table_name IN ('dma_keep', 'model_versions')")).rows[0].n).toBe(2);
  });

  it('moves the catalog version: another session prepares its cached statements again', async () => {
    const other = new pg.Client({ host: ours.host, port: ours.port, user: ours.user, database: ours.database });
    await other.connect();
    try {
      await ours.query('CREATE TABLE dmc_read (x int); CREATE TABLE dmc_1 (x int); CREATE TABLE dmc_2 (x int)');
      const prepares = async (): Promise<number> => Number(Object.values((await other.query('SHOW aiduck.statement_prepares')).rows[0] as object)[0]);
      await other.query('SELECT count(*) FROM dmc_read');
      const before = await prepares();
      await other.query('SELECT count(*) FROM dmc_read');
      expect(await prepares()).toBe(before);
      await ours.query('DROP TABLE dmc_1, dmc_2');
      await other.query('SELECT count(*) FROM dmc_read');
      expect(await prepares()).toBeGreaterThan(before);
    } finally {
      await other.end();
    }
  });
});
