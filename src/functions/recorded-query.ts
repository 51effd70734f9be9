import type { DuckDBConnection } from '@duckdb/node-api';
import { Run, statusOf } from '../registry/runs.js';
import { quoteIdent, sqlString } from '../sqltext/quote.js';
import type { RecordedRun } from './commands.js';

/** A value as a SQL literal of its column's type (numbers, text and NULL are all a recorded query holds). */
function literal(v: unknown, type: string): string {
  if (v === null || v === undefined) return `CAST(NULL AS ${type})`;
  if (typeof v === 'number') return Number.isFinite(v) ? `CAST(${v} AS ${type})` : `CAST('${v}' AS ${type})`;
  if (typeof v === 'bigint' || typeof v === 'boolean') return `CAST(${String(v)} AS ${type})`;
  return `CAST(${sqlString(String(v))} AS ${type})`;
}

/**
 * Runs a query command's query now and records it as a run of an experiment (its parameters, and
 * metrics read from its rows); returns SQL that gives the same rows, so the statement answers with
 * what was recorded, without running the query a second time.
 */
export async function runAndRecord(conn: DuckDBConnection, sql: string, recorded: RecordedRun, statement: string): Promise<string> {
  const run = await Run.start(conn, { experiment: recorded.experiment, name: recorded.name, source: recorded.source, statement, params: recorded.params });
  try {
    const reader = await conn.runAndReadAll(sql);
    const names = reader.columnNames();
    const types = reader.columnTypes().map((t) => t.toString());
    const rows = reader.getRowObjectsJS();
    for (const m of recorded.metrics(rows)) run.metric(m.key, m.value, 0);
    await run.end(conn, 'finished');
    if (!rows.length) return `SELECT ${names.map((n, i) => `CAST(NULL AS ${types[i]}) AS ${quoteIdent(n)}`).join(', ')} WHERE false`;
    const values = rows.map((r) => `(${names.map((n, i) => literal(r[n], types[i]!)).join(', ')})`).join(', ');
    return `SELECT * FROM (VALUES ${values}) AS __recorded(${names.map(quoteIdent).join(', ')})`;
  } catch (err) {
    await run.end(conn, statusOf(err), { error: err instanceof Error ? err.message : String(err) }).catch(() => undefined);
    throw err;
  }
}
