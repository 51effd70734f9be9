import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clientEnv } from '../helpers/reference-postgres.mjs';
import { run, type Run } from '../helpers/run.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { expectSameExcept, type KnownDifference } from './expect-same.js';
import { psql, startServerPair, type ServerPair, type Target } from './servers.js';

// Backup and migration with Debian's pg_dump, pg_restore and psql (PostgreSQL 15): an aiduck
// database dumped in every format and restored into a fresh aiduck and into PostgreSQL 15, and a
// PostgreSQL 15 database dumped and replayed into aiduck, each compared by its rows and by psql's
// description of its tables, sequences and functions.

const PG_SOURCE = fileURLToPath(new URL('pg-dump-source.sql', import.meta.url));
// What the client-family schema (schema.sql) lacks and a dump must carry: a serial column and a
// sequence that has been used; the same SQL in both systems.
const SEQUENCES_SQL = `CREATE TABLE public.tickets (id serial PRIMARY KEY, title text NOT NULL);
INSERT INTO public.tickets (title) VALUES ('first'), ('second');
CREATE SEQUENCE public.counter START 5 INCREMENT 2;
SELECT nextval('public.counter');
SELECT nextval('public.counter');`;

let servers: ServerPair;
let pgSource: Target;
const started: TestServer[] = [];
const work = mkdtempSync(join(tmpdir(), 'aiduck-pg-dump-'));

beforeAll(async () => {
  servers = await startServerPair();
  for (const target of [servers.aiduck, servers.postgres]) await mustSucceed(psql(target, ['-v', 'ON_ERROR_STOP=1', '-q'], SEQUENCES_SQL));
  await mustSucceed(psql(servers.postgres, ['-v', 'ON_ERROR_STOP=1', '-q', '-c', 'CREATE DATABASE pgsource']));
  pgSource = { ...servers.postgres, database: 'pgsource' };
  await mustSucceed(psql(pgSource, ['-v', 'ON_ERROR_STOP=1', '-q', '-f', PG_SOURCE]));
}, 60_000);
afterAll(async () => {
  await Promise.all(started.map((s) => s.stop()));
  await servers?.stop();
  rmSync(work, { recursive: true, force: true });
});

async function mustSucceed(r: Promise<Run>): Promise<Run> {
  const done = await r;
  expect(done.stderr).not.toMatch(/ERROR/);
  expect(done.status).toBe(0);
  return done;
}

const connection = (t: Target): string[] => ['-h', t.host, '-p', String(t.port), '-U', t.user];

/** pg_dump of a target; with `-f`, the archive's path is returned. */
async function pgDump(source: Target, args: string[]): Promise<string> {
  const r = await run('pg_dump', [...connection(source), ...args, source.database], { env: clientEnv() });
  expect(r.stderr, `pg_dump ${args.join(' ')}`).toBe('');
  expect(r.status).toBe(0);
  return r.stdout;
}

/** A new aiduck server for one restore, stopped once the test is done with it (they share two cores). */
async function withFreshAiduck(use: (target: Target) => Promise<void>): Promise<void> {
  const server = await startTestServer();
  started.push(server);
  try {
    await use({ name: 'aiduck', host: '127.0.0.1', port: server.port, user: 'aiduck', database: 'aiduck' });
  } finally {
    started.splice(started.indexOf(server), 1);
    await server.stop();
  }
}

let databases = 0;
async function freshPostgres(): Promise<Target> {
  const database = `restored${++databases}`;
  await mustSucceed(psql(servers.postgres, ['-q', '-c', `CREATE DATABASE ${database}`]));
  return { ...servers.postgres, database };
}

/** Replays a plain dump with psql, stopping at the first error; returns psql's messages (NOTICEs). */
async function replay(target: Target, script: string): Promise<string[]> {
  const r = await psql(target, ['-v', 'ON_ERROR_STOP=1', '-q', '-o', '/dev/null'], script);
  expect(r.stderr, `replay into ${target.name}`).not.toMatch(/ERROR/);
  expect(r.status).toBe(0);
  return r.stderr.split('\n').filter(Boolean).map((l) => l.replace(/^psql:<stdin>:\d+: /, ''));
}

