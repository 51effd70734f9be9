import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serialize } from 'pg-protocol';
import { RawClient, type BackendMessage } from '../helpers/raw-client.js';
import { join } from 'node:path';
import { CLIENTS_DIR, PGJDBC, PYTHON, runOnBoth, startServerPair, type ServerPair, type Target } from './servers.js';

// Adversarial checks of the bulk-INSERT batching (src/session/insert-batches.ts,
// pipelined-inserts.ts): the same statements sent as a driver's batch (psycopg2's execute_batch is a
// simple Query of many INSERTs, execute_values one INSERT of many rows; pgJDBC's executeBatch
// pipelined Bind/Execute messages) to PostgreSQL 15, to aiduck as the batch, and to aiduck one
// statement at a time (each its own Parse/Bind/Execute without parameters, which aiduck never
// batches), inside one transaction as PostgreSQL runs a Query of several statements. Compared: every
// answer (command tags, RETURNING rows, SQLSTATEs and after which statement) and the table read back
// as text. Whether aiduck batched is read from SHOW aiduck.statement_prepares.

let servers: ServerPair;
/** What SHOW aiduck.statement_prepares itself adds to the count. */
let showPrepares = 0;
const clients: Partial<Record<'postgres' | 'batch' | 'single', RawClient>> = {};

beforeAll(async () => {
  servers = await startServerPair();
  clients.postgres = await connect(servers.postgres);
  clients.batch = await connect(servers.aiduck);
  clients.single = await connect(servers.aiduck);
  showPrepares = -(await prepares(clients.batch)) + (await prepares(clients.batch));
}, 120_000);
afterAll(async () => {
  for (const c of Object.values(clients)) c?.close();
  await servers?.stop();
});

const connect = (t: Target): Promise<RawClient> => RawClient.connect(t.port, t.user, t.database, t.host);

/** A backend message as one comparable line: its kind and tag, SQLSTATE, status or values. */
const line = (m: BackendMessage): string =>
  [m.name, m.tag ?? m.code ?? m.status ?? m.values?.map((v) => (v === null ? 'NULL' : v.toString())).join('|')].filter((x) => x !== undefined).join(' ');

const ANSWERS = new Set(['commandComplete', 'error', 'dataRow', 'readyForQuery', 'bindComplete', 'parseComplete', 'noData']);

async function query(c: RawClient, sql: string): Promise<string[]> {
  c.send(serialize.query(sql));
  return (await c.until((m) => m.name === 'readyForQuery', 30_000)).filter((m) => ANSWERS.has(m.name)).map(line);
}

async function must(c: RawClient, sql: string): Promise<void> {
  const answers = await query(c, sql);
  const error = answers.find((a) => a.startsWith('error'));
  if (error) throw new Error(`${sql}: ${error}`);
}

/** The tables of a case made anew, outside any transaction an earlier case left. */
async function fresh(c: RawClient, setup: string): Promise<void> {
  await query(c, 'ROLLBACK');
  await must(c, setup);
}

async function prepares(c: RawClient): Promise<number> {
  const rows = await query(c, 'SHOW aiduck.statement_prepares');
  // (NaN in an aborted transaction)
  return Number(rows.find((r) => r.startsWith('dataRow'))?.slice('dataRow '.length));
}

/** One statement without parameters through the extended protocol (never batched). */
async function extended(c: RawClient, sql: string): Promise<string[]> {
  c.send(serialize.parse({ text: sql }), serialize.bind({}), serialize.execute({}), serialize.sync());
  return (await c.until((m) => m.name === 'readyForQuery', 30_000)).filter((m) => ANSWERS.has(m.name) && m.name !== 'parseComplete' && m.name !== 'bindComplete').map(line);
}

interface Outcome {
  answers: string[];
  contents: string[];
}

interface Runs {
  postgres: Outcome;
  batch: Outcome;
  single: Outcome;
  /** Statements DuckDB prepared for the batch. */
  batchPrepares: number;
}

/**
 * `setup` (creating the tables), then `statements` as one Query (PostgreSQL, aiduck's batch) and
 * one at a time in a transaction (aiduck), then `read`.
 */
async function simpleBatch(setup: string, statements: string[], read: string, wrap: { before?: string; after?: string } = {}): Promise<Runs> {
  const joined = statements.join(';\n');
  let batchPrepares = 0;
  const asQuery = async (c: RawClient, count: boolean): Promise<Outcome> => {
    await fresh(c, setup);
    const answers = wrap.before ? await query(c, wrap.before) : [];
    const before = count ? await prepares(c) : 0;
    answers.push(...(await query(c, joined)));
    if (count) batchPrepares = (await prepares(c)) - before - showPrepares;
    if (wrap.after) answers.push(...(await query(c, wrap.after)));
    return { answers, contents: await query(c, read) };
  };
  const postgres = asQuery(clients.postgres!, false);
  // (inside the caller's transaction, which the batch may abort, not counted)
  const batch = await asQuery(clients.batch!, !wrap.before);
  const c = clients.single!;
  await fresh(c, setup);
  const answers: string[] = [];
  if (wrap.before) answers.push(...(await query(c, wrap.before)));
  const implicit = !wrap.before;
  if (implicit) await must(c, 'BEGIN');
  let failed = false;
  for (const s of statements) {
    const got = await extended(c, s);
    answers.push(...got.filter((a) => !a.startsWith('readyForQuery')));
    if (got.some((a) => a.startsWith('error'))) {
      failed = true;
      break;
    }
  }
  if (implicit) await query(c, failed ? 'ROLLBACK' : 'COMMIT');
  answers.push(`readyForQuery ${failed && !implicit ? 'E' : implicit ? 'I' : 'T'}`);
  if (wrap.after) answers.push(...(await query(c, wrap.after)));
  const single = { answers, contents: await query(c, read) };
  return { postgres: await postgres, batch, single, batchPrepares };
}

const FLOAT_TEXT = 'aiduck writes a real or double without an exponent where PostgreSQL writes one (1.6777216e+07)';
const JSONB_TEXT = 'aiduck keeps a jsonb value as written ([1,2]) where PostgreSQL writes it normalized ([1, 2])';
const table = (name: string, columns: string): string => `DROP TABLE IF EXISTS ${name}; CREATE TABLE ${name} (${columns})`;
const inserts = (head: string, rows: string[]): string[] => rows.map((r) => `${head} (${r})`);

