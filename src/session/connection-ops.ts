import type { DuckDBConnection } from '@duckdb/node-api';
import { sqlString } from '../sqltext/quote.js';
import type { WriteTarget } from '../sqltext/write-targets.js';
import { bindParameters } from './portal-runner.js';
import type { RebuildHost } from './savepoints.js';
import { originsOf, simpleSelect, type ColumnOrigin } from '../pg/column-origins.js';

/*
 * What the session asks of, and does on, its own DuckDB connection besides running the client's
 * statements. Each runs a query, so none may run while a result is streaming.
 */

/**
 * Where a query's result columns come from, when it reads one table's columns as they are (see
 * pg/column-origins.ts); undefined for any other query.
 */
export async function columnOrigins(conn: DuckDBConnection, sql: string, resultCount: number): Promise<Array<ColumnOrigin | null> | undefined> {
  const shape = simpleSelect(sql);
  if (!shape) return undefined;
  // A temporary table shadows the others; an unqualified name is looked up in the current schema.
  // A varchar(n) column's length is its check length(col) <= n (rewrite/pg-varchar.ts).
  const r = await conn.runAndReadAll(`SELECT CAST(c.table_oid AS INTEGER), c.column_name, c.column_index,
      (SELECT max(CAST(regexp_extract(k.expression, '<= (\\d+)\\)$', 1) AS INTEGER)) FROM duckdb_constraints() k
        WHERE k.table_oid = c.table_oid AND k.constraint_type = 'CHECK' AND k.constraint_column_names = [c.column_name]
          AND regexp_matches(k.expression, '^\\(length\\(.+\\) <= \\d+\\)$') AND c.data_type = 'VARCHAR')
    FROM duckdb_columns() c
    WHERE c.table_name = $1 AND ((c.database_name = 'temp' AND $2 IS NULL) OR (c.database_name = current_database() AND c.schema_name = coalesce($2, current_schema())))
    ORDER BY c.database_name = 'temp' DESC, c.table_oid, c.column_index`, [shape.table, shape.schema]);
  const rows = r.getRows();
  if (rows.length === 0) return undefined;
  const tableOid = Number(rows[0]![0]);
  const columns = rows.filter((row) => Number(row[0]) === tableOid)
    .map((row) => ({ name: String(row[1]), number: Number(row[2]), varcharLength: row[3] === null ? null : Number(row[3]) }));
  return originsOf(shape, tableOid, columns, resultCount);
}

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
