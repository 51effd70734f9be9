import { execFile } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { startTestServer, type TestServer } from './helpers/server.js';

let server: TestServer;
let client: pg.Client;

// Asynchronous on purpose: the server runs in this process and must keep serving while psql waits.
function psql(command: string): Promise<{ status: number; out: string; err: string }> {
  const args = ['-X', '-h', '127.0.0.1', '-p', String(server.port), '-U', 'aiduck', '-d', 'aiduck', '-v', 'ON_ERROR_STOP=1', '-c', command];
  return new Promise((resolve) => {
    execFile('psql', args, { encoding: 'utf8', timeout: 30_000, env: { ...process.env, PGCONNECT_TIMEOUT: '10' } },
      (error, stdout, stderr) => resolve({ status: error ? Number(error.code ?? 1) : 0, out: stdout, err: stderr }));
  });
}

/** Runs a meta-command and expects it to succeed without an error. */
async function meta(command: string): Promise<string> {
  const r = await psql(command);
  expect(r.err, `${command} wrote to stderr`).toBe('');
  expect(r.status, `${command} exit status`).toBe(0);
  return r.out;
}

/** The data rows of psql's aligned output as arrays of trimmed cells. */
function rows(out: string): string[][] {
  const lines = out.split('\n');
  const sep = lines.findIndex((l) => /^-+(\+-+)*$/.test(l));
  const result: string[][] = [];
  for (const line of lines.slice(sep + 1)) {
    if (!line.includes('|') && !line.startsWith(' ')) break;
    if (/^\(\d+ rows?\)$/.test(line.trim()) || line.trim() === '') break;
    result.push(line.split('|').map((c) => c.trim()));
  }
  return result;
}

beforeAll(async () => {
  server = await startTestServer();
  client = await server.client();
  await client.query(`
    CREATE TABLE orders (id INTEGER NOT NULL, customer BIGINT, note TEXT, score DOUBLE PRECISION,
                         amount NUMERIC(10,2), paid BOOLEAN DEFAULT false, day DATE, created TIMESTAMP, tags INTEGER[]);
    CREATE TABLE order_lines (order_id INTEGER, qty SMALLINT);
    CREATE TABLE other (x INTEGER);
    CREATE SCHEMA sales;
    CREATE TABLE sales.targets (region VARCHAR, goal DECIMAL(12,4));
    CREATE VIEW big_orders AS SELECT id, amount FROM orders WHERE amount > 100;
    CREATE MACRO add_tax(price, rate) AS price * (1 + rate);
  `);
}, 60_000);

afterAll(async () => {
  await server?.stop();
});