/**
 * The batch answers and stores what the statements one by one do, and what PostgreSQL does except
 * in the rows of `differs` (index into the contents read back), which aiduck shows differently
 * whether batched or not, for the reason given (README, "Postgres protocol support" and "Types").
 */
function expectAllSame(runs: Runs, differs: Record<number, string> = {}): void {
  expect(runs.batch).toEqual(runs.single);
  expect(runs.batch.answers).toEqual(runs.postgres.answers);
  const keep = (o: Outcome): string[] => o.contents.filter((_, i) => !(i in differs));
  expect(keep(runs.batch)).toEqual(keep(runs.postgres));
  for (const i of Object.keys(differs)) expect(runs.batch.contents[Number(i)]).not.toEqual(runs.postgres.contents[Number(i)]);
}

/**
 * After a failed batch into a table with a serial column, aiduck's sequence stands further on than
 * Postgres': DuckDB draws a statement's sequence values for all its rows before it checks any, and a
 * sequence is not rolled back (in Postgres either). Everything else is the same; the ids stay unique
 * and increasing, with a larger gap (README, bulk writes). Batching such INSERTs one by one instead
 * would make them 30 times slower.
 */
function expectSameBeyondSequencePositions(batch: Outcome, postgres: Outcome): void {
  const withoutId = (lines: string[]): string[] => lines.map((l) => l.replace(/^dataRow \d+\|/, 'dataRow #|'));
  expect(withoutId(batch.answers)).toEqual(withoutId(postgres.answers));
  expect(withoutId(batch.contents)).toEqual(withoutId(postgres.contents));
  const ids = batch.contents.flatMap((l) => /^dataRow (\d+)\|/.exec(l)?.[1] ?? []).map(Number);
  expect(ids.length).toBeGreaterThan(0);
  expect(ids.every((id, i) => i === 0 || id > ids[i - 1]!)).toBe(true);
}

describe('simple protocol: a Query of many INSERTs (execute_batch) and one INSERT of many rows (execute_values)', () => {
  const NUMBERS = table('f_num', 'id integer, sm smallint, i integer, bi bigint, n numeric(6,2), r real, d double precision, s text');
  const READ_NUMBERS = 'SELECT * FROM f_num ORDER BY id';
  const numberRows = [
    '1, 32767, 2147483647, 9223372036854775807, 9999.99, 1.5, 1.5, 1',
    '2, -32768, -2147483648, -9223372036854775808, -9999.99, 0, 0, 1.50',
    '3, 2.5, -2.5, 2.5, 1.005, 16777217, 0.1, -0.001',
    '4, -2.5, 2147483647.4, -9223372036854775807.5, -1.005, 1.0000001, 123456789.123456789, 00012',
    '5, NULL, NULL, NULL, 0.125, -0.0, 12345678901234567890, 001.50',
    '6, 0.5, -0.5, 0.49, -0.125, 3.4e38, 1e308, 9223372036854775808',
    '7, 1, 2, 3, 4, 5, -0.0, 170141183460469231731687303715884105727',
  ];

  it('stores numbers at the edges of their columns as PostgreSQL does, one row per statement', async () => {
    const runs = await simpleBatch(NUMBERS, inserts('INSERT INTO f_num (id, sm, i, bi, n, r, d, s) VALUES', numberRows), READ_NUMBERS);
    expect(runs.batchPrepares).toBeLessThan(numberRows.length);
    expectAllSame(runs, { 2: FLOAT_TEXT, 4: FLOAT_TEXT });
  });

  it('stores the same numbers from one INSERT of many rows', async () => {
    const runs = await simpleBatch(NUMBERS, [`INSERT INTO f_num (id, sm, i, bi, n, r, d, s) VALUES ${numberRows.map((r) => `(${r})`).join(', ')}`], READ_NUMBERS);
    expectAllSame(runs, { 2: FLOAT_TEXT, 4: FLOAT_TEXT });
  });

  const TEXTS = table('f_text', 'id integer, s text, v varchar(5), b boolean, j json, jb jsonb');
  const READ_TEXTS = 'SELECT id, s, v, b, j, jb, length(s) FROM f_text ORDER BY id';
  const textRows = [
    "1, 'plain', 'abc', true, '{\"a\": 1}', '{\"a\": 1}'",
    "2, 'it''s', '', false, '[1, 2]', '[1,2]'",
    "3, 'back\\slash \\x00ff', 'ü☃ñ', NULL, 'null', '\"s\"'",
    "4, '{1,2}', NULL, TRUE, '1', '1.50'",
    `5, '${'long '.repeat(2000)}', 'x', FALSE, '{}', '{}'`,
    "6, 'tab\there\nnewline\u0001', 'y', true, NULL, NULL",
    "7, 12, 1.50, NULL, '\"\"', '{\"b\": [1, {\"c\": null}]}'",
    "8, 1.5, -1, false, 'true', 'false'",
    "9, true, 12345, NULL, NULL, NULL",
  ];

  it('stores texts, booleans and json as PostgreSQL does', async () => {
    const runs = await simpleBatch(TEXTS, inserts('INSERT INTO f_text (id, s, v, b, j, jb) VALUES', textRows), READ_TEXTS);
    expect(runs.batchPrepares).toBeLessThan(textRows.length);
    expectAllSame(runs, { 1: JSONB_TEXT });
  });

  it('stores the same texts from one INSERT of many rows', async () => {
    const runs = await simpleBatch(TEXTS, [`INSERT INTO f_text (id, s, v, b, j, jb) VALUES ${textRows.map((r) => `(${r})`).join(', ')}`], READ_TEXTS);
    expectAllSame(runs, { 1: JSONB_TEXT });
  });

  it('refuses a text too long for its varchar(n) in the middle of a batch as PostgreSQL does', async () => {
    const rows = ["1, 'a'", "2, 'abcdef'", "3, 'c'"];
    expectAllSame(await simpleBatch(TEXTS, inserts('INSERT INTO f_text (id, v) VALUES', rows), READ_TEXTS));
    expectAllSame(await simpleBatch(TEXTS, inserts('INSERT INTO f_text (id, v) VALUES', ["1, 'a'", '2, 123456', "3, 'c'"]), READ_TEXTS));
  });

  it('stores literals of different types in one column as PostgreSQL does', async () => {
    const setup = table('f_mixed', 'id integer, i integer, t text, d double precision, n numeric(8,3), b bigint');
    const rows = ['1, 1, 1, 1, 1, 1', "2, 1.5, 1.5, 1.5, 1.5, 1.5", '3, NULL, NULL, NULL, NULL, NULL', '4, -2.5, -2.5, -2.5, 2.0005, -2.5', "5, 7, 'x', 2e1, 2, 2147483648"];
    const read = 'SELECT * FROM f_mixed ORDER BY id';
    expectAllSame(await simpleBatch(setup, inserts('INSERT INTO f_mixed (id, i, t, d, n, b) VALUES', rows), read));
    expectAllSame(await simpleBatch(setup, [`INSERT INTO f_mixed (id, i, t, d, n, b) VALUES ${rows.map((r) => `(${r})`).join(', ')}`], read));
    expectAllSame(await simpleBatch(setup, inserts('INSERT INTO f_mixed (id, i) VALUES', ['1, 1', '2, 1.5', "3, '2'", '4, NULL']), read));
  });

  it('refuses what the unconstrained numeric would round, batched or not', async () => {
    const setup = table('f_unc', 'id integer, u numeric');
    const read = 'SELECT * FROM f_unc ORDER BY id';
    const rows = ['1, 1.5', '2, 123456789012345678', '3, 0.0000000001', '4, 1.12345678901', '5, 2'];
    const runs = await simpleBatch(setup, inserts('INSERT INTO f_unc (id, u) VALUES', rows), read);
    expect(runs.batch).toEqual(runs.single);
    expect(runs.batch.answers.find((a) => a.startsWith('error'))).toBe('error 22003');
    const one = await simpleBatch(setup, [`INSERT INTO f_unc (id, u) VALUES ${rows.map((r) => `(${r})`).join(', ')}`], read);
    expect(one.batch).toEqual(one.single);
    expect(one.batch.answers[0]).toBe('error 22003');
  });

  it('stores literals aiduck reads otherwise than PostgreSQL as the statements one by one do', async () => {
    // aiduck's, batched or not (DuckDB reads the literals): 1e5 into text is '100000.0' (PostgreSQL:
    // '100000'), -0e0 a double -0 (0), 1e-400 a double 0 (22003), a number into json is stored
    // (42804), char(3) is not padded
    const setup = table('f_odd', 'id integer, t text, d double precision, j json, c char(3), r real');
    const rows = ["1, 1e5, -0e0, 1, 'a', 1e-50", "2, 1e-400, 1e-400, true, 'ab', 1.5", "3, 1., 1., 1.5, 'abc', -0e0", "4, -0.0, -0.0, '{\"a\":1}', NULL, 1e38"];
    const runs = await simpleBatch(setup, inserts('INSERT INTO f_odd (id, t, d, j, c, r) VALUES', rows), 'SELECT * FROM f_odd ORDER BY id');
    expect(runs.batchPrepares).toBeLessThan(rows.length);
    expect(runs.batch).toEqual(runs.single);
    expect(runs.batch.contents[0]).toBe('dataRow 1|100000.0|-0|1|a|0');
    expect(runs.postgres.answers[0]).toBe('error 42804');
  });

  it('the same INSERT text after search_path names another table goes to that table', async () => {
    const run = async (c: RawClient): Promise<string[]> => {
      await fresh(c, 'DROP SCHEMA IF EXISTS f_s1 CASCADE; DROP SCHEMA IF EXISTS f_s2 CASCADE; CREATE SCHEMA f_s1; CREATE SCHEMA f_s2; ' +
        'CREATE TABLE f_s1.t (id integer, v integer); CREATE TABLE f_s2.t (id integer, v text)');
      const head = 'INSERT INTO t (id, v) VALUES';
      const answers = [...await query(c, `SET search_path = f_s1; ${head} (1, 1); ${head} (2, 2)`), ...await query(c, `${head} (3, 3); ${head} (4, 4)`),
        ...await query(c, `SET search_path = f_s2; ${head} (5, 'a'); ${head} (6, 'b')`), ...await query(c, `${head} (7, 7); ${head} (8, 8)`),
        ...await query(c, 'RESET search_path')];
      return [...answers, ...await query(c, "SELECT 's1', id, v::text FROM f_s1.t UNION ALL SELECT 's2', id, v FROM f_s2.t ORDER BY 1, 2")];
    };
    const [postgres, aiduck] = await Promise.all([run(clients.postgres!), run(clients.batch!)]);
    expect(aiduck).toContain('dataRow s2|8|8');
    expect(aiduck).toEqual(postgres);
  });
});

