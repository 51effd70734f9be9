import type { DuckDBConnection } from '@duckdb/node-api';
import { codeTokens, isWord, readQualifiedName } from '../sqltext/lexer.js';
import { quoteIdent } from '../sqltext/quote.js';

/**
 * `INSERT INTO t VALUES (1)` where t has more columns: Postgres fills the columns after the values
 * with their defaults, DuckDB refuses the statement. Given DuckDB's refusal, the statement with the
 * table's first columns named (`INSERT INTO t ("id") VALUES (1)`), which DuckDB runs as Postgres
 * does; null when the refusal is another or the statement is not of that form.
 */
export async function withLeadingColumns(conn: DuckDBConnection, sql: string, refusal: unknown): Promise<string | null> {
  const m = /has (\d+) columns but (\d+) values were supplied/.exec(refusal instanceof Error ? refusal.message : String(refusal));
  if (!m || Number(m[2]) >= Number(m[1]) || Number(m[2]) < 1) return null;
  const tokens = codeTokens(sql);
  const into = tokens.findIndex((t) => isWord(t, 'into'));
  if (into < 1 || !isWord(tokens[0], 'insert')) return null;
  const name = readQualifiedName(tokens, into + 1);
  if (!name || !isWord(tokens[name.next], 'values')) return null;
  const table = name.parts.map(quoteIdent).join('.');
  const shape = await conn.prepare(`SELECT * FROM ${table} LIMIT 0`).catch(() => null);
  if (!shape) return null;
  try {
    const columns = Array.from({ length: Number(m[2]) }, (_, i) => quoteIdent(shape.columnName(i)));
    const at = tokens[name.next]!.start;
    return `${sql.slice(0, at)}(${columns.join(', ')}) ${sql.slice(at)}`;
  } finally {
    shape.destroySync();
  }
}
