import type { DuckDBConnection } from '@duckdb/node-api';
import { sqlString } from '../sqltext/quote.js';

/** What asking needs of the session. */
export interface SequenceAsker {
  conn: DuckDBConnection;
  /** Set aside the open cursor's pending rows before another statement runs on the connection. */
  parkOpenCursor(): Promise<void>;
}

/**
 * Whether an INSERT into `table` draws from a sequence: a column it leaves to its default (not in
 * `columns`, or every column when `columns` is null or a row writes DEFAULT) whose default calls
 * nextval (serial, identity, DEFAULT nextval(...)). Such INSERTs do not run as batches: DuckDB
 * computes a statement's defaults for all its rows before it checks any, so a batch that fails
 * has used a value for every row, and Postgres only for the rows up to the one that fails — the
 * ids after the failure would differ. Tables of that name in any schema count (when in doubt, the
 * rows run one by one). Null when the catalog cannot be read now (in a transaction DuckDB has
 * aborted, say): the rows run one by one then, and say why themselves.
 */
export async function drawsFromSequence(host: SequenceAsker, table: string, columns: readonly string[] | null): Promise<boolean | null> {
  const given = columns === null ? '' : `AND NOT list_contains([${columns.map((c) => sqlString(c.toLowerCase())).join(', ')}]::VARCHAR[], lower(column_name))`;
  try {
    await host.parkOpenCursor();
    const r = await host.conn.runAndReadAll(`SELECT count(*) FROM duckdb_columns()
      WHERE lower(table_name) = ${sqlString(table.toLowerCase())} ${given} AND contains(lower(column_default), 'nextval')`);
    return Number(r.getRows()[0]?.[0] ?? 0) > 0;
  } catch {
    return null;
  }
}