describe('failures in the middle of a batch', () => {
  const SETUP = table('f_fail', 'id integer PRIMARY KEY, s smallint CHECK (s <> 7), t text NOT NULL');
  const READ = 'SELECT * FROM f_fail ORDER BY id';
  const HEAD = 'INSERT INTO f_fail (id, s, t) VALUES';
  const ok = (from: number, n: number): string[] => Array.from({ length: n }, (_, k) => `${from + k}, ${k % 5}, 'r${from + k}'`);
  const cases: Record<string, string> = { unique: "3, 1, 'dup'", check: "50, 7, 'c'", notNull: '51, 1, NULL', range: "52, 40000, 'big'" };

  for (const [name, bad] of Object.entries(cases)) {
    it(`${name}: the same statement fails, nothing is stored (a Query is one transaction)`, async () => {
      expectAllSame(await simpleBatch(SETUP, inserts(HEAD, [...ok(1, 10), bad, ...ok(20, 5)]), READ));
    });

    it(`${name}: in an explicit transaction with a savepoint, rolled back to it and continued`, async () => {
      const runs = await simpleBatch(SETUP, inserts(HEAD, [...ok(1, 10), bad, ...ok(20, 5)]), READ,
        { before: `BEGIN; ${HEAD} (100, 1, 'before'); SAVEPOINT s`, after: `ROLLBACK TO SAVEPOINT s; ${inserts(HEAD, ok(30, 5)).join('; ')}; COMMIT` });
      expectAllSame(runs);
    });
  }

  it('statements of one, several and one rows in a run, failing in the middle row of one', async () => {
    const statements = [`${HEAD} (1, 1, 'a')`, `${HEAD} (2, 1, 'b'), (3, 2, 'c'), (4, 3, 'd')`, `${HEAD} (5, 1, 'e')`, `${HEAD} (6, 1, 'f'), (7, 2, 'g')`];
    const ok = await simpleBatch(SETUP, statements, READ);
    expectAllSame(ok);
    expect(ok.batch.answers).toEqual(['commandComplete INSERT 0 1', 'commandComplete INSERT 0 3', 'commandComplete INSERT 0 1', 'commandComplete INSERT 0 2', 'readyForQuery I']);
    const failing = [...statements, `${HEAD} (8, 1, 'h'), (2, 7, 'dup'), (9, 1, 'i')`, `${HEAD} (10, 1, 'j')`];
    const runs = await simpleBatch(SETUP, failing, READ, { before: `BEGIN; ${HEAD} (100, 1, 'kept'); SAVEPOINT s`, after: 'ROLLBACK TO SAVEPOINT s; COMMIT' });
    expectAllSame(runs);
    expect(runs.batch.contents[0]).toBe('dataRow 100|1|kept');
  });

  it('a failing row of one INSERT of many rows', async () => {
    const rows = [...ok(1, 10), cases.unique!, ...ok(20, 5)];
    expectAllSame(await simpleBatch(SETUP, [`${HEAD} ${rows.map((r) => `(${r})`).join(', ')}`], READ));
  });
});

