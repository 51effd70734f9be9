import type { DuckDBConnection } from '@duckdb/node-api';
import { sqlString } from '../sqltext/quote.js';

/**
 * Whether an INSERT into `table` draws from a sequence: a column it leaves to its default (not in
 * `columns`, or every column when `columns` is null or a row writes DEFAULT) whose default calls
 * nextval (serial, identity, DEFAULT nextval(...)). Such INSERTs do not run as batches: DuckDB
 * computes a statement's defaults for all its rows before it checks any, so a batch that fails
 * has used a value for every row, and Postgres only for the rows up to the one that fails — the
 * ids after the failure would differ. Tables of that name in any schema count (when in doubt, the
 * rows run one by one).
 */
export async function drawsFromSequence(conn: DuckDBConnection, table: string, columns: readonly string[] | null): Promise<boolean> {
  const given = columns === null ? '' : `AND NOT list_contains([${columns.map((c) => sqlString(c.toLowerCase())).join(', ')}]::VARCHAR[], lower(column_name))`;
  const r = await conn.runAndReadAll(`SELECT count(*) FROM duckdb_columns()
    WHERE lower(table_name) = ${sqlString(table.toLowerCase())} ${given} AND contains(lower(column_default), 'nextval')`);
  return Number(r.getRows()[0]?.[0] ?? 0) > 0;
}
