import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { startTestServer, type TestServer } from './helpers/server.js';
import {
  ALLOWED_PRAGMAS, ALLOWED_TABLE_FUNCTIONS, REFUSED_PRAGMAS, REFUSED_TABLE_FUNCTIONS,
} from '../src/pg/instance-guard.js';

// One session must not change what every other session lives with. These walk DuckDB's own lists
// of settings, pragmas and table functions, so a new DuckDB version cannot open one unnoticed.

let server: TestServer;
let c: pg.Client;
let other: pg.Client;

beforeAll(async () => {
  server = await startTestServer();
  c = await server.client();
  other = await server.client();
});
afterAll(async () => {
  await server.stop();
});

async function codeOf(sql: string): Promise<string> {
  try {
    await c.query(sql);
    return 'ok';
  } catch (e) {
    return (e as { code: string }).code;
  }
}

const quoteIdent = (name: string): string => `"${name.replace(/"/g, '""')}"`;

describe('instance-wide settings and calls', () => {
  it('classifies every DuckDB table function and pragma as allowed or refused', async () => {
    const fns = (await c.query("SELECT DISTINCT function_name AS n, function_type AS t FROM duckdb_functions() WHERE function_type IN ('table', 'pragma')")).rows as Array<{ n: string; t: string }>;
    const unclassified = fns.filter(({ n, t }) => (t === 'table' ? !ALLOWED_TABLE_FUNCTIONS.has(n) && !REFUSED_TABLE_FUNCTIONS.has(n) : !ALLOWED_PRAGMAS.has(n) && !REFUSED_PRAGMAS.has(n))
      // aiduck's own table functions are defined by aiduck.
      && !n.startsWith('ai_') && !n.startsWith('__'));
    expect(unclassified, 'classify these in src/engine/instance-guard.ts').toEqual([]);
    expect(fns.filter((f) => f.t === 'table').length).toBeGreaterThan(50);
    expect(fns.filter((f) => f.t === 'pragma').length).toBeGreaterThan(20);
  });

  it('refuses every refused table function, in CALL and in FROM, and every refused pragma, with 42501', async () => {
    for (const f of REFUSED_TABLE_FUNCTIONS) {
      expect(await codeOf(`CALL ${f}()`), f).toBe('42501');
      expect(await codeOf(`SELECT * FROM ${quoteIdent(f)}()`), f).toBe('42501');
    }
    for (const p of REFUSED_PRAGMAS) expect(await codeOf(`PRAGMA ${p}`), p).toBe('42501');
    expect(await codeOf("CALL enable_logging(storage = 'file', storage_path = 'logs')")).toBe('42501');
    expect(await codeOf("SELECT * FROM query('SELECT * FROM enable_logging()')")).toBe('42501');
    expect(await codeOf("CREATE MACRO sneaky() AS TABLE SELECT * FROM enable_logging()")).toBe('42501');
    expect(await codeOf("ATTACH ':memory:' AS m2")).toBe('42501');
    expect(await codeOf('DETACH m2')).toBe('42501');
  });

  it('refuses SET, SET GLOBAL and RESET of every DuckDB setting but search_path, with 42501', async () => {
    const settings = (await c.query('SELECT name, value FROM duckdb_settings()')).rows as Array<{ name: string; value: string | null }>;
    expect(settings.length).toBeGreaterThan(100);
    const failures: string[] = [];
    for (const { name, value } of settings) {
      // The session's own schema search (which DuckDB leaves open under its configuration lock), and
      // TimeZone, a Postgres session setting that aiduck keeps per session.
      if (['search_path', 'schema', 'timezone'].includes(name.toLowerCase())) continue;
      const literal = value === null ? "''" : `'${value.replace(/'/g, "''")}'`;
      for (const sql of [`SET ${quoteIdent(name)} = ${literal}`, `SET GLOBAL ${quoteIdent(name)} = ${literal}`, `RESET ${quoteIdent(name)}`]) {
        const code = await codeOf(sql);
        if (code !== '42501') failures.push(`${sql}: ${code}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('leaves the other sessions as they were, and keeps what sessions need working', async () => {
    await c.query('SET search_path = main');
    await c.query("SET statement_timeout = '5s'");
    await c.query('DISCARD ALL');
    for (const setting of ['enable_logging', 'autoload_known_extensions', 'autoinstall_known_extensions', 'enable_external_access']) {
      expect((await other.query(`SELECT current_setting('${setting}')::BOOLEAN AS v`)).rows[0].v, setting).toBe(false);
    }
    expect((await other.query("SELECT current_setting('threads')::INTEGER AS v")).rows[0].v).toBe(2);
    expect((await other.query('PRAGMA version')).rows.length).toBe(1);
    expect((await other.query('CREATE TABLE query (a INTEGER)')).command).toBe('CREATE');
    expect((await other.query('SELECT count(*)::int AS n FROM query')).rows[0].n).toBe(0);
  });
});