describe('what must not run as one statement', () => {
  it('serial and DEFAULT columns, and a failure that uses up sequence values (further than in Postgres)', async () => {
    const setup = table('f_serial', "id serial PRIMARY KEY, k integer UNIQUE, note text DEFAULT 'dflt'");
    const read = 'SELECT * FROM f_serial ORDER BY id';
    const head = 'INSERT INTO f_serial (k) VALUES';
    const runs = await simpleBatch(setup, inserts(head, ['1', '2', '3']), read);
    expectAllSame(runs);
    const failing = await simpleBatch(setup, [...inserts(head, ['1', '2', '1', '4'])], read,
      { before: 'BEGIN; SAVEPOINT s', after: `ROLLBACK TO SAVEPOINT s; ${head} (9); ${head} (10); COMMIT` });
    expect(failing.single.answers).toEqual(failing.postgres.answers);
    expectSameBeyondSequencePositions(failing.batch, failing.postgres);
    expect(failing.batchPrepares).toBeLessThan(4);
    const mixed = await simpleBatch(setup, ["INSERT INTO f_serial (k, note) VALUES (1, DEFAULT)", "INSERT INTO f_serial (k, note) VALUES (2, 'two')", "INSERT INTO f_serial (k, note) VALUES (3, NULL)"], read);
    expectAllSame(mixed);
  });

  it('rows that read the table or call functions', async () => {
    const setup = `${table('f_expr', 'id integer, n bigint, t text')}; DROP SEQUENCE IF EXISTS f_seq; CREATE SEQUENCE f_seq`;
    const read = 'SELECT * FROM f_expr ORDER BY id';
    const head = 'INSERT INTO f_expr (id, n, t) VALUES';
    const rows = ["1, 10, 'a'", "2, (SELECT count(*) FROM f_expr), 'b'", "3, nextval('f_seq'), 'c'", "4, CASE WHEN 1 = 1 THEN 5 ELSE 6 END, 'd'",
      "5, (SELECT max(n) FROM f_expr), 'e'", "6, nextval('f_seq'), upper('f')", "7, length(now()::text) * 0, 'g'", "8, floor(random() * 0), 'h'",
      "9, (SELECT count(*) FROM f_expr), 'i'"];
    expectAllSame(await simpleBatch(setup, inserts(head, rows), read));
    expectAllSame(await simpleBatch(setup, [`${head} ${rows.map((r) => `(${r})`).join(', ')}`], read));
  });

  it('ON CONFLICT, RETURNING and INSERT ... SELECT among plain INSERTs', async () => {
    const setup = table('f_conf', 'id integer PRIMARY KEY, v text');
    const read = 'SELECT * FROM f_conf ORDER BY id';
    const statements = ["INSERT INTO f_conf (id, v) VALUES (1, 'a')", "INSERT INTO f_conf (id, v) VALUES (2, 'b')",
      "INSERT INTO f_conf (id, v) VALUES (1, 'x') ON CONFLICT DO NOTHING", "INSERT INTO f_conf (id, v) VALUES (3, 'c')",
      "INSERT INTO f_conf (id, v) VALUES (2, 'y') ON CONFLICT (id) DO UPDATE SET v = excluded.v", "INSERT INTO f_conf (id, v) VALUES (4, 'd') RETURNING id, v",
      "INSERT INTO f_conf (id, v) VALUES (5, 'e')", "INSERT INTO f_conf (id, v) SELECT id + 10, v FROM f_conf", "INSERT INTO f_conf (id, v) VALUES (6, 'f')"];
    expectAllSame(await simpleBatch(setup, statements, read));
  });

  it('two tables interleaved and column lists in other orders', async () => {
    const setup = `${table('f_a', 'id integer, x text, y integer')}; ${table('f_b', 'id integer, x text')}`;
    const read = "SELECT 'a', id, x, y::text FROM f_a UNION ALL SELECT 'b', id, x, NULL FROM f_b ORDER BY 1, 2";
    const statements = ["INSERT INTO f_a (id, x, y) VALUES (1, 'a1', 1)", "INSERT INTO f_a (id, x, y) VALUES (2, 'a2', 2)", "INSERT INTO f_b (id, x) VALUES (1, 'b1')",
      "INSERT INTO f_a (id, y, x) VALUES (3, 3, 'a3')", "INSERT INTO f_a (id, y, x) VALUES (4, 4, 'a4')", "INSERT INTO f_a (y, id, x) VALUES (5, 5, 'a5')",
      "INSERT INTO f_b (id, x) VALUES (2, 'b2')", "INSERT INTO f_a VALUES (6, 'a6', 6)", "INSERT INTO f_a VALUES (7, 'a7', 7)",
      "INSERT INTO f_b (id, x) VALUES (3, 'b3')", "INSERT INTO f_b (id, x) VALUES (4, 'b4')"];
    expectAllSame(await simpleBatch(setup, statements, read));
  });
});

type Param = string | Buffer | null;

/**
 * `setup`, then `sql` parsed once (with `oids` declared) and a Bind/Describe/Execute of it for each
 * row pipelined before one Sync, as pgJDBC's executeBatch sends them (PostgreSQL, aiduck's batch);
 * and in aiduck each execution with its own Sync, in a transaction. Then `read`.
 */
