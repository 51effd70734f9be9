import type { DuckDBConnection } from '@duckdb/node-api';
import { setVariable } from '../functions/session-variables.js';
import { readSqlFile } from '../sqltext/sql-files.js';
import { DEFAULT_SEARCH_PATH, setSearchPathSql } from './search-path.js';

const sessionSql = readSqlFile('session.sql');
// One text for DuckDB to run statement by statement: a round trip per statement costs a third more.
// pg-dump-catalog.sql holds the rest of the catalog pg_dump reads.
const catalogSql = [...readSqlFile('pg-catalog.sql'), ...readSqlFile('pg-dump-catalog.sql')].join(';\n');

/** Creates the Postgres catalog views and macros on a connection (once, on first need). */
export async function loadPgCatalog(conn: DuckDBConnection): Promise<void> {
  await conn.run(catalogSql);
}

/** Prepares a new session's connection: Postgres compatibility macros and session variables. */
export async function bootstrapSession(conn: DuckDBConnection, vars: Record<string, string | number>): Promise<void> {
  for (const [k, v] of Object.entries(vars)) await setVariable(conn, k, v);
  for (const stmt of sessionSql) await conn.run(stmt);
  await conn.run(setSearchPathSql(DEFAULT_SEARCH_PATH));
}
