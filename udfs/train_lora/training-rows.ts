/**
 * Reads train_lora's examples from a table or query: a `messages` column (a chat as JSON), or
 * `prompt` and `response` columns (instruction format).
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { SqlError } from '../../src/errors/sql-error.js';
import { dataSource, readQuery } from '../../src/functions/data-source.js';
import { parseTrainingRow, type TrainingRow } from '../../src/llm/training-data.js';

const MAX_ROWS = 10_000_000;

/** The rows, each checked (NULLs, malformed chats) with its row number, before any training starts. */
export async function readTrainingRows(conn: DuckDBConnection, data: string, what: string): Promise<TrainingRow[]> {
  const rows = await readRows(conn, data, what);
  rows.forEach((r, i) => parseTrainingRow(r, i + 1));
  return rows;
}

async function readRows(conn: DuckDBConnection, data: string, what: string): Promise<TrainingRow[]> {
  const source = dataSource(data, 'train_lora');
  const described = await readQuery(conn, `DESCRIBE SELECT * FROM ${source} AS t`);
  const types = new Map(described.map((r) => [String(r[0]).toLowerCase(), String(r[1])]));
  const columns = [...types.keys()];
  // Rows are read in a fixed order, so the seeded shuffle and split do not depend on how the scan went.
  if (types.has('messages')) {
    // A chat held as DuckDB data (a list of structs, as Parquet chat datasets arrive) is read as JSON.
    const asText = /^(VARCHAR|JSON)$/.test(types.get('messages')!) ? 'CAST(messages AS VARCHAR)' : 'CAST(to_json(messages) AS VARCHAR)';
    const rows = await readQuery(conn, `SELECT ${asText} AS m FROM ${source} AS t ORDER BY m`);
    return limit(rows, what).map(([m]) => ({ messages: m === null ? null : String(m) }));
  }
  if (types.has('prompt') && types.has('response')) {
    const rows = await readQuery(conn, `SELECT CAST(prompt AS VARCHAR) AS p, CAST(response AS VARCHAR) AS r FROM ${source} AS t ORDER BY p, r`);
    return limit(rows, what).map(([p, r]) => ({ prompt: p === null ? null : String(p), response: r === null ? null : String(r) }));
  }
  throw new SqlError('42703', `train_lora: ${what} has neither a messages column nor prompt and response columns (it has ${columns.join(', ')})`,
    "name them in a query: 'SELECT question AS prompt, answer AS response FROM faq'");
}

function limit(rows: unknown[][], what: string): unknown[][] {
  if (rows.length === 0) throw new SqlError('22023', `train_lora: ${what} has no rows`);
  if (rows.length > MAX_ROWS) throw new SqlError('54000', `train_lora: ${what} has ${rows.length} rows; at most ${MAX_ROWS} are supported`);
  return rows;
}