async function pipelinedBatch(setup: string, sql: string, rows: Param[][], read: string, oids: number[] = []): Promise<Runs> {
  let batchPrepares = 0;
  const asPipeline = async (c: RawClient, count: boolean): Promise<Outcome> => {
    await fresh(c, setup);
    c.send(serialize.parse({ name: 'ins', text: sql, types: oids }), serialize.sync());
    await c.until((m) => m.name === 'readyForQuery');
    const before = count ? await prepares(c) : 0;
    c.send(...rows.flatMap((values) => [serialize.bind({ statement: 'ins', values }), serialize.describe({ type: 'P', name: '' }), serialize.execute({})]), serialize.sync());
    const answers = (await c.until((m) => m.name === 'readyForQuery', 30_000)).filter((m) => ANSWERS.has(m.name)).map(line);
    if (count) batchPrepares = (await prepares(c)) - before - showPrepares;
    await must(c, 'DEALLOCATE ins');
    return { answers, contents: await query(c, read) };
  };
  const postgres = asPipeline(clients.postgres!, false);
  const batch = await asPipeline(clients.batch!, true);
  const c = clients.single!;
  await fresh(c, setup);
  c.send(serialize.parse({ name: 'ins', text: sql, types: oids }), serialize.sync());
  await c.until((m) => m.name === 'readyForQuery');
  await must(c, 'BEGIN');
  const answers: string[] = [];
  let failed = false;
  for (const values of rows) {
    c.send(serialize.bind({ statement: 'ins', values }), serialize.describe({ type: 'P', name: '' }), serialize.execute({}), serialize.sync());
    const got = (await c.until((m) => m.name === 'readyForQuery', 30_000)).filter((m) => ANSWERS.has(m.name) && m.name !== 'readyForQuery').map(line);
    answers.push(...got);
    if (got.some((a) => a.startsWith('error'))) {
      failed = true;
      break;
    }
  }
  await query(c, failed ? 'ROLLBACK' : 'COMMIT');
  answers.push('readyForQuery I');
  await must(c, 'DEALLOCATE ins');
  const single = { answers, contents: await query(c, read) };
  return { postgres: await postgres, batch, single, batchPrepares };
}

/** Where PostgreSQL answers a pipelined failure with its messages up to the error, aiduck's one-by-one run stops at the error too. */
function expectPipelinedSame(runs: Runs, differs: Record<number, string> = {}): void {
  expect(runs.batch).toEqual(runs.single);
  expect(runs.batch.answers).toEqual(runs.postgres.answers);
  const keep = (o: Outcome): string[] => o.contents.filter((_, i) => !(i in differs));
  expect(keep(runs.batch)).toEqual(keep(runs.postgres));
  for (const i of Object.keys(differs)) expect(runs.batch.contents[Number(i)]).not.toEqual(runs.postgres.contents[Number(i)]);
}

