import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { DuckDBConnection } from '@duckdb/node-api';
import { splitStatements } from './sql-text.js';

const sessionSql = splitStatements(readFileSync(fileURLToPath(new URL('../../sql/session.sql', import.meta.url)), 'utf8'));

/** Prepares a new session's connection: Postgres compatibility macros and session variables. */
export async function bootstrapSession(conn: DuckDBConnection, vars: Record<string, string | number>): Promise<void> {
  for (const [k, v] of Object.entries(vars)) {
    await conn.run(`SET VARIABLE ${k} = ${typeof v === 'number' ? v : `'${v.replace(/'/g, "''")}'`}`);
  }
  for (const stmt of sessionSql) await conn.run(stmt);
}
