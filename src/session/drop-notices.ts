import type { DuckDBConnection } from '@duckdb/node-api';
import { codeTokens, isWord, nameOf, type Token } from '../sqltext/lexer.js';

/** The catalog query that finds an object of each kind DROP ... IF EXISTS names, by schema and name. */
const LOOKUP: Readonly<Record<string, string>> = {
  table: 'SELECT 1 FROM duckdb_tables() WHERE schema_name = $1 AND table_name = $2',
  view: 'SELECT 1 FROM duckdb_views() WHERE NOT internal AND schema_name = $1 AND view_name = $2',
  index: 'SELECT 1 FROM duckdb_indexes() WHERE schema_name = $1 AND index_name = $2',
  sequence: 'SELECT 1 FROM duckdb_sequences() WHERE schema_name = $1 AND sequence_name = $2',
  type: 'SELECT 1 FROM duckdb_types() WHERE NOT internal AND schema_name = $1 AND type_name = $2',
  function: 'SELECT 1 FROM duckdb_functions() WHERE schema_name = $1 AND function_name = $2',
  macro: 'SELECT 1 FROM duckdb_functions() WHERE schema_name = $1 AND function_name = $2',
};

/**
 * The NOTICEs Postgres sends for `DROP <kind> IF EXISTS a, b` naming objects that do not exist
 * (`table "a" does not exist, skipping`; for a schema that does not exist, that schema), found
 * before DuckDB drops the rest. Unqualified names are looked up along the session's search path.
 */
export async function dropIfExistsNotices(conn: DuckDBConnection, sql: string): Promise<string[]> {
  const tokens = codeTokens(sql);
  let i = 1;
  if (isWord(tokens[i], 'materialized')) i++;
  const kind = tokens[i]?.text.toLowerCase() ?? '';
  if (isWord(tokens[i + 1], 'table')) i++;
  if (!isWord(tokens[i + 1], 'if') || !isWord(tokens[i + 2], 'exists')) return [];
  const names = nameList(tokens, i + 3);
  const path = (await conn.runAndReadAll("SELECT current_setting('search_path'), current_schema()")).getRows()[0]!.map(String);
  const searched = [...path[0]!.split(',').map((s) => s.trim().replace(/^"(.*)"$/, '$1')).filter(Boolean), path[1]!];
  const notices: string[] = [];
  for (const [schema, name] of names) {
    if (kind === 'schema') {
      if (!(await exists(conn, SCHEMA, [name]))) notices.push(`schema "${name}" does not exist, skipping`);
      continue;
    }
    const lookup = LOOKUP[kind];
    if (!lookup) return [];
    if (schema !== null && !(await exists(conn, SCHEMA, [schema]))) {
      notices.push(`schema "${schema}" does not exist, skipping`);
      continue;
    }
    let found = false;
    for (const s of schema === null ? searched : [schema]) if (!found) found = await exists(conn, lookup, [s, name]);
    if (!found) notices.push(kind === 'function' || kind === 'macro' ? `function ${name}() does not exist, skipping` : `${kind} "${name}" does not exist, skipping`);
  }
  return notices;
}

const SCHEMA = 'SELECT 1 FROM duckdb_schemas() WHERE schema_name = $1';

async function exists(conn: DuckDBConnection, sql: string, params: string[]): Promise<boolean> {
  return (await conn.runAndReadAll(sql, params)).currentRowCount > 0;
}

/** `[schema.]name [, ...]` from token `i` (a function's argument list skipped), as [schema, name] pairs. */
function nameList(tokens: Token[], i: number): Array<[string | null, string]> {
  const out: Array<[string | null, string]> = [];
  while (i < tokens.length) {
    const first = tokens[i] ? nameOf(tokens[i]!) : null;
    if (first === null) break;
    if (tokens[i + 1]?.text === '.' && tokens[i + 2] && nameOf(tokens[i + 2]!) !== null) {
      out.push([first, nameOf(tokens[i + 2]!)!]);
      i += 3;
    } else {
      out.push([null, first]);
      i++;
    }
    if (tokens[i]?.text === '(') {
      let depth = 0;
      for (; i < tokens.length; i++) {
        if (tokens[i]!.text === '(') depth++;
        else if (tokens[i]!.text === ')' && --depth === 0) break;
      }
      i++;
    }
    if (tokens[i]?.text !== ',') break;
    i++;
  }
  return out;
}
