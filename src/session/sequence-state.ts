import type { DuckDBConnection } from '@duckdb/node-api';
import { sequenceStateRead } from '../pg/dump-statements.js';
import { sqlString } from '../sqltext/quote.js';

/**
 * `SELECT last_value, is_called FROM seq` of a sequence, as the query of duckdb_sequences() that
 * answers it as Postgres does (a sequence not yet used shows its start, not called); null when the
 * statement is not that, or names no sequence (a table with those columns is read as it is).
 */
export async function sequenceStateQuery(conn: DuckDBConnection, sql: string): Promise<string | null> {
  const seq = sequenceStateRead(sql);
  if (!seq) return null;
  const where = `database_name = current_database() AND sequence_name = ${sqlString(seq.name)}
    AND schema_name = ${seq.schema === null ? 'current_schema()' : sqlString(seq.schema)}`;
  const found = await conn.runAndReadAll(`SELECT 1 FROM duckdb_sequences() WHERE ${where}`);
  if (found.currentRowCount === 0) return null;
  return `SELECT coalesce(last_value, start_value) AS last_value, last_value IS NOT NULL AS is_called FROM duckdb_sequences() WHERE ${where}`;
}
