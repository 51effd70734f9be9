import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { startClientPair, type ClientPair } from './helpers/client-pair.js';

// client_min_messages decides which NOTICEs and WARNINGs a session is sent, as in PostgreSQL 15:
// the same statements through aiduck and a real PostgreSQL, the messages each client saw compared.

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

/** What one client saw for each statement: the severity and text of each notice, or the error. */
async function seen(c: pg.Client, statements: string[]): Promise<string[]> {
  const out: string[] = [];
  const onNotice = (n: { severity?: string; message: string }): void => {
    out.push(`${n.severity} ${n.message}`);
  };
  c.on('notice', onNotice);
  try {
    for (const sql of statements) {
      out.push(`> ${sql}`);
      try {
        const r = await c.query(sql);
        if (r.command === 'SHOW') out.push(JSON.stringify(r.rows));
      } catch (e) {
        const err = e as { code?: string; message: string; hint?: string };
        out.push(`ERROR ${err.code} ${err.message} / ${err.hint}`);
      }
    }
  } finally {
    c.off('notice', onNotice);
  }
  return out;
}

describe('client_min_messages, against PostgreSQL 15', () => {
  it('keeps NOTICEs and WARNINGs below the level from the client, and checks the level', async () => {
    const statements = [
      'DROP TABLE IF EXISTS no_such_table',
      'SET client_min_messages = warning',
      'DROP TABLE IF EXISTS no_such_table',
      'COMMIT',
      'SET client_min_messages = error',
      'COMMIT',
      'SET client_min_messages = bogus',
      'SHOW client_min_messages',
      'SET client_min_messages = DEBUG',
      'SHOW client_min_messages',
      // PostgreSQL has DEBUG messages of its own (aiduck has none): compare at LOG, just below NOTICE.
      'SET client_min_messages = log',
      'DROP VIEW IF EXISTS no_such_view',
      'COMMIT',
      'RESET client_min_messages',
      'SHOW client_min_messages',
    ];
    const [a, b] = [await seen(ours, statements), await seen(theirs, statements)];
    expect(a).toEqual(b);
    // The comparison could fail: PostgreSQL sent some, and held some back.
    expect(b.filter((l) => l.startsWith('NOTICE') || l.startsWith('WARNING')).length).toBe(4);
    expect(b).toContain('ERROR 22023 invalid value for parameter "client_min_messages": "bogus" / Available values: debug5, debug4, debug3, debug2, debug1, log, notice, warning, error.');
  });
});

describe('the SQLSTATE of common errors, against PostgreSQL 15', () => {
  it('is the one PostgreSQL gives', async () => {
    const statements = [
      "SELECT '2024-02-30'::date", "SELECT '2024-13-01'::timestamp", "SELECT '25:00'::time", 'SELECT sqrt(-1)', 'SELECT ln(0)',
      'SELECT ln(-1)', 'SELECT (SELECT 1 UNION SELECT 2)', 'SELECT 2147483647::int + 1', "SELECT 'abc'::int", "SELECT 'x'::uuid",
      'SELECT nosuchfunc(1)', 'SELECT * FROM nosuchtable', 'SELECT nosuchcol FROM (SELECT 1 AS a) t', 'SELEC 1',
    ];
    const codes = async (c: pg.Client): Promise<string[]> => {
      const out: string[] = [];
      for (const sql of statements) out.push(await c.query(sql).then(() => `${sql}: ok`, (e: { code?: string }) => `${sql}: ${e.code}`));
      return out;
    };
    const [a, b] = [await codes(ours), await codes(theirs)];
    expect(a).toEqual(b);
    expect(b.filter((l) => l.endsWith(': ok'))).toEqual([]);
  });
});

describe('command tags, against PostgreSQL 15', () => {
  it('are the ones PostgreSQL sends, TRUNCATE included', async () => {
    const statements = [
      'CREATE TEMP TABLE tagged (id int, v text)', "INSERT INTO tagged VALUES (1, 'a'), (2, 'b')", "UPDATE tagged SET v = 'c' WHERE id = 1",
      'DELETE FROM tagged WHERE id = 2', 'TRUNCATE tagged', 'TRUNCATE TABLE tagged', 'DROP TABLE tagged',
    ];
    const tags = async (c: pg.Client): Promise<string[]> => {
      const out: string[] = [];
      for (const sql of statements) {
        const r = await c.query(sql);
        out.push(`${r.command} ${r.rowCount ?? ''}`);
      }
      return out;
    };
    const [a, b] = [await tags(ours), await tags(theirs)];
    expect(a).toEqual(b);
    expect(a[4]).toBe('TRUNCATE ');
  });
});