describe('psql meta-commands', () => {
  it('\\dt lists the user tables of the current schema', async () => {
    const out = await meta('\\dt');
    expect(out).toContain('List of relations');
    expect(rows(out)).toEqual([
      ['public', 'order_lines', 'table', 'aiduck'],
      ['public', 'orders', 'table', 'aiduck'],
      ['public', 'other', 'table', 'aiduck'],
    ]);
  });

  it('\\dt with a pattern filters by name and by schema', async () => {
    expect(rows(await meta('\\dt order*')).map((r) => r[1])).toEqual(['order_lines', 'orders']);
    expect(rows(await meta('\\dt sales.*'))).toEqual([['sales', 'targets', 'table', 'aiduck']]);
    expect((await psql('\\dt nothing_like_this')).err).toContain('Did not find any relation named "nothing_like_this"');
  });

  it('\\d lists tables and views; \\dv only views', async () => {
    const all = rows(await meta('\\d'));
    expect(all).toContainEqual(['public', 'big_orders', 'view', 'aiduck']);
    expect(all).toContainEqual(['public', 'orders', 'table', 'aiduck']);
    expect(rows(await meta('\\dv'))).toEqual([['public', 'big_orders', 'view', 'aiduck']]);
  });

  it('\\d <table> shows columns with Postgres type names', async () => {
    const out = await meta('\\d orders');
    expect(out).toContain('Table "public.orders"');
    const cols = rows(out).map((r) => [r[0], r[1], r[3]]);
    expect(cols).toEqual([
      ['id', 'integer', 'not null'],
      ['customer', 'bigint', ''],
      ['note', 'text', ''],
      ['score', 'double precision', ''],
      ['amount', 'numeric(10,2)', ''],
      ['paid', 'boolean', ''],
      ['day', 'date', ''],
      ['created', 'timestamp without time zone', ''],
      ['tags', 'integer[]', ''],
    ]);
    expect(rows(out).find((r) => r[0] === 'paid')?.[4]).toMatch(/'f'|false/);
  });

  it('\\d works for a schema-qualified table and for a view', async () => {
    const t = await meta('\\d sales.targets');
    expect(t).toContain('Table "sales.targets"');
    expect(rows(t).map((r) => [r[0], r[1]])).toEqual([['region', 'text'], ['goal', 'numeric(12,4)']]);
    const v = await meta('\\d big_orders');
    expect(v).toContain('View "public.big_orders"');
    expect(rows(v).map((r) => [r[0], r[1]])).toEqual([['id', 'integer'], ['amount', 'numeric(10,2)']]);
  });

  it('\\dn lists user schemas (and the registry schema ai) but not the system ones', async () => {
    // main is DuckDB's own default schema, where aiduck's functions live; sessions create in public.
    expect(rows(await meta('\\dn'))).toEqual([['ai', 'aiduck'], ['main', 'aiduck'], ['public', 'aiduck'], ['sales', 'aiduck']]);
  });

  it('\\df lists user functions and the AI macros, not the DuckDB built-ins', async () => {
    const fns = rows(await meta('\\df'));
    const tax = fns.find((f) => f[1] === 'add_tax');
    expect(tax?.[0]).toBe('public');
    expect(tax?.[3]).toContain('price');
    expect(fns.map((f) => f[1])).toContain('ai_query');
    expect(fns.map((f) => f[1])).not.toContain('abs');
    // aiduck's helpers (the macros behind the commands, the metrics' parts) are not what users call.
    expect(fns.filter((f) => f[1]!.startsWith('__'))).toEqual([]);
  });

  it('\\df ai_* shows the AI functions with their argument types and defaults, no internal arguments', async () => {
    const fns = rows(await meta('\\df ai_*'));
    const args = new Map(fns.map((f) => [f[1], f[3]]));
    expect(args.get('ai_query')).toBe('model text, request "any", modelParameters "any" DEFAULT NULL, responseFormat text DEFAULT NULL, '
      + 'failOnError boolean DEFAULT true, returnType text DEFAULT NULL');
    expect(args.get('ai_embed')).toBe('model text, text text');
    expect(args.get('ai_classify')).toMatch(/^text text, labels text\[\], model text DEFAULT 'classifier', multi_label boolean DEFAULT false, /);
    for (const [name, a] of args) expect(`${name}(${a})`).not.toMatch(/__|structure/);
    // a user's own macro keeps DuckDB's untyped arguments
    expect(rows(await meta('\\df add_tax'))[0]![3]).toBe('price "any", rate "any"');
  });

  it('\\df+ and \\sf show what a function does and an example; obj_description reads the same', async () => {
    const plus = await meta('\\df+ ai_query');
    expect(plus).toMatch(/\|\s+Description\s*\n/);
    expect(plus).toContain("| a model's answer to a request");
    expect(plus).toContain("Example: SELECT ai_query('llm', 'Name a duck'");
    const sf = await meta('\\sf ai_query');
    const lines = sf.split('\n');
    expect(lines[0]).toMatch(/^-- a model's answer to a request/);
    expect(lines[1]).toMatch(/^-- Example: SELECT ai_query\(/);
    expect(lines[2]).toBe('-- Arguments: model text, request "any", modelParameters "any" DEFAULT NULL, responseFormat text DEFAULT NULL, '
      + 'failOnError boolean DEFAULT true, returnType text DEFAULT NULL');
    expect(lines[3]).toMatch(/^CREATE OR REPLACE MACRO main\.ai_query\(model, request, modelParameters, responseFormat, failOnError, returnType\) AS /);
    const described = await client.query(`SELECT obj_description(p.oid, 'pg_proc') AS d FROM pg_proc p WHERE proname = 'vector_search'`);
    expect(described.rows[0].d).toMatch(/^the k rows of a table or query nearest .*\nExample: SELECT .*LATERAL vector_search/);
    const help = await client.query(`SELECT arguments, example FROM ai.functions WHERE name = 'fit_classifier'`);
    expect(help.rows[0].arguments).toContain('seed integer DEFAULT 42');
  });

  it('\\l lists the database, \\du the role, \\conninfo the connection', async () => {
    const dbs = rows(await meta('\\l'));
    expect(dbs.map((r) => [r[0], r[1], r[2]])).toEqual([['aiduck', 'aiduck', 'UTF8']]);
    expect(rows(await meta('\\du'))[0]?.[0]).toBe('aiduck');
    expect(await meta('\\conninfo')).toContain(`as user "aiduck" on host "127.0.0.1" at port "${server.port}"`);
  });
});

describe('catalog queries that drivers send', () => {
  it('pgJDBC type lookups by name and by OID', async () => {
    const byName = await client.query(`SELECT pg_type.oid, typname FROM pg_catalog.pg_type LEFT JOIN (select ns.oid as nspoid,
      ns.nspname, r.r from pg_namespace as ns join ( select s.r, (current_schemas(false))[s.r] as nspname
      from generate_series(1, array_upper(current_schemas(false), 1)) as s(r) ) as r using ( nspname ) ) as sp
      ON sp.nspoid = typnamespace WHERE typname = $1 ORDER BY sp.r, pg_type.oid DESC LIMIT 1`, ['int4']);
    expect(byName.rows).toEqual([{ oid: 23, typname: 'int4' }]);
    const isArray = await client.query(`SELECT typinput='pg_catalog.array_in'::regproc as is_array, typtype, typname
      FROM pg_catalog.pg_type WHERE pg_type.oid = $1`, [1007]);
    expect(isArray.rows).toEqual([{ is_array: true, typtype: 'b', typname: '_int4' }]);
    const byOid = await client.query(`SELECT n.nspname = ANY(current_schemas(true)) AS visible, n.nspname, t.typname
      FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON t.typnamespace = n.oid WHERE t.oid = $1`, [1700]);
    expect(byOid.rows).toEqual([{ visible: true, nspname: 'pg_catalog', typname: 'numeric' }]);
    const all = await client.query(`SELECT t.typname, t.oid FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n
      ON (t.typnamespace = n.oid) WHERE n.nspname != 'pg_toast' AND typname IN ('bool', 'text', 'timestamptz') ORDER BY oid`);
    expect(all.rows).toEqual([{ typname: 'bool', oid: 16 }, { typname: 'text', oid: 25 }, { typname: 'timestamptz', oid: 1184 }]);
  });

  it('session queries: current_schema, isolation level, settings, version', async () => {
    expect((await client.query('select current_schema()')).rows[0]).toEqual({ current_schema: 'public' });
    expect((await client.query('SHOW TRANSACTION ISOLATION LEVEL')).rows[0]).toEqual({ transaction_isolation: 'repeatable read' });
    const s = await client.query(`select setting from pg_catalog.pg_settings where name = 'max_index_keys'`);
    expect(s.rows).toEqual([{ setting: '32' }]);
    expect((await client.query('select pg_catalog.version() as v')).rows[0].v).toMatch(/^PostgreSQL 15/);
  });

  it('::regclass, ::regtype, format_type, pg_get_userbyid, array_to_string', async () => {
    const r = await client.query(`SELECT 'orders'::regclass::oid = c.oid AS same, c.oid::regclass::text AS name,
        'int4'::regtype::oid AS int4, 23::regtype::text AS int4name,
        pg_catalog.format_type(1700, 655366) AS num, pg_catalog.format_type(1114, -1) AS ts,
        pg_catalog.pg_get_userbyid(c.relowner) AS owner, pg_catalog.array_to_string(ARRAY['a', 'b'], ',') AS joined
      FROM pg_catalog.pg_class c WHERE c.relname = 'orders'`);
    expect(r.rows).toEqual([{ same: true, name: 'orders', int4: 23, int4name: 'integer', num: 'numeric(10,2)',
      ts: 'timestamp without time zone', owner: 'aiduck', joined: 'a,b' }]);
  });

  it('pg_attribute carries Postgres type OIDs matching RowDescription', async () => {
    const r = await client.query(`SELECT a.attname, a.atttypid, pg_catalog.format_type(a.atttypid, a.atttypmod) AS t
      FROM pg_catalog.pg_attribute a WHERE a.attrelid = 'orders'::regclass AND a.attnum > 0 ORDER BY a.attnum`);
    const described = await client.query('SELECT * FROM orders LIMIT 0');
    expect(r.rows.map((x: { atttypid: number }) => x.atttypid)).toEqual(described.fields.map((f) => f.dataTypeID));
    expect(r.rows.find((x: { attname: string }) => x.attname === 'amount').t).toBe('numeric(10,2)');
  });

  it('psycopg TypeInfo and DBeaver namespace queries', async () => {
    const ti = await client.query(`SELECT typname AS name, oid, typarray AS array_oid, oid::regtype::text AS regtype,
      typdelim AS delimiter FROM pg_type t WHERE t.oid = 'numeric'::regtype ORDER BY t.oid`);
    expect(ti.rows).toEqual([{ name: 'numeric', oid: 1700, array_oid: 1231, regtype: 'numeric', delimiter: ',' }]);
    const ns = await client.query(`SELECT n.oid, n.nspname, d.description FROM pg_catalog.pg_namespace n
      LEFT OUTER JOIN pg_catalog.pg_description d ON d.objoid = n.oid AND d.objsubid = 0
      AND d.classoid = 'pg_namespace'::regclass ORDER BY nspname`);
    expect(ns.rows.map((x: { nspname: string }) => x.nspname)).toEqual(expect.arrayContaining(['public', 'sales', 'pg_catalog']));
    const kw = await client.query(`select string_agg(word, ',') AS w from pg_catalog.pg_get_keywords()
      where word <> ALL ('{a,abs,absolute}'::text[])`);
    expect(kw.rows[0].w).toContain('select');
  });

  it('Postgres regex operators search rather than match whole strings in catalog queries', async () => {
    const r = await client.query(`SELECT relname FROM pg_catalog.pg_class WHERE relname ~ 'line' AND relname !~* '^ORDER_X'`);
    expect(r.rows).toEqual([{ relname: 'order_lines' }]);
  });
});
