import { SqlError } from '../protocol/errors.js';

/** For the SQL that query commands (evaluate_retriever, vector_search, chunk_text) write. */

/** `data` as a FROM item: a query (SELECT/WITH/FROM/VALUES ...) in parentheses, or a table name. */
export function dataSource(data: string, fn: string): string {
  if (/^\s*(select|with|from|values)\b/i.test(data)) return `(${data})`;
  if (/^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*){0,2}$/.test(data.trim())) return data.trim();
  throw new SqlError('42P01', `${fn}: "${data}" is neither a table name nor a query`,
    "pass a table name ('questions') or a query ('SELECT ... FROM ...')");
}
