import { bracketExtent } from '../sqltext/calls.js';
import { codeTokens, isWord, nameOf, type Token } from '../sqltext/lexer.js';
import { quoteIdent } from '../sqltext/quote.js';
import { applyEdits, type Edit } from '../sqltext/statements.js';

/**
 * `character varying(n)` / `varchar(n)` columns of a CREATE TABLE keep their length: DuckDB's
 * VARCHAR(n) neither enforces n nor remembers it. Each becomes `VARCHAR CHECK (length(col) <= n)`,
 * which refuses a longer value (reported as Postgres' 22001, errors/pg-fields.ts) and from which the
 * Postgres catalog reports the column as `character varying(n)` (sql/pg-catalog.sql).
 */
export function rewriteVarcharLengths(sql: string): string {
  if (!/varying|varchar/i.test(sql)) return sql;
  const tokens = codeTokens(sql);
  let i = 0;
  if (!isWord(tokens[i++], 'create')) return sql;
  if (isWord(tokens[i], 'or') && isWord(tokens[i + 1], 'replace')) i += 2;
  if (isWord(tokens[i], 'temp') || isWord(tokens[i], 'temporary')) i++;
  if (!isWord(tokens[i++], 'table')) return sql;
  while (i < tokens.length && tokens[i]!.text !== '(') {
    if (isWord(tokens[i], 'as')) return sql; // CREATE TABLE ... AS has no declared types
    i++;
  }
  const list = bracketExtent(tokens, i);
  if (!list) return sql;
  const edits: Edit[] = [];
  let start = i + 1;
  for (const end of [...list.commas, list.close]) {
    const edit = lengthCheck(tokens.slice(start, end));
    if (edit) edits.push(edit);
    start = end + 1;
  }
  return edits.length ? applyEdits(sql, edits) : sql;
}

/** `col varchar(n) ...` or `col character varying(n) ...` (not an array): the edit of its type. */
function lengthCheck(def: readonly Token[]): Edit | null {
  const column = def[0] ? nameOf(def[0]) : null;
  if (column === null || (def[0]!.kind === 'word' && /^(constraint|primary|unique|check|foreign|like|exclude)$/i.test(def[0]!.text))) return null;
  let k = 1;
  if (isWord(def[k], 'varchar')) k++;
  else if ((isWord(def[k], 'character') || isWord(def[k], 'char')) && isWord(def[k + 1], 'varying')) k += 2;
  else return null;
  if (def[k]?.text !== '(' || def[k + 1]?.kind !== 'number' || def[k + 2]?.text !== ')' || def[k + 3]?.text === '[') return null;
  const n = Number(def[k + 1]!.text);
  if (!Number.isInteger(n) || n < 1) return null;
  return { start: def[1]!.start, end: def[k + 2]!.end, text: `VARCHAR CHECK (length(${quoteIdent(column)}) <= ${n})` };
}
