import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import pg from 'pg';
import { expectSameExcept } from './expect-same.js';
import { CLIENTS_DIR, PGJDBC, PYTHON, psql, runOnBoth, startServerPair, type ServerPair, type Target } from './servers.js';

// What drivers do every day beyond plain queries — savepoints, server-side cursors, read-only
// transactions, deallocating prepared statements — with the real drivers and psql, the same client
// code against aiduck and PostgreSQL 15.

let servers: ServerPair;
let python: Record<'postgres' | 'aiduck', Record<string, unknown>>;
let jdbc: Record<'postgres' | 'aiduck', Record<string, unknown>>;

beforeAll(async () => {
  servers = await startServerPair();
  python = await runOnBoth(servers, PYTHON, [join(CLIENTS_DIR, 'driver_idioms.py')]);
  jdbc = await runOnBoth(servers, 'java', ['-cp', PGJDBC, join(CLIENTS_DIR, 'JdbcIdioms.java')]);
}, 90_000);
afterAll(async () => {
  await servers?.stop();
});

/** psql's output of a script on both servers, errors by SQLSTATE only (their texts are each server's own). */
async function psqlBoth(script: string): Promise<{ postgres: string; aiduck: string }> {
  const [postgres, aiduck] = await Promise.all([servers.postgres, servers.aiduck].map(async (t) => {
    const r = await psql(t, ['-v', 'VERBOSITY=sqlstate', '-f', '-'], script);
    return (r.stdout + r.stderr).replace(/psql:<stdin>:(\d+): /g, 'line $1: ');
  }));
  return { postgres: postgres!, aiduck: aiduck! };
}

describe('SQLAlchemy ORM', () => {
  it('creates tables with an autoincrement key (SERIAL) and an identity column, and inserts with the ids they draw', () => {
    expectSameExcept(python.postgres['sqlalchemy.orm'], python.aiduck['sqlalchemy.orm']);
    expect(python.aiduck['sqlalchemy.orm']).toMatchObject({ authors: [1, 2], books: [[100, 'One', 1], [105, 'Two', 2]] });
  });
});

describe('psycopg2', () => {
  it('rolls back to a savepoint after a failed statement, and the transaction goes on', () => {
    expectSameExcept(python.postgres['psycopg2.savepoints'], python.aiduck['psycopg2.savepoints']);
    expect(python.aiduck['psycopg2.savepoints']).toEqual({ duplicate: '23505', rows: [[1, 'one'], [3, 'three']] });
  });

  it('reads through named cursors: streamed in pieces, scrollable, and held past COMMIT', () => {
    expectSameExcept(python.postgres['psycopg2.named_cursors'], python.aiduck['psycopg2.named_cursors']);
    expect(python.aiduck['psycopg2.named_cursors']).toMatchObject({ rows: 5000, sum: 12_547_500 });
  });

  it('sends lists as array parameters, both ways, and in = ANY(%s)', () => {
    expectSameExcept(python.postgres['psycopg2.arrays'], python.aiduck['psycopg2.arrays']);
    expect(python.aiduck['psycopg2.arrays']).toEqual({ rows: [[1, ['a', 'b,c', 'q"x', null, '{y}'], [1, null, 3]], [2, [], []]], found: [[1]] });
  });

  it('reads Postgres\' error fields: the table and constraint of a constraint error, the position of a syntax error', () => {
    const pg = python.postgres['psycopg2.error_fields'] as Array<Record<string, unknown>>;
    const why = 'DuckDB\'s constraint errors name neither the constraint nor the referencing columns of a foreign key, nor the failing row';
    expectSameExcept(pg, python.aiduck['psycopg2.error_fields'], [
      { path: [2, 'constraint'], postgres: 'ef_x_fkey', aiduck: null, why },
      { path: [2, 'message'], postgres: 'insert or update on table "ef" violates foreign key constraint "ef_x_fkey"',
        aiduck: 'insert or update on table "ef" violates foreign key constraint', why },
      { path: [2, 'detail'], postgres: 'Key (x)=(5) is not present in table "et".', aiduck: 'The referenced key (a)=(5) does not exist.', why },
      { path: [3, 'detail'], postgres: 'Failing row contains (1, null).', aiduck: null, why },
      { path: [4, 'detail'], postgres: 'Failing row contains (1, -1).', aiduck: 'Check: (n > 0)', why },
    ]);
    expect(pg.map((e) => e['code'])).toEqual(['23505', '23505', '23503', '23502', '23514', '42601', '42703', '42601', '42703']);
  });

  it('refuses writes in a read-only session with 25006', () => {
    expectSameExcept(python.postgres['psycopg2.read_only'], python.aiduck['psycopg2.read_only']);
    expect(python.aiduck['psycopg2.read_only']).toMatchObject({ insert: '25006' });
  });
});