async function lines(target: Target, command: string): Promise<string[]> {
  const r = await psql(target, ['-A', '-v', 'ON_ERROR_STOP=1', '-c', command]);
  expect(r.stderr, `${command} on ${target.name}:${target.database}`).toBe('');
  return r.stdout.trimEnd().split('\n');
}

/** What a restore must reproduce of the client-family schema: rows, psql's descriptions, sequence states. */
const SHOP = [
  'SELECT * FROM shop.customers ORDER BY id', 'SELECT * FROM shop.orders ORDER BY id', 'SELECT * FROM shop.order_items ORDER BY 1, 2',
  'SELECT * FROM shop.big_orders ORDER BY id', 'SELECT * FROM public.tickets ORDER BY id', 'SELECT * FROM public.default_schema_probe',
  'SELECT last_value, is_called FROM public.counter', 'SELECT last_value, is_called FROM public.tickets_id_seq',
  '\\d+ shop.customers', '\\d+ shop.orders', '\\d+ shop.order_items', '\\d+ public.tickets', '\\dv shop.*', '\\ds+ public.*', '\\di shop.*',
  '\\df+ shop.*',
];

/** Each command's output, from one psql session (a marker line between them). */
async function describeAll(target: Target, commands: readonly string[]): Promise<Record<string, string[]>> {
  const input = commands.map((c, i) => `\\echo '@@${i}'\n${c}${c.startsWith('\\') ? '' : ';'}`).join('\n');
  const r = await psql(target, ['-A', '-v', 'ON_ERROR_STOP=1'], input);
  expect(r.stderr, `describing ${target.name}:${target.database}`).toBe('');
  const out: Record<string, string[]> = {};
  for (const part of r.stdout.split(/^@@/m).slice(1)) {
    const [index, ...rest] = part.trimEnd().split('\n');
    out[commands[Number(index)]!] = rest;
  }
  expect(Object.keys(out)).toHaveLength(commands.length);
  return out;
}

/** Only NOTICEs, each saying what was ignored. */
function expectOnlyIgnoredNotices(messages: string[]): void {
  for (const m of messages) expect(m).toMatch(/^NOTICE: {2}.* was ignored: /);
}