describe('extended protocol: Bind/Execute of one INSERT pipelined before Sync (executeBatch)', () => {
  const int4 = (v: number): Buffer => {
    const b = Buffer.alloc(4);
    b.writeInt32BE(v);
    return b;
  };
  const float8 = (v: number): Buffer => {
    const b = Buffer.alloc(8);
    b.writeDoubleBE(v);
    return b;
  };
  const NUMBERS = table('p_num', 'id integer, sm smallint, bi bigint, n numeric(6,2), u numeric, r real, d double precision');
  const READ_NUMBERS = 'SELECT * FROM p_num ORDER BY id';
  const SQL_NUMBERS = 'INSERT INTO p_num (id, sm, bi, n, u, r, d) VALUES ($1, $2, $3, $4, $5, $6, $7)';
  const numberRows: Param[][] = [
    ['1', '32767', '9223372036854775807', '9999.99', '1.5', '1.5', '1.5'],
    ['2', '-32768', '-9223372036854775808', '-9999.994', '123456789012345678', 'NaN', 'NaN'],
    ['3', '2', '3', '1.005', '0.0000000001', 'Infinity', '-Infinity'],
    ['4', null, null, '-1.005', null, '-0', '-0'],
    ['5', '7', '8', '0.125', '-0', '3.4e38', '1e308'],
    [int4(6), '1', '1', '1', '1', '1', float8(-0)],
    [int4(7), '1', '1', '1', '1', '1', float8(Number.NaN)],
  ];

  it('stores numbers at their edges, NaN, Infinity and -0 as PostgreSQL does', async () => {
    const runs = await pipelinedBatch(NUMBERS, SQL_NUMBERS, numberRows, READ_NUMBERS, [0, 0, 0, 0, 0, 0, 701]);
    expect(runs.batchPrepares).toBeLessThan(numberRows.length);
    expectPipelinedSame(runs);
  });

  /**
   * A row that fails in the middle: the batch answers as the rows one by one do, with as many INSERTs
   * before the error as PostgreSQL and nothing stored. `aiduckState` where aiduck, batched or not,
   * reports another SQLSTATE than PostgreSQL's.
   */
  // aiduck checks a parameter's text when it runs the statement, after BindComplete (outside the batching code).
  const failures: Array<{ what: string; bad: Param[]; state: string }> = [
    { what: 'out of range for smallint', bad: ['9', '40000', '1', '1', '1', '1', '1'], state: '22003' },
    { what: 'not a number', bad: ['9', 'x', '1', '1', '1', '1', '1'], state: '22P02' },
    { what: 'too large for numeric(6,2)', bad: ['9', '1', '1', '10000', '1', '1', '1'], state: '22003' },
    { what: 'out of range for bigint', bad: ['9', '1', '9223372036854775808', '1', '1', '1', '1'], state: '22003' },
  ];
  const bindAnswers = new Set(['bindComplete', 'noData']);

  for (const { what, bad, state } of failures) {
    it(`fails at the row with a value ${what} as the rows one by one do`, async () => {
      const rows = [...numberRows.slice(0, 5), bad, ...numberRows.slice(0, 3)];
      const runs = await pipelinedBatch(NUMBERS, SQL_NUMBERS, rows, READ_NUMBERS, [0, 0, 0, 0, 0, 0, 701]);
      expect(runs.batch).toEqual(runs.single);
      expect(runs.batch.contents).toEqual(runs.postgres.contents);
      const answers = (o: Outcome): string[] => o.answers.filter((a) => !bindAnswers.has(a)).map((a) => a.replace(/^error .*/, 'error'));
      expect(answers(runs.batch)).toEqual(answers(runs.postgres));
      expect(runs.postgres.answers.find((a) => a.startsWith('error'))).toBe(`error ${state}`);
      expect(runs.batch.answers.find((a) => a.startsWith('error'))).toBe(`error ${state}`);
    });
  }

  it('refuses what the unconstrained numeric would round, and a real that overflows, as one by one', async () => {
    // The unconstrained numeric refusal is aiduck's (README, numeric); '1e39' for a real is 22003 as in PostgreSQL.
    for (const [bad, state] of [[['9', '1', '1', '1', '1.12345678901', '1', '1'], null], [['9', '1', '1', '1', '1', '1e39', '1'], '22003']] as const) {
      const rows = [...numberRows.slice(0, 5), [...bad] as Param[], ...numberRows.slice(0, 3)];
      const runs = await pipelinedBatch(NUMBERS, SQL_NUMBERS, rows, READ_NUMBERS, [0, 0, 0, 0, 0, 0, 701]);
      expect(runs.batch).toEqual(runs.single);
      expect(runs.postgres.answers.find((a) => a.startsWith('error')) ?? null).toBe(state === null ? null : `error ${state}`);
      expect(runs.batch.answers.find((a) => a.startsWith('error')) ?? null).toBe('error 22003');
    }
  });

  const TYPED = table('p_typed', 'id integer, bt bytea, bo boolean, da date, ts timestamp, tz timestamptz, iv interval, uu uuid, j json, jb jsonb, ia integer[], ta text[], t text');
  const READ_TYPED = 'SELECT * FROM p_typed ORDER BY id';
  const SQL_TYPED = 'INSERT INTO p_typed (id, bt, bo, da, ts, tz, iv, uu, j, jb, ia, ta, t) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)';
  const typedRows: Param[][] = [
    ['1', '\\x00ff01', 't', '2020-02-29', '2020-01-01 12:34:56.789', '2020-01-01 12:34:56+02', '1 day 02:03:04', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{"a": 1}', '{"a": 1}', '{1,NULL,3}', '{"a b","c,d",NULL,"\\"q\\""}', 'it\'s'],
    ['2', 'abc\\\\def', 'yes', 'infinity', '-infinity', 'infinity', '-1 mons +2 days', 'A0EEBC999C0B4EF8BB6D6BB9BD380A11', '[]', '[]', '{}', '{}', ''],
    ['3', Buffer.from([0, 1, 2, 255]), 'off', '0044-03-15 BC', '2000-01-01 00:00:00', '2000-01-01 00:00:00 America/New_York', 'P1Y2M3DT4H5M6S', null, 'null', 'null', '{-2147483648}', '{NULL}', 'ü☃\\'],
    ['4', null, null, null, null, null, null, null, null, null, null, null, null],
    ['5', '\\x', '1', '1999-12-31', '1999-12-31 23:59:59.999999', '1999-12-31 23:59:59.999999-08', '3 hours', '{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}', '"s"', '"s"', '{1,2}', '{"NULL"}', 'x'],
  ];

  it('stores bytea, booleans, dates and times, intervals, uuid, json and arrays as PostgreSQL does', async () => {
    const runs = await pipelinedBatch(TYPED, SQL_TYPED, typedRows, READ_TYPED, [0, 17]);
    expect(runs.batchPrepares).toBeLessThan(typedRows.length);
    expect(runs.batch).toEqual(runs.single);
    expect(runs.batch.answers).toEqual(runs.postgres.answers);
    expect(runs.batch.contents).toEqual(runs.postgres.contents);
  });

  it('parameters declared with another type than their column (pgJDBC setBigDecimal, setDouble, setLong for an integer)', async () => {
    const setup = table('p_declared', 'id integer, i integer, n numeric(6,2), s smallint, t text');
    const read = 'SELECT * FROM p_declared ORDER BY id';
    const rows: Param[][] = [['1', '2.5', '1.005', '7', '1.50'], ['2', '-2.5', '0.125', '-7', '-0'], ['3', '3', '1e2', '32767', '1e5']];
    const runs = await pipelinedBatch(setup, 'INSERT INTO p_declared (id, i, n, s, t) VALUES ($1, $2, $3, $4, $5)', rows, read, [23, 1700, 701, 20, 1700]);
    expect(runs.batchPrepares).toBeLessThan(rows.length);
    expect(runs.batch).toEqual(runs.single);
    // id, i, s as PostgreSQL stores them; n and t are aiduck's, batched or not: the double 1.005
    // (1.00499999...) rounds to 1.00 where PostgreSQL, which takes a double's 15 digits, gets 1.01;
    // a numeric parameter is numeric(38,10), written into text with its ten decimals
    const some = (o: Outcome): string[] => o.contents.map((r) => r.split('|').filter((_, i) => i !== 2 && i !== 4).join('|'));
    expect(some(runs.batch)).toEqual(some(runs.postgres));
    expect(runs.batch.contents[0]).toBe('dataRow 1|3|1.00|7|1.5000000000');
    expect(runs.postgres.contents[0]).toBe('dataRow 1|3|1.01|7|1.50');
  });

  it('a serial column and DEFAULT, with a duplicate in the middle (the sequence further on after it than in Postgres)', async () => {
    const setup = table('p_serial', "id serial PRIMARY KEY, k integer UNIQUE, note text DEFAULT 'dflt'");
    const read = 'SELECT * FROM p_serial ORDER BY id';
    const rows: Param[][] = [['1'], ['2'], ['1'], ['4']];
    expectPipelinedSame(await pipelinedBatch(setup, 'INSERT INTO p_serial (k) VALUES ($1)', rows, read));
    // the ids after the failed batch: PostgreSQL drew one for each row up to the one that failed
    const after = async (c: RawClient): Promise<string[]> => {
      await fresh(c, setup);
      c.send(serialize.parse({ text: 'INSERT INTO p_serial (k) VALUES ($1)' }), ...rows.flatMap((values) => [serialize.bind({ values }), serialize.execute({})]), serialize.sync());
      const answers = (await c.until((m) => m.name === 'readyForQuery')).filter((m) => ANSWERS.has(m.name)).map(line);
      return [...answers, ...(await query(c, 'INSERT INTO p_serial (k) VALUES (9)')), ...(await query(c, read))];
    };
    const [postgres, aiduck] = await Promise.all([after(clients.postgres!), after(clients.batch!)]);
    expect(postgres).toContain('dataRow 4|9|dflt');
    expectSameBeyondSequencePositions({ answers: aiduck, contents: aiduck.filter((l) => l.startsWith('dataRow')) },
      { answers: postgres, contents: postgres.filter((l) => l.startsWith('dataRow')) });
    expectPipelinedSame(await pipelinedBatch(setup, 'INSERT INTO p_serial (k, note) VALUES ($1, DEFAULT)', rows.slice(0, 2), read));
    // the ids given: the sequence is not drawn from, the rows run as one statement
    const given = await pipelinedBatch(setup, 'INSERT INTO p_serial (id, k) VALUES ($1, $1)', [['1'], ['2'], ['3']], read);
    expectPipelinedSame(given);
    expect(given.batchPrepares).toBeLessThan(3);
  });
});

