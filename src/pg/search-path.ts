import { SqlError } from '../errors/sql-error.js';
import { codeTokens, isWord, nameOf, type Token } from '../sqltext/lexer.js';
import { sqlString } from '../sqltext/quote.js';

/**
 * The search path of a session. Postgres' default schema is `public`; DuckDB's is `main`. aiduck
 * creates `public` in every database and starts each session on `public, main`: what a session
 * creates without a schema goes to `public`, as tools and dumps expect, and tables of databases made
 * before (in `main`) are still found.
 */
export const DEFAULT_SEARCH_PATH: readonly string[] = ['public', 'main'];

/** DuckDB's statement setting the path. */
export function setSearchPathSql(schemas: readonly string[]): string {
  // Postgres' "$user" names a schema per user; aiduck has none.
  const kept = schemas.filter((s) => s !== '$user');
  return `SET search_path = ${sqlString((kept.length ? kept : ['public']).map((s) => (/[",\s]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s)).join(','))}`;
}

/**
 * `SET [SESSION | LOCAL] search_path {TO | =} schema, ... | DEFAULT`, and `SET SCHEMA 'name'`: the
 * schemas, or null for the default. A string literal holds a comma-separated list (DuckDB's form).
 */
export function parseSetSearchPath(sql: string): string[] | null | undefined {
  const tokens = codeTokens(sql);
  let i = 1;
  if (isWord(tokens[i], 'session') || isWord(tokens[i], 'local')) i++;
  const schemaForm = isWord(tokens[i], 'schema');
  if (!schemaForm && !isWord(tokens[i], 'search_path')) return undefined;
  i++;
  if (tokens[i]?.text === '=' || isWord(tokens[i], 'to')) i++;
  else if (!schemaForm) throw syntaxError(tokens[i]);
  if (isWord(tokens[i], 'default') && tokens.length === i + 1) return null;
  const schemas: string[] = [];
  for (;;) {
    const t = tokens[i];
    if (!t) throw syntaxError(undefined);
    if (t.kind === 'string') schemas.push(...t.text.slice(1, -1).replace(/''/g, "'").split(',').map((s) => s.trim().replace(/^"(.*)"$/, '$1')).filter(Boolean));
    else {
      const n = nameOf(t);
      if (n === null) throw syntaxError(t);
      schemas.push(n);
    }
    i++;
    if (i >= tokens.length || tokens[i]?.text === ';') return schemas;
    if (tokens[i]?.text !== ',') throw syntaxError(tokens[i]);
    i++;
  }
}

const syntaxError = (t: Token | undefined): SqlError =>
  new SqlError('42601', t ? `syntax error at or near "${t.text}"` : 'syntax error at end of input');