describe('pg_dump of an aiduck database', () => {
  let source: Record<string, string[]>;
  beforeAll(async () => {
    source = await describeAll(servers.aiduck, SHOP);
  }, 90_000);

  it('holds the user\'s schemas, not aiduck\'s own (ai, main and their functions)', async () => {
    const script = await pgDump(servers.aiduck, ['--schema-only']);
    expect(script).toMatch(/^CREATE SCHEMA shop;$/m);
    expect(script).toMatch(/^CREATE TABLE shop\.customers \($/m);
    expect(script).toMatch(/^CREATE SEQUENCE public\.counter$/m);
    expect(script).toMatch(/^ALTER SEQUENCE public\.tickets_id_seq OWNED BY public\.tickets\.id;$/m);
    expect(script).toMatch(/^CREATE FUNCTION shop\.add_tax\(price "any", rate "any"\) RETURNS "any"$/m);
    expect(script).not.toMatch(/\b(ai|main)\.\w/);
    expect(script).not.toMatch(/CREATE SCHEMA (ai|main)|CREATE EXTENSION/);
  });

  it('plain, replayed into a fresh aiduck with psql, gives the same rows, keys, indexes, sequences and comments', async () => {
    const script = await pgDump(servers.aiduck, []);
    await withFreshAiduck(async (target) => {
      expectOnlyIgnoredNotices(await replay(target, script));
      expectSameExcept(source, await describeAll(target, SHOP));
    });
  }, 90_000);

  it('--schema-only, then --data-only, and --inserts give the same database', async () => {
    const [schema, data, inserts] = await Promise.all([['--schema-only'], ['--data-only'], ['--inserts']].map((args) => pgDump(servers.aiduck, args)));
    await withFreshAiduck(async (split) => {
      expectOnlyIgnoredNotices(await replay(split, schema!));
      expect(await lines(split, 'SELECT count(*) FROM shop.customers')).toEqual(['count', '0', '(1 row)']);
      await replay(split, data!);
      expectSameExcept(source, await describeAll(split, SHOP));
    });
    expect(inserts).toContain("INSERT INTO shop.customers VALUES (1, 'ann@example.com', 'Ann', 1234.5678, true, '2024-03-01 12:00:00+00', '\\x00ff01', '{a,b}');");
    await withFreshAiduck(async (target) => {
      await replay(target, inserts!);
      expectSameExcept(source, await describeAll(target, SHOP));
    });
  }, 90_000);

  it('-Fc, restored with pg_restore in one transaction, gives the same database', async () => {
    const archive = join(work, 'aiduck.dump');
    await pgDump(servers.aiduck, ['-Fc', '-f', archive]);
    await withFreshAiduck(async (target) => {
      const r = await run('pg_restore', [...connection(target), '-d', target.database, '--exit-on-error', '--single-transaction', archive], { env: clientEnv() });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expectSameExcept(source, await describeAll(target, SHOP));
    });
  }, 90_000);

  it('restores into PostgreSQL 15: the same rows, types and keys as PostgreSQL\'s own copy of the schema, but for the macro', async () => {
    // The macro is a function of type "any", which PostgreSQL refuses: left out with pg_restore's list.
    const archive = join(work, 'to-postgres.dump');
    await pgDump(servers.aiduck, ['-Fc', '-f', archive]);
    const list = join(work, 'to-postgres.list');
    const toc = await run('pg_restore', ['-l', archive], { env: clientEnv() });
    expect(toc.stdout).toMatch(/ FUNCTION shop add_tax\(/);
    writeFileSync(list, toc.stdout.split('\n').filter((l) => !/ FUNCTION /.test(l)).join('\n'));
    const target = await freshPostgres();
    const r = await run('pg_restore', [...connection(target), '-d', target.database, '--exit-on-error', '-L', list, archive], { env: clientEnv() });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const original = await describeAll(servers.postgres, SHOP);
    const restored = await describeAll(target, SHOP);
    expectSameExcept(original, restored, [
      { path: ['\\df+ shop.*'], postgres: original['\\df+ shop.*'], aiduck: ['List of functions', ...original['\\df+ shop.*']!.slice(1, 2), '(0 rows)'],
        why: 'a DuckDB macro has no PostgreSQL form; it was left out of the restore' },
    ]);
    // The view is DuckDB's text of it, which PostgreSQL reads as the same query.
    expect(restored['SELECT * FROM shop.big_orders ORDER BY id']).toEqual(['id|total', '10|150.2500', '(1 row)']);
  }, 90_000);

  it('as a plain script into PostgreSQL, fails only on the macro', async () => {
    const target = await freshPostgres();
    const r = await psql(target, ['-q', '-o', '/dev/null'], await pgDump(servers.aiduck, []));
    expect(r.stderr.split('\n').filter((l) => /ERROR/.test(l)).map((l) => l.replace(/^psql:<stdin>:\d+: /, ''))).toEqual([
      'ERROR:  SQL functions cannot return type "any"',
      'ERROR:  function shop.add_tax("any", "any") does not exist',
      'ERROR:  function shop.add_tax("any", "any") does not exist',
    ]);
    expect(await lines(target, 'SELECT count(*) FROM shop.order_items')).toEqual(['count', '3', '(1 row)']);
  }, 90_000);
});

const line = (command: string, n: number, postgres: string, aiduck: string, why: string): KnownDifference => ({ path: [command, n], postgres, aiduck, why });
const IDENTITY = 'DuckDB has no identity columns: the column draws from its sequence by default';
const DEPARSE = 'the expression is DuckDB\'s text of it, not a Postgres deparse';
/** Where psql describes the PostgreSQL schema replayed into aiduck otherwise than PostgreSQL. */
const known: KnownDifference[] = [
  line('\\d+ app.accounts', 8, "created_at|timestamp without time zone|||'2024-01-01 00:00:00'::timestamp without time zone|plain|||",
    "created_at|timestamp without time zone|||CAST('2024-01-01 00:00:00' AS TIMESTAMP)|plain|||", DEPARSE),
  line('\\d+ app.accounts', 12, 'profile|jsonb||||extended|||', 'profile|json||||extended|||', 'jsonb is stored as DuckDB\'s JSON'),
  line('\\d+ app.accounts', 19, '    "accounts_lower_login_idx" UNIQUE, btree (lower(login::text))',
    '    "accounts_lower_login_idx" UNIQUE, btree (lower(CAST(login AS VARCHAR)))', DEPARSE),
  line('\\d+ app.payments', 2, 'id|bigint||not null|generated by default as identity|plain|||', "id|bigint||not null|nextval('app.payments_id_seq'::regclass)|plain|||", IDENTITY),
  line('\\d+ app.payments', 11, '    "payments_amount_check" CHECK (amount <> 0::numeric)', '    "payments_amount_check" CHECK (amount != CAST(0 AS DECIMAL(38, 10)))', DEPARSE),
  line('\\d+ app.events', 2, 'id|bigint||not null|generated always as identity|plain|||', "id|bigint||not null|nextval('app.events_id_seq'::regclass)|plain|||", IDENTITY),
];

describe('a PostgreSQL 15 dump replayed into aiduck', () => {
  const APP = [
    'SELECT * FROM app.accounts ORDER BY id', 'SELECT * FROM app.payments ORDER BY id', 'SELECT * FROM app.events ORDER BY id',
    'SELECT * FROM app.account_totals ORDER BY login', 'SELECT * FROM public.notes ORDER BY id',
    'SELECT last_value, is_called FROM app.accounts_id_seq', 'SELECT last_value, is_called FROM app.payments_id_seq',
    '\\d+ app.accounts', '\\d+ app.payments', '\\d+ app.events', '\\d+ public.notes', '\\di app.*', '\\dv app.*',
  ];

  it('with psql -v ON_ERROR_STOP=1: the same rows, keys and indexes; what aiduck cannot honour answered with a NOTICE', async () => {
    const script = await pgDump(pgSource, []);
    const original = await describeAll(pgSource, APP);
    await withFreshAiduck(async (target) => {
      // pg_dump's script sets client_min_messages = warning, which keeps these NOTICEs from psql here as
      // in PostgreSQL; at the default level they say what was ignored.
      expect(script).toMatch(/^SET client_min_messages = warning;$/m);
      const messages = await replay(target, script.replace(/^SET client_min_messages = warning;$/m, ''));
      expect(messages).toContain('NOTICE:  ALTER TABLE app.accounts OWNER TO was ignored: aiduck keeps no owners (every object belongs to the server\'s user)');
      expect(messages).toContain('NOTICE:  COMMENT ON SCHEMA app was ignored: DuckDB keeps no comments on schemas');
      expect(messages).toContain('NOTICE:  column "id" of "app"."events" draws its values from app.events_id_seq by default; GENERATED ALWAYS cannot refuse explicit values in aiduck');
      expectSameExcept(original, await describeAll(target, APP), known);
    });
  }, 90_000);
});

describe('the statements of a dump, one by one', () => {
  /** The same psql input against aiduck and PostgreSQL: everything psql prints, notices and errors included. */
  async function both(input: string): Promise<{ postgres: string[]; aiduck: string[] }> {
    const out = async (t: Target): Promise<string[]> => {
      const r = await psql(t, ['-A', '-v', 'VERBOSITY=default'], input);
      return `${r.stdout}${r.stderr}`.trim().split('\n').map((l) => l.replace(/^psql:<stdin>:\d+: /, ''));
    };
    const [postgres, aiduck] = await Promise.all([out(servers.postgres), out(servers.aiduck)]);
    return { postgres, aiduck };
  }

  it('COMMENT answers COMMENT; DROP ... IF EXISTS of what is missing sends Postgres\' NOTICE', async () => {
    const { postgres, aiduck } = await both(`COMMENT ON TABLE shop.customers IS 'People who buy';
COMMENT ON COLUMN shop.customers.email IS 'Login address';
DROP TABLE IF EXISTS no_such_table;
DROP TABLE IF EXISTS no_such_schema.t;
DROP VIEW IF EXISTS shop.no_such_view;
DROP SEQUENCE IF EXISTS no_such_sequence;
DROP INDEX IF EXISTS no_such_index;
DROP SCHEMA IF EXISTS no_such_schema;`);
    expectSameExcept(postgres, aiduck);
    expect(aiduck).toContain('NOTICE:  table "no_such_table" does not exist, skipping');
  });

  it('set_config and setval answer as in Postgres', async () => {
    const { postgres, aiduck } = await both(`SELECT pg_catalog.set_config('search_path', '', false);
SHOW search_path;
SELECT pg_catalog.set_config('search_path', 'shop, public', false);
SELECT count(*) FROM customers;
CREATE SEQUENCE public.moved START 1;
SELECT pg_catalog.setval('public.moved', 41, true);
SELECT nextval('public.moved');
SELECT pg_catalog.setval('public.moved', 50, false);
SELECT nextval('public.moved');
DROP SEQUENCE public.moved;`);
    expectSameExcept(postgres, aiduck);
    expect(aiduck.join('\n')).toContain('setval\n41\n(1 row)\nnextval\n42\n(1 row)\nsetval\n50\n(1 row)\nnextval\n50\n(1 row)');
  });

  it('refuses, with Postgres\' SQLSTATE, what it cannot do instead of doing something else', async () => {
    const refused = async (sql: string): Promise<string> => {
      const c = await servers.server.client();
      try {
        await c.query(sql);
        return 'no error';
      } catch (e) {
        const err = e as { code?: string; message: string };
        return `${err.code}: ${err.message}`;
      } finally {
        await c.end();
      }
    };
    await mustSucceed(psql(servers.aiduck, ['-q', '-c', 'CREATE SEQUENCE public.once START 10', '-c', "SELECT nextval('public.once')"]));
    expect(await refused("SELECT pg_catalog.setval('public.once', 3, true)")).toBe(
      '0A000: setval cannot move sequence "public.once" to 3: a DuckDB sequence only moves forward, by its increment');
    expect(await refused('CREATE EXTENSION postgis')).toBe('0A000: extension "postgis" is not available');
    expect(await refused('LOCK TABLE shop.orders IN ACCESS SHARE MODE')).toBe('25P01: LOCK TABLE can only be used in transaction blocks');
    expect(await refused('CREATE FUNCTION shop.twice(a integer) RETURNS integer LANGUAGE sql AS $$ SELECT a * 2 $$')).toBe(
      "0A000: CREATE FUNCTION in Postgres' form is not supported: aiduck's functions are DuckDB macros");
    expect(await refused('CREATE TRIGGER t BEFORE INSERT ON shop.orders FOR EACH ROW EXECUTE FUNCTION f()')).toBe(
      '0A000: CREATE TRIGGER is not supported: DuckDB has no triggers');
    expect(await refused('ALTER TABLE ONLY shop.order_items ADD CONSTRAINT x FOREIGN KEY (order_id) REFERENCES shop.orders(id) ON DELETE CASCADE')).toBe(
      "0A000: DuckDB's foreign keys cannot CASCADE, SET NULL or SET DEFAULT");
    expect(await refused('ALTER TABLE ai.model_versions ADD CONSTRAINT x UNIQUE (name)')).toMatch(/^42501: permission denied for table ai\.model_versions/);
    // A foreign key the rows break: refused as Postgres refuses it, and the table keeps its rows and keys.
    await mustSucceed(psql(servers.aiduck, ['-q', '-c', 'CREATE TABLE shop.orphans (id integer PRIMARY KEY, customer_id integer)',
      '-c', 'INSERT INTO shop.orphans VALUES (1, 1), (2, 99)']));
    expect(await refused('ALTER TABLE ONLY shop.orphans ADD CONSTRAINT orphans_customer_fkey FOREIGN KEY (customer_id) REFERENCES shop.customers(id)'))
      .toMatch(/^23503: /);
    expect(await lines(servers.aiduck, 'SELECT * FROM shop.orphans ORDER BY id')).toEqual(['id|customer_id', '1|1', '2|99', '(2 rows)']);
    expect(await lines(servers.aiduck, '\\d shop.orphans')).toContain('    "orphans_pkey" PRIMARY KEY, btree (id)');
    // DuckDB keeps a foreign key within one schema only.
    expect(await refused('ALTER TABLE public.tickets ADD FOREIGN KEY (id) REFERENCES shop.customers(id)')).toBe(
      '0A000: DuckDB cannot hold a foreign key from public.tickets to a table in another schema (shop.customers)');
    await mustSucceed(psql(servers.aiduck, ['-q', '-c', 'DROP TABLE shop.orphans', '-c', 'DROP SEQUENCE public.once']));
  });
});
