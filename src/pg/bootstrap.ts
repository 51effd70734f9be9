import type { DuckDBConnection } from '@duckdb/node-api';
import { setVariable } from '../functions/session-variables.js';
import { readSqlFile } from '../sqltext/sql-files.js';
import { DEFAULT_SEARCH_PATH, setSearchPathSql } from './search-path.js';

const sessionSql = readSqlFile('session.sql');
// One text for DuckDB to run statement by statement: a round trip per statement costs a third more.
const catalogSql = readSqlFile('pg-catalog.sql').join(';\n');
// The rest of the catalog pg_dump reads, made only for a statement that names one of its objects
// (about a seventh more time on a session's first catalog query that no other client needs).
const dumpCatalog = readSqlFile('pg-dump-catalog.sql');
const dumpCatalogSql = dumpCatalog.join(';\n');
const dumpCatalogNames = new RegExp(`\\b(?:${dumpCatalog.map((s) => /^CREATE OR REPLACE TEMP (?:VIEW|MACRO) (\w+)/im.exec(s)?.[1])
  .filter((n): n is string => n !== undefined).join('|')})\\b`, 'i');

/** Creates the Postgres catalog views and macros on a connection (once, on first need). */
export async function loadPgCatalog(conn: DuckDBConnection): Promise<void> {
  await conn.run(catalogSql);
}

/** Whether a statement names an object of the catalog that only pg_dump reads (pg_depend, acldefault, ...). */
export const needsPgDumpCatalog = (sql: string): boolean => dumpCatalogNames.test(sql);

/** Creates that part of the catalog (after the rest of it). */
export async function loadPgDumpCatalog(conn: DuckDBConnection): Promise<void> {
  await conn.run(dumpCatalogSql);
}

/** Prepares a new session's connection: Postgres compatibility macros and session variables. */
export async function bootstrapSession(conn: DuckDBConnection, vars: Record<string, string | number>): Promise<void> {
  for (const [k, v] of Object.entries(vars)) await setVariable(conn, k, v);
  for (const stmt of sessionSql) await conn.run(stmt);
  await conn.run(setSearchPathSql(DEFAULT_SEARCH_PATH));
  // DuckDB starts on the machine's zone; a session starts on Postgres' TimeZone default here, UTC.
  await conn.run("SET TimeZone = 'UTC'");
}