describe('batches beyond one statement, and transactions in the Query', () => {
  const SETUP = table('f_big', 'id integer PRIMARY KEY, v text');
  const READ = "SELECT count(*), coalesce(sum(id), 0), min(v), max(v) FROM f_big";
  const rows = (n: number, dupAt = -1): string[] => Array.from({ length: n }, (_, k) => `${k === dupAt ? 1 : k + 1}, 'v${k}'`);

  it('one INSERT of more rows than one statement holds, failing in its last part', async () => {
    const runs = await simpleBatch(SETUP, [`INSERT INTO f_big (id, v) VALUES ${rows(2500, 2400).map((r) => `(${r})`).join(', ')}`], READ);
    expectAllSame(runs);
    expect(runs.batch.answers[0]).toBe('error 23505');
    const ok = await simpleBatch(SETUP, [`INSERT INTO f_big (id, v) VALUES ${rows(2500).map((r) => `(${r})`).join(', ')}`], READ);
    expectAllSame(ok);
    expect(ok.batchPrepares).toBeLessThan(10);
  });

  it('more INSERTs in one Query than one batch holds, failing in the second batch', async () => {
    const runs = await simpleBatch(SETUP, inserts('INSERT INTO f_big (id, v) VALUES', rows(5000, 4500)), READ);
    expectAllSame(runs);
    expect(runs.batch.answers.filter((a) => a.startsWith('commandComplete'))).toHaveLength(4500);
  });

  it('BEGIN, SAVEPOINT and ROLLBACK TO among the INSERTs of one Query', async () => {
    const head = 'INSERT INTO f_big (id, v) VALUES';
    const statements = ['BEGIN', ...inserts(head, rows(5)), 'SAVEPOINT a', ...inserts(head, ["10, 'x'", "11, 'y'"]), 'ROLLBACK TO SAVEPOINT a',
      ...inserts(head, ["20, 'z'", "21, 'w'"]), 'SAVEPOINT b', ...inserts(head, ["30, 'p'", "2, 'dup'", "31, 'q'"])];
    const runs = await simpleBatch(SETUP, statements, READ, { after: `ROLLBACK TO SAVEPOINT b; ${head} (40, 'after'); ${head} (41, 'after'); COMMIT` });
    // one by one, the BEGIN among the statements opens the block the client's transaction is
    expect(runs.batch.answers).toEqual(runs.postgres.answers);
    expect(runs.batch.contents).toEqual(runs.postgres.contents);
  });

  it('in an aborted transaction, and beside an open cursor, as PostgreSQL', async () => {
    const head = 'INSERT INTO f_big (id, v) VALUES';
    const run = async (c: RawClient): Promise<string[]> => {
      // a table made now: its INSERTs are new to the session
      await fresh(c, `${SETUP}; DROP TABLE IF EXISTS f_new; CREATE TABLE f_new (id serial, v text)`);
      return [
        ...await query(c, "BEGIN; SELECT 'x'::integer"), ...await query(c, `${head} (1, 'a'); ${head} (2, 'b')`), ...await query(c, 'ROLLBACK'),
        // a duplicate key: DuckDB's transaction is over too
        ...await query(c, `BEGIN; ${head} (1, 'a'); ${head} (1, 'a')`), ...await query(c, `${head} (7, 'a'); ${head} (8, 'b')`),
        ...await query(c, "INSERT INTO f_new (v) VALUES ('a'); INSERT INTO f_new (v) VALUES ('b')"), ...await query(c, 'ROLLBACK'),
        ...await query(c, 'BEGIN; DECLARE c CURSOR FOR SELECT g FROM generate_series(1, 20) AS s(g) ORDER BY g; FETCH 3 FROM c'),
        ...await query(c, `${head} (3, 'c'); ${head} (4, 'd'); ${head} (5, 'e'); FETCH 3 FROM c`),
        ...await query(c, "INSERT INTO f_new (v) VALUES ('c'); INSERT INTO f_new (v) VALUES ('d'); FETCH 3 FROM c; COMMIT"),
        ...await query(c, 'SELECT * FROM f_big ORDER BY id'), ...await query(c, 'SELECT * FROM f_new ORDER BY id'),
      ];
    };
    const [postgres, aiduck] = await Promise.all([run(clients.postgres!), run(clients.batch!)]);
    expect(aiduck).toContain('error 25P02');
    expect(aiduck).toContain('dataRow 9');
    expect(aiduck).toEqual(postgres);
  });

  it('a pipelined batch failing inside a transaction block, rolled back to a savepoint and continued', async () => {
    const run = async (c: RawClient): Promise<string[]> => {
      await fresh(c, SETUP);
      await must(c, "BEGIN; INSERT INTO f_big VALUES (100, 'first'); SAVEPOINT s");
      c.send(serialize.parse({ text: 'INSERT INTO f_big (id, v) VALUES ($1, $2)' }),
        ...[['1', 'a'], ['2', 'b'], ['1', 'dup'], ['3', 'c']].flatMap((values) => [serialize.bind({ values }), serialize.execute({})]), serialize.sync());
      const answers = (await c.until((m) => m.name === 'readyForQuery', 30_000)).filter((m) => ANSWERS.has(m.name)).map(line);
      answers.push(...(await query(c, "ROLLBACK TO SAVEPOINT s; INSERT INTO f_big VALUES (5, 'e'); COMMIT")));
      return [...answers, ...(await query(c, 'SELECT * FROM f_big ORDER BY id'))];
    };
    const [postgres, aiduck] = await Promise.all([run(clients.postgres!), run(clients.batch!)]);
    expect(aiduck).toEqual(postgres);
    expect(aiduck).toContain('error 23505');
  });
});

