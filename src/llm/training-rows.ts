/**
 * Reads train_lora's examples from a table or query: a `messages` column (a chat as JSON), or
 * `prompt` and `response` columns (instruction format).
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { SqlError } from '../protocol/errors.js';
import { dataSource } from '../engine/query-command-sql.js';
import { parseTrainingRow, type TrainingRow } from './training-data.js';

const MAX_ROWS = 10_000_000;

/** The rows, each checked (NULLs, malformed chats) with its row number, before any training starts. */
export async function readTrainingRows(conn: DuckDBConnection, data: string, what: string): Promise<TrainingRow[]> {
  const rows = await readRows(conn, data, what);
  rows.forEach((r, i) => parseTrainingRow(r, i + 1));
  return rows;
}

async function readRows(conn: DuckDBConnection, data: string, what: string): Promise<TrainingRow[]> {
  const source = dataSource(data, 'train_lora');
  const described = await conn.runAndReadAll(`DESCRIBE SELECT * FROM ${source} AS t`);
  const columns = described.getRows().map((r) => String(r[0]).toLowerCase());
  let rows: unknown[][];
  if (columns.includes('messages')) {
    rows = (await conn.runAndReadAll(`SELECT CAST(messages AS VARCHAR) FROM ${source} AS t`)).getRows();
    return limit(rows, what).map(([m]) => ({ messages: m === null ? null : String(m) }));
  }
  if (columns.includes('prompt') && columns.includes('response')) {
    rows = (await conn.runAndReadAll(`SELECT CAST(prompt AS VARCHAR), CAST(response AS VARCHAR) FROM ${source} AS t`)).getRows();
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