describe('psqlODBC (pyodbc), autocommit off', () => {
  it('goes on after a failed statement (its savepoint around each statement), and alternates prepared statements', () => {
    expectSameExcept(python.postgres['odbc.transaction'], python.aiduck['odbc.transaction']);
    expect(python.aiduck['odbc.transaction']).toMatchObject({ duplicate: '23505', big: [5000, 10, 5009] });
  });

  it('reads results through cursors with UseDeclareFetch', () => {
    expectSameExcept(python.postgres['odbc.declare_fetch'], python.aiduck['odbc.declare_fetch']);
    expect(python.aiduck['odbc.declare_fetch']).toMatchObject({ big: [5000, 10, 5009] });
  });
});

describe('pgJDBC', () => {
  it('sets, rolls back to and releases savepoints; setReadOnly refuses writes', () => {
    expectSameExcept(jdbc.postgres, jdbc.aiduck);
    expect(jdbc.aiduck).toEqual({ duplicate: '23505', rows: '1=one;3=three;', readOnlyInsert: '25006', arrays: "1[a, b,c, q'x, null, {y}][1, null, 3]; inserted 7" });
  });
});

describe('node-postgres: arrays', () => {
  it('bind JS arrays as parameters, in = ANY($1) and <> ALL($1) too, and read them back', async () => {
    const seen = await Promise.all([servers.postgres, servers.aiduck].map(async (t) => {
      const c = new pg.Client({ host: t.host, port: t.port, user: t.user, database: t.database });
      await c.connect();
      try {
        await c.query('CREATE TABLE shop.js_arrays (id int, tags text[], nums bigint[])');
        await c.query('INSERT INTO shop.js_arrays VALUES ($1, $2, $3), ($4, $5, $6)', [1, ['a', 'b,c', 'q"x', null, '{y}'], [1, null, 3], 2, [], []]);
        await c.query('INSERT INTO shop.js_arrays (id, tags) VALUES (3, $1::text[])', [['p', 'q,r']]);
        return {
          rows: (await c.query('SELECT id, tags, nums FROM shop.js_arrays ORDER BY id')).rows,
          any: (await c.query('SELECT id FROM shop.js_arrays WHERE id = ANY($1) ORDER BY id', [[1, 3, 9]])).rows,
          notAll: (await c.query('SELECT id FROM shop.js_arrays WHERE shop.js_arrays.id <> ALL($1) ORDER BY id', [[1]])).rows,
          inTags: (await c.query('SELECT id FROM shop.js_arrays WHERE $1 = ANY(tags) ORDER BY id', ['q,r'])).rows,
          typed: (await c.query('SELECT id FROM shop.js_arrays WHERE id = ANY($1::int[]) ORDER BY id', [[2, 3]])).rows,
        };
      } finally {
        await c.end();
      }
    }));
    expect(seen[1]).toEqual(seen[0]);
    expect(seen[1]!.any).toEqual([{ id: 1 }, { id: 3 }]);
    expect(seen[1]!.rows[0]).toEqual({ id: 1, tags: ['a', 'b,c', 'q"x', null, '{y}'], nums: ['1', null, '3'] });
  });
});

