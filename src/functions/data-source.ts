import type { DuckDBConnection } from '@duckdb/node-api';
import { SqlError } from '../errors/sql-error.js';

/** For the SQL that query commands (evaluate_retriever, vector_search, chunk_text) write. */

/** `data` as a FROM item: a query (SELECT/WITH/FROM/VALUES ...) in parentheses, or a table name. */
export function dataSource(data: string, fn: string): string {
  // A trailing semicolon is dropped, and the parenthesis closes on a line of its own so that a
  // trailing -- comment cannot swallow it.
  if (/^\s*(select|with|from|values)\b/i.test(data)) return `(${data.replace(/;\s*(--[^\n]*\s*)?$/, '')}\n)`;
  if (/^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*){0,2}$/.test(data.trim())) return data.trim();
  throw new SqlError('42P01', `${fn}: "${data}" is neither a table name nor a query`,
    "pass a table name ('questions') or a query ('SELECT ... FROM ...')");
}

/**
 * Runs one query the user wrote (a data source) and returns its rows: as a prepared statement, so
 * text that holds more than one statement is refused rather than run.
 */
export async function readQuery(conn: DuckDBConnection, sql: string): Promise<unknown[][]> {
  const prepared = await conn.prepare(sql).catch((err: unknown) => {
    if (err instanceof Error && /multiple statements/i.test(err.message)) {
      throw new SqlError('42601', 'a data source must be one query, not several statements', 'remove the ; and what follows it');
    }
    throw err;
  });
  try {
    return (await prepared.runAndReadAll()).getRows();
  } finally {
    prepared.destroySync();
  }
}