describe('a batch run again when the transaction is rewound (ROLLBACK TO SAVEPOINT replays what ran before it)', () => {
  it('keeps the values of simple and pipelined batches that ran before the savepoint', async () => {
    const setup = table('f_replay', 'id integer PRIMARY KEY, t text, d double precision, n numeric(8,3), bt bytea, iv interval, ta text[], da date');
    const read = 'SELECT * FROM f_replay ORDER BY id';
    const head = 'INSERT INTO f_replay (id, t, d, n) VALUES';
    const literalRows = ["1, 'it''s \\x00ff {1,2}', 1.5, 1.0005", '2, 12, 0.1, -2.5', "3, 'ü☃', 1e300, 99999.9994", '4, NULL, -0.0, NULL', '5, 1.50, 5e-324, 0.125'];
    const run = async (c: RawClient): Promise<string[]> => {
      await fresh(c, setup);
      const answers = await query(c, `BEGIN; ${inserts(head, literalRows).join('; ')}; ${head} ${literalRows.map((r) => `(${r.replace(/^\d+/, (id) => String(Number(id) + 10))})`).join(', ')}`);
      c.send(serialize.parse({ text: 'INSERT INTO f_replay (id, bt, iv, ta, da) VALUES ($1, $2, $3, $4, $5)' }),
        ...[['21', '\\x00ff01', '1 day 02:00', '{"a b",NULL,"c,d"}', '2020-02-29'], ['22', 'a\\\\b', '-3 mons', '{}', '0044-03-15 BC'],
          ['23', null, 'P1Y', '{NULL}', 'infinity']].flatMap((values) => [serialize.bind({ values }), serialize.execute({})]), serialize.sync());
      answers.push(...(await c.until((m) => m.name === 'readyForQuery', 30_000)).filter((m) => ANSWERS.has(m.name)).map(line));
      // a row after the savepoint: rolling back to it runs the transaction again from its start
      answers.push(...(await query(c, "SAVEPOINT s; INSERT INTO f_replay (id) VALUES (30); INSERT INTO f_replay (id) VALUES (1)")));
      answers.push(...(await query(c, 'ROLLBACK TO SAVEPOINT s; COMMIT')));
      return [...answers, ...(await query(c, read))];
    };
    const [postgres, aiduck] = await Promise.all([run(clients.postgres!), run(clients.batch!)]);
    expect(aiduck.filter((a) => a.startsWith('error'))).toEqual(['error 23505']);
    expect(aiduck).toEqual(postgres);
  });
});

describe('pgJDBC: executeBatch, with reWriteBatchedInserts, and row by row', () => {
  let jdbc: Record<'postgres' | 'aiduck', Record<string, { rows: unknown[]; sqlState?: string; prepares?: number; updateCountSum?: number }>>;
  beforeAll(async () => {
    jdbc = await runOnBoth(servers, 'java', ['-cp', PGJDBC, join(CLIENTS_DIR, 'JdbcFidelity.java')]) as typeof jdbc;
  }, 120_000);

  it('stores the same rows of every type each way, and the same as PostgreSQL', () => {
    for (const mode of ['batch', 'rewrite']) {
      expect(jdbc.aiduck[mode]!.rows).toEqual(jdbc.aiduck['single']!.rows);
      // (with reWriteBatchedInserts pgJDBC counts each row as SUCCESS_NO_INFO, -2)
      expect(jdbc.aiduck[mode]!.updateCountSum).toBe(mode === 'batch' ? 60 : -120);
      expect(jdbc.aiduck[mode]!.updateCountSum).toBe(jdbc.postgres[mode]!.updateCountSum);
      // batched: far fewer statements prepared than rows
      expect(jdbc.aiduck[mode]!.prepares).toBeLessThan(20);
    }
    expect(jdbc.aiduck['single']!.rows).toHaveLength(60);
    expect(jdbc.aiduck['batch']!.rows).toEqual(jdbc.postgres['batch']!.rows);
  });

  it('a duplicate key in the middle: the same SQLSTATE, nothing left after the rollback', () => {
    for (const mode of ['batch', 'rewrite', 'single']) {
      expect(jdbc.aiduck[`${mode}_duplicate`]).toMatchObject({ sqlState: '23505', rows: [] });
      expect(jdbc.postgres[`${mode}_duplicate`]).toMatchObject({ sqlState: '23505', rows: [] });
    }
  });
});

describe('psycopg2: execute_batch, execute_values, executemany and row by row', () => {
  let py: Record<'postgres' | 'aiduck', Record<string, { rows: unknown[]; error?: string; prepares?: number }>>;
  beforeAll(async () => {
    py = await runOnBoth(servers, PYTHON, [join(CLIENTS_DIR, 'bulk_fidelity.py')]) as typeof py;
  }, 120_000);

  it('stores the same rows of every type each way, and the same as PostgreSQL', () => {
    for (const way of ['execute_batch', 'execute_values', 'executemany']) {
      expect(py.aiduck[way]).toEqual({ ...py.aiduck['row_by_row'], prepares: py.aiduck[way]!.prepares });
    }
    expect(py.aiduck['row_by_row']!.rows).toHaveLength(60);
    expect(py.aiduck['row_by_row']!.rows).toEqual(py.postgres['row_by_row']!.rows);
  });

  it('a duplicate key in the middle: the same SQLSTATE, nothing left after the rollback', () => {
    for (const way of ['execute_batch', 'execute_values', 'executemany', 'row_by_row']) {
      expect(py.aiduck[`${way}_duplicate`]).toMatchObject({ error: '23505', rows: [] });
      expect(py.postgres[`${way}_duplicate`]).toMatchObject({ error: '23505', rows: [] });
    }
  });

  it('literals of different types in one column', () => {
    for (const way of ['execute_batch', 'execute_values']) expect(py.aiduck[`mixed_${way}`]).toEqual(py.aiduck['mixed_row_by_row']);
    const [aiduck, postgres] = [py.aiduck['mixed_row_by_row'] as unknown as string[][], py.postgres['mixed_row_by_row'] as unknown as string[][]];
    // FLOAT_TEXT: the double 9007199254740992 of the last row
    expect([aiduck[5]![3], postgres[5]![3]]).toEqual(['9007199254740992', '9.007199254740992e+15']);
    const withoutIt = (rows: string[][]): string[][] => rows.map((r, i) => (i === 5 ? r.filter((_, c) => c !== 3) : r));
    expect(withoutIt(aiduck)).toEqual(withoutIt(postgres));
  });
});