describe('node-postgres: settings at connect', () => {
  const connect = async (t: Target, config: Partial<pg.ClientConfig>): Promise<pg.Client> => {
    const c = new pg.Client({ host: t.host, port: t.port, user: t.user, database: t.database, ...config });
    await c.connect();
    return c;
  };

  it('applies startup parameters and options (-c name=value) as Postgres does', async () => {
    const config = { statement_timeout: 2500, application_name: 'idioms', options: '-c search_path=shop,public --lock-timeout=1000' };
    const seen = await Promise.all([servers.postgres, servers.aiduck].map(async (t) => {
      const c = await connect(t, config);
      try {
        const show = async (name: string): Promise<string> => Object.values((await c.query(`SHOW ${name}`)).rows[0] as object)[0] as string;
        const schema = (await c.query('SELECT current_schema() AS s')).rows[0].s as string;
        return { statement_timeout: await show('statement_timeout'), lock_timeout: await show('lock_timeout'),
          application_name: await show('application_name'), schema, customers: (await c.query('SELECT count(*)::int AS n FROM customers')).rows[0].n };
      } finally {
        await c.end();
      }
    }));
    expect(seen[1]).toEqual(seen[0]);
    expect(seen[1]).toMatchObject({ statement_timeout: '2500ms', lock_timeout: '1s', schema: 'shop' });
  });

  it('refuses an unknown setting at connect with 42704, as Postgres does', async () => {
    for (const t of [servers.postgres, servers.aiduck]) {
      await expect(connect(t, { options: '-c no_such_setting=1' }), t.name).rejects.toMatchObject({ code: '42704' });
    }
  });

  it('starts on the public schema, where unqualified tables go and pg_dump\'s public.x names point', async () => {
    const seen = await Promise.all([servers.postgres, servers.aiduck].map(async (t) => {
      const c = await connect(t, {});
      try {
        await c.query('CREATE TABLE made_here (a int)');
        await c.query('INSERT INTO public.made_here VALUES (1)');
        const r = await c.query("SELECT current_schema() AS s, (SELECT count(*)::int FROM made_here) AS n, (SELECT table_schema FROM information_schema.tables WHERE table_name = 'made_here') AS where_");
        await c.query('SET search_path TO shop, public');
        const path = (await c.query('SELECT current_schema() AS s')).rows[0].s as string;
        await c.query('RESET search_path');
        await c.query('DROP TABLE public.made_here');
        return { ...r.rows[0], path, after: (await c.query('SELECT current_schema() AS s')).rows[0].s };
      } finally {
        await c.end();
      }
    }));
    expect(seen[1]).toEqual(seen[0]);
    expect(seen[1]).toEqual({ s: 'public', n: 1, where_: 'public', path: 'shop', after: 'public' });
  });
});

describe('node-postgres: LISTEN and NOTIFY', () => {
  it('delivers notifications between sessions when the notifying transaction commits, as Postgres does', async () => {
    const seen = await Promise.all([servers.postgres, servers.aiduck].map(async (t) => {
      const open = async (): Promise<pg.Client> => {
        const c = new pg.Client({ host: t.host, port: t.port, user: t.user, database: t.database });
        await c.connect();
        return c;
      };
      const [listener, notifier] = [await open(), await open()];
      const notifierPid = Number((await notifier.query('SELECT pg_backend_pid() AS p')).rows[0].p);
      const got: string[] = [];
      listener.on('notification', (n) => got.push(`${n.channel}:${n.payload ?? ''}:${n.processId === notifierPid ? 'notifier' : 'other'}`));
      const settle = async (count: number, ms = 3000): Promise<void> => {
        const until = Date.now() + ms;
        while (got.length < count && Date.now() < until) {
          await listener.query('SELECT 1');
          await new Promise((r) => setTimeout(r, 20));
        }
      };
      await listener.query('LISTEN jobs');
      await listener.query('LISTEN "Other"');
      await notifier.query("NOTIFY jobs, 'now'");
      await settle(1);
      await notifier.query('BEGIN');
      await notifier.query("NOTIFY jobs, 'in a transaction'");
      await notifier.query("SELECT pg_notify('jobs', 'from a query')");
      await notifier.query("NOTIFY jobs, 'in a transaction'");
      const beforeCommit = got.length;
      await notifier.query('COMMIT');
      await settle(3);
      await notifier.query('BEGIN');
      await notifier.query("NOTIFY jobs, 'rolled back'");
      await notifier.query('ROLLBACK');
      await notifier.query('NOTIFY "Other"');
      await notifier.query('NOTIFY other');
      await settle(4);
      await listener.query('UNLISTEN *');
      await notifier.query("NOTIFY jobs, 'after unlisten'");
      await listener.query("NOTIFY jobs, 'to myself'");
      await settle(5, 500); // none comes: nothing listens any more
      await Promise.all([listener.end(), notifier.end()]);
      return { got, beforeCommit };
    }));
    expect(seen[1]).toEqual(seen[0]);
    expect(seen[1]!.got).toEqual(['jobs:now:notifier', 'jobs:in a transaction:notifier', 'jobs:from a query:notifier', 'Other::notifier']);
  });
});

