import type { DuckDBConnection } from '@duckdb/node-api';
import { sqlString } from '../sqltext/quote.js';
import type { WriteTarget } from '../sqltext/write-targets.js';
import { bindParameters } from './portal-runner.js';
import type { RebuildHost } from './savepoints.js';

/*
 * What the session asks of, and does on, its own DuckDB connection besides running the client's
 * statements. Each runs a query, so none may run while a result is streaming.
 */

/** What ROLLBACK TO SAVEPOINT needs to run a transaction again up to the savepoint (savepoints.ts). */
export function rebuildHost(conn: DuckDBConnection, runVerb: RebuildHost['run']): RebuildHost {
  return {
    run: runVerb,
    replay: async (e) => {
      const p = await conn.prepare(e.sql);
      try {
        bindParameters(p, e.params, e.paramFormats, e.paramOids);
        await p.run();
      } finally {
        p.destroySync();
      }
    },
    volatileDefault: (tables) => volatileDefault(conn, tables),
  };
}

/** Whether the DuckDB transaction still runs statements: some failures end it ("Current transaction is aborted"). */
export async function transactionIntact(conn: DuckDBConnection): Promise<boolean> {
  try {
    await conn.run('SELECT 1');
    return true;
  } catch {
    return false;
  }
}

/** Whether a table a statement writes is a temporary table of this connection (DuckDB's catalog `temp`). */
export async function isTemporary(conn: DuckDBConnection, t: WriteTarget): Promise<boolean> {
  if (t.catalog) return t.catalog === 'temp';
  if (t.schema) return t.schema === 'temp' || t.schema === 'pg_temp';
  const r = await conn.runAndReadAll('SELECT count(*) FROM duckdb_tables() WHERE temporary AND table_name = $1', [t.name]);
  return Number(r.getRows()[0]?.[0] ?? 0) > 0;
}

/** A column `table.column` among these tables whose default differs each time it is computed (nextval, now, random, uuid), or null. */
export async function volatileDefault(conn: DuckDBConnection, tables: readonly string[]): Promise<string | null> {
  if (tables.length === 0) return null;
  const r = await conn.runAndReadAll(`SELECT table_name || '.' || column_name FROM duckdb_columns()
    WHERE list_contains([${tables.map(sqlString).join(', ')}]::VARCHAR[], lower(table_name))
      AND regexp_matches(lower(column_default), '(nextval|random|uuid|now\\(|current_|get_current|transaction_timestamp|today)')
    LIMIT 1`);
  const hit = r.getRows()[0]?.[0];
  return hit === undefined ? null : String(hit);
}