describe('psql', () => {
  it('moves cursors the way Postgres does: FETCH and MOVE in every direction, CLOSE, WITH HOLD, and their errors', async () => {
    const out = await psqlBoth(`
      DECLARE outside CURSOR FOR SELECT 1 AS one;
      DECLARE c CURSOR FOR SELECT 1 AS one\\; FETCH 1 FROM c;
      BEGIN;
      DECLARE c SCROLL CURSOR FOR SELECT g FROM generate_series(1, 10) AS s(g);
      FETCH 2 FROM c;
      FETCH FORWARD 3 c;
      MOVE 2 IN c;
      FETCH NEXT c;
      FETCH PRIOR c;
      FETCH ABSOLUTE 1 c;
      FETCH ALL c;
      FETCH c;
      FETCH BACKWARD 2 c;
      FETCH ABSOLUTE -1 c;
      FETCH RELATIVE -3 c;
      MOVE BACKWARD ALL IN c;
      FETCH FORWARD 0 c;
      FETCH RELATIVE 20 c;
      CLOSE c;
      DECLARE f NO SCROLL CURSOR FOR SELECT g, g * 2 AS twice FROM generate_series(1, 5) AS s(g);
      FETCH 2 f;
      MOVE FORWARD 2 f;
      FETCH ALL FROM f;
      DECLARE f CURSOR FOR SELECT 1 AS one;
      ROLLBACK;
      BEGIN;
      DECLARE f NO SCROLL CURSOR FOR SELECT g FROM generate_series(1, 5) AS s(g);
      FETCH 3 f;
      FETCH BACKWARD 1 f;
      ROLLBACK;
      DECLARE h CURSOR WITH HOLD FOR SELECT g FROM generate_series(1, 3) AS s(g);
      FETCH h;
      BEGIN;
      FETCH 5 h;
      COMMIT;
      CLOSE h;
      CLOSE h;
      BEGIN;
      DECLARE gone CURSOR WITH HOLD FOR SELECT 1 AS one;
      ROLLBACK;
      FETCH gone;
      BEGIN;
      DECLARE a CURSOR FOR SELECT 1 AS one;
      DECLARE b CURSOR FOR SELECT 2 AS two;
      CLOSE ALL;
      FETCH a;
      ROLLBACK;
    `);
    expect(out.aiduck).toBe(out.postgres);
    expect(out.aiduck).toContain('(9 rows)');
  });

  it('reads a large result in pieces with \\set FETCH_COUNT (a cursor under the hood)', async () => {
    const out = await psqlBoth(`
      \\set FETCH_COUNT 1000
      SELECT g, 'row ' || g AS label FROM generate_series(1, 5500) AS s(g);
    `);
    expect(out.aiduck).toBe(out.postgres);
    expect(out.aiduck).toContain('(5500 rows)');
  });

  it('COPY FROM STDIN, text and csv: array elements holding braces, commas and quotes kept; a numeric that would be rounded refused', async () => {
    const out = await psqlBoth(`
      CREATE TABLE shop.copied (id int, tags text[], grid int[][], amount numeric);
      COPY shop.copied FROM STDIN;
      1\t{a,"b,c","{x}","q\\\\"uote"}\t{{1,2},{3,4}}\t1.123456789
      2\t{NULL,"NULL"}\t\\N\t12345678901234567890.5
      \\.
      COPY shop.copied FROM STDIN WITH (FORMAT csv);
      3,"{a,""b,c"",""{x}""}","{{5,6}}",0.0000000001
      4,"{NULL,""NULL""}",,-7
      \\.
      SELECT id, tags, tags[2] AS second, tags[3] AS third, grid, amount FROM shop.copied ORDER BY id;
      COPY shop.copied (id, amount) FROM STDIN;
      5\t1.123456789012345
      \\.
      COPY shop.copied (id, amount) FROM STDIN WITH (FORMAT csv);
      6,1.123456789012345
      \\.
      SELECT count(*) FROM shop.copied;
    `.replace(/^ {6}/gm, ''));
    // PostgreSQL keeps all 15 decimals; aiduck's unconstrained numeric refuses them (22003) rather than round.
    const [ours, theirs] = [out.aiduck, out.postgres].map((o) => o.split('\n'));
    expect(ours.filter((l) => l.includes('22003'))).toHaveLength(2);
    expect(theirs.filter((l) => /^COPY 1$/.test(l))).toHaveLength(2);
    const withoutTail = (lines: string[]): string => lines.slice(0, lines.findIndex((l) => l.includes('(4 rows)')) + 1).join('\n');
    expect(withoutTail(ours)).toBe(withoutTail(theirs));
    expect(withoutTail(ours)).toContain('{a,"b,c","{x}","q\\"uote"}');
    expect(out.aiduck).toMatch(/count\s+-+\s+4\s/);
  });

  it('TimeZone: timestamptz values shown, read, truncated and cast at the session\'s zone, as in Postgres', async () => {
    const out = await psqlBoth(`
      SELECT timestamptz '2024-01-01 12:00:00+00' AS winter, timestamptz '2024-07-01 12:00:00+00' AS summer;
      SET TIME ZONE 'America/New_York';
      SHOW TimeZone;
      SELECT timestamptz '2024-01-01 12:00:00+00' AS winter, timestamptz '2024-07-01 12:00:00+00' AS summer, timestamptz '2024-01-01 12:00:00' AS parsed;
      SELECT (timestamptz '2024-01-01 03:00:00+00')::date AS d, date_trunc('day', timestamptz '2024-01-01 03:00:00+00') AS t;
      SELECT ARRAY[timestamptz '2024-01-01 12:00:00+00', NULL] AS arr;
      SET TimeZone = 'Asia/Kolkata';
      SELECT timestamptz '2024-01-01 12:00:00.5+00' AS t, timestamptz '0044-03-15 12:00:00+00 BC' < timestamptz '2024-01-01 00:00:00+00' AS earlier;
      SET TIME ZONE 'UTC+3';
      SELECT timestamptz '2024-07-01 12:00:00+00' AS posix_west;
      SET TIME ZONE 'GMT-01:00';
      SELECT timestamptz '2024-07-01 12:00:00+00' AS posix_east;
      SET TimeZone = 'Nowhere/Special';
      SHOW TimeZone;
      RESET TimeZone;
      SELECT timestamptz '2024-01-01 12:00:00+00' AS t;
    `);
    expect(out.aiduck).toBe(out.postgres);
    expect(out.aiduck).toContain('2024-07-01 08:00:00-04');
    expect(out.aiduck).toContain('2024-01-01 17:30:00.5+05:30');
  });

  it('serial, bigserial, smallserial and identity columns draw from sequences as in Postgres', async () => {
    const out = await psqlBoth(`
      CREATE TABLE shop.items (id serial PRIMARY KEY, name text NOT NULL);
      CREATE TABLE shop.big (id bigserial, n int);
      CREATE TABLE shop.ident (id integer GENERATED ALWAYS AS IDENTITY, v text);
      CREATE TABLE shop.ident2 (id bigint GENERATED BY DEFAULT AS IDENTITY (START WITH 100 INCREMENT BY 10 CACHE 1) PRIMARY KEY, v text);
      INSERT INTO shop.items (name) VALUES ('a'), ('b') RETURNING id;
      INSERT INTO shop.big (n) VALUES (1), (2) RETURNING id;
      INSERT INTO shop.ident (v) VALUES ('x') RETURNING id;
      INSERT INTO shop.ident2 (v) VALUES ('x'), ('y') RETURNING id;
      SELECT pg_get_serial_sequence('shop.items', 'id') AS a, pg_get_serial_sequence('shop.ident2', 'id') AS b;
      CREATE TABLE IF NOT EXISTS shop.items (id serial);
      INSERT INTO shop.items (id, name) VALUES (NULL, 'null id');
      DROP TABLE shop.items;
      CREATE TABLE shop.items (id serial, name text);
      INSERT INTO shop.items (name) VALUES ('again') RETURNING id;
      ALTER TABLE shop.big ADD COLUMN seq smallserial;
      SELECT * FROM shop.big ORDER BY id;
      INSERT INTO shop.big (n) VALUES (3) RETURNING id, seq;
      DROP TABLE shop.items; DROP TABLE shop.big; DROP TABLE shop.ident; DROP TABLE shop.ident2;
      SELECT count(*) AS sequences_left FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE relkind = 'S' AND nspname = 'shop';
    `);
    expect(out.aiduck).toBe(out.postgres);
    expect(out.aiduck).toMatch(/ 100\n 110\n/);
  });

  it('who is connected, SHOW of an unknown setting, jsonb as a type name', async () => {
    const out = await psqlBoth(`
      SELECT current_user, session_user, user;
      SHOW no_such_setting;
      CREATE TABLE shop.docs (id int, d jsonb);
      INSERT INTO shop.docs VALUES (1, '{"k": "v", "n": [1, 2]}');
      SELECT id, d->>'k' AS k, (d->'n')->>1 AS second, '{"x": 5}'::jsonb->>'x' AS x FROM shop.docs;
    `);
    expect(out.aiduck).toBe(out.postgres);
    expect(out.aiduck).toContain('42704');
  });

  it('savepoints, read-only transactions and DEALLOCATE answer as in Postgres', async () => {
    const out = await psqlBoth(`
      CREATE TABLE shop.sp (a integer PRIMARY KEY, b text);
      SAVEPOINT outside;
      RELEASE outside;
      ROLLBACK TO outside;
      BEGIN;
      INSERT INTO shop.sp VALUES (1, 'one');
      SAVEPOINT s1;
      INSERT INTO shop.sp VALUES (2, 'two');
      INSERT INTO shop.sp VALUES (1, 'duplicate');
      SELECT 1 AS ignored;
      SAVEPOINT too_late;
      ROLLBACK TO s1;
      SELECT * FROM shop.sp ORDER BY a;
      INSERT INTO shop.sp VALUES (3, 'three');
      SAVEPOINT s2;
      SAVEPOINT s2;
      INSERT INTO shop.sp VALUES (4, 'four');
      ROLLBACK TO SAVEPOINT s2;
      RELEASE s2;
      ROLLBACK TO s2;
      RELEASE SAVEPOINT s2;
      ROLLBACK TO s2;
      ROLLBACK TO nosuch;
      ROLLBACK TO s1;
      SELECT * FROM shop.sp ORDER BY a;
      SELECT nosuch FROM shop.sp;
      ROLLBACK TO s1;
      COMMIT;
      SELECT * FROM shop.sp ORDER BY a;
      BEGIN READ ONLY;
      SHOW transaction_read_only;
      SELECT count(*) AS n FROM shop.sp;
      INSERT INTO shop.sp VALUES (5, 'no');
      ROLLBACK;
      START TRANSACTION ISOLATION LEVEL SERIALIZABLE, READ ONLY;
      CREATE TABLE shop.nope (a integer);
      ROLLBACK;
      BEGIN;
      SET TRANSACTION READ ONLY;
      UPDATE shop.sp SET b = 'x';
      ROLLBACK;
      SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY;
      SHOW default_transaction_read_only;
      CREATE TEMP TABLE scratch (a integer);
      DELETE FROM shop.sp;
      SET default_transaction_read_only = off;
      CREATE TEMP TABLE scratch (a integer);
      SET default_transaction_read_only = on;
      INSERT INTO scratch VALUES (1);
      UPDATE scratch SET a = 2;
      COPY shop.sp FROM STDIN;
      RESET default_transaction_read_only;
      BEGIN;
      SET TRANSACTION READ WRITE;
      SHOW transaction_read_only;
      COMMIT;
      PREPARE p AS SELECT 42 AS answer;
      EXECUTE p;
      DEALLOCATE p;
      DEALLOCATE p;
      DEALLOCATE PREPARE ALL;
      SELECT * FROM shop.sp ORDER BY a;
    `);
    expect(out.aiduck).toBe(out.postgres);
    expect(out.aiduck).toContain('25006');
  });
});
