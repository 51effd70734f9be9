import { bracketExtent } from '../sqltext/calls.js';
import { lex, type Token } from '../sqltext/lexer.js';
import { quoteIdent } from '../sqltext/quote.js';
import { applyEdits, type Edit } from '../sqltext/statements.js';

/**
 * Result columns named as Postgres names them. DuckDB names an unaliased column by its expression
 * (`count_star()`, `"version"()`, `CAST(a AS VARCHAR)`, `(a + 1)`); Postgres by the function
 * (`count`, `version`), the column a cast reads (`a`), the type of a cast constant (`int4`), a
 * keyword (`case`, `exists`, `array`, `row`) or `?column?`. Clients read columns by those names
 * (`row['count']`, pandas' frame columns, psql's headers), so each unaliased item of a statement's
 * select list — the statement's, its subqueries' (`SELECT count FROM (SELECT count(*) ...)`), a
 * CREATE TABLE AS's or a view's, whose columns take those names in Postgres — gets Postgres' name as an
 * alias. Items that are plain column references or `*` keep DuckDB's name, which is Postgres' too.
 */
export function namePgColumns(sql: string): string {
  if (!/select/i.test(sql)) return sql;
  const tokens = lex(sql).filter((t) => t.kind !== 'space' && t.kind !== 'comment');
  const edits: Edit[] = [];
  tokens.forEach((t, k) => {
    if (isWordToken(t, 'select')) nameSelectList(tokens, k, edits);
  });
  return edits.length ? applyEdits(sql, edits) : sql;
}

/** The aliases for the select list that starts at the SELECT at `select`. */
function nameSelectList(tokens: readonly Token[], select: number, edits: Edit[]): void {
  let i = select + 1;
  if (isWordToken(tokens[i], 'all')) i++;
  else if (isWordToken(tokens[i], 'distinct')) {
    i++;
    if (isWordToken(tokens[i], 'on') && tokens[i + 1]?.text === '(') {
      const b = bracketExtent(tokens, i + 1);
      if (!b) return;
      i = b.close + 1;
    }
  }
  let start = i;
  for (; i <= tokens.length; i++) {
    const t = tokens[i];
    if (t && t.kind === 'punct' && (t.text === '(' || t.text === '[' || t.text === '{')) {
      const b = bracketExtent(tokens, i);
      if (!b) return;
      i = b.close;
      continue;
    }
    const ends = t?.kind === 'word' && END_OF_LIST.has(t.text.toLowerCase()) && !(isWordToken(t, 'group') && isWordToken(tokens[i - 1], 'within'));
    if (!t || t.text === ',' || t.text === ';' || t.text === ')' || t.text === ']' || t.text === '}' || ends) {
      const item = tokens.slice(start, i);
      const name = item.length ? pgName(item) : null;
      if (name !== null) edits.push({ start: item[item.length - 1]!.end, end: item[item.length - 1]!.end, text: ` AS ${quoteIdent(name)}` });
      if (!t || t.text !== ',') return;
      start = i + 1;
    }
  }
}

const END_OF_LIST = new Set(['from', 'into', 'where', 'group', 'having', 'window', 'order', 'limit', 'offset', 'union', 'intersect',
  'except', 'fetch', 'for', 'qualify']);

/** Words after which a trailing word is not an alias (`a IS NULL`, `x AND y`, `b LIKE c`). */
const NOT_BEFORE_ALIAS = new Set(['is', 'not', 'and', 'or', 'like', 'ilike', 'in', 'between', 'similar', 'to', 'then', 'else', 'when',
  'case', 'select', 'distinct', 'all', 'any', 'some', 'exists', 'array', 'interval', 'collate', 'at', 'time', 'zone', 'escape']);

/** Words that end an expression rather than name it. */
const NOT_ALIAS = new Set(['null', 'true', 'false', 'end', 'unknown', 'asc', 'desc', 'first', 'last', 'current_date', 'current_time',
  'current_timestamp', 'localtime', 'localtimestamp', 'current_user', 'session_user', 'user', 'current_role', 'current_catalog',
  'current_schema']);

const isWordToken = (t: Token | undefined, w: string): boolean => t?.kind === 'word' && t.text.toLowerCase() === w;

/** Postgres' name for an unaliased item, or null when the item has an alias or DuckDB already names it so. */
function pgName(item: readonly Token[]): string | null {
  const last = item[item.length - 1]!;
  const before = item[item.length - 2];
  if (before && isWordToken(before, 'as')) return null;
  // A bare alias: `count(*) n`, `'x' label`.
  if (before && (last.kind === 'quoted' || (last.kind === 'word' && !NOT_ALIAS.has(last.text.toLowerCase())))
    && (before.text === ')' || before.text === ']' || before.kind === 'number' || before.kind === 'string' || before.kind === 'quoted'
      || (before.kind === 'word' && !NOT_BEFORE_ALIAS.has(before.text.toLowerCase())))) return null;
  if (item.length === 1 && /^(true|false|null)$/i.test(last.text) && last.kind === 'word') return '?column?';
  if (isColumnRef(item)) return null;
  return figureName(item) ?? '?column?';
}

/** `a`, `t.a`, `s.t.a`, `*`, `t.*`: DuckDB names these as Postgres does. */
function isColumnRef(item: readonly Token[]): boolean {
  for (let k = 0; k < item.length; k++) {
    const t = item[k]!;
    if (k % 2 === 1) {
      if (t.text !== '.') return false;
    } else if (t.kind !== 'word' && t.kind !== 'quoted' && t.text !== '*') return false;
  }
  return item.length % 2 === 1;
}

const nameOfToken = (t: Token): string => (t.kind === 'quoted' ? t.text.slice(1, -1).replace(/""/g, '"') : t.text.toLowerCase());

/** Postgres' FigureColname over the item's tokens; null for `?column?`. */
function figureName(item: readonly Token[]): string | null {
  if (item.length === 0) return null;
  const first = item[0]!;
  // (expr)
  if (first.text === '(') {
    const b = bracketExtent(item, 0);
    if (b && b.close === item.length - 1) {
      const inner = item.slice(1, -1);
      if (isWordToken(inner[0], 'select') || isWordToken(inner[0], 'with')) return null;
      return isColumnRef(inner) ? nameOfToken(inner[inner.length - 1]!) : figureName(inner);
    }
  }
  // expr::type (the last cast decides)
  const castAt = lastTopLevel(item, '::');
  if (castAt > 0) {
    const operand = item.slice(0, castAt);
    return nameOfOperand(operand) ?? typeName(item.slice(castAt + 1));
  }
  if (first.kind !== 'word' && first.kind !== 'quoted') return null;
  const lower = first.text.toLowerCase();
  // A typed literal: DATE '2024-01-02', interval '1 day'.
  if (item.length === 2 && first.kind === 'word' && item[1]!.kind === 'string') return typeName([first]);
  if (lower === 'case' && isWordToken(item[item.length - 1], 'end')) return 'case';
  if ((lower === 'exists' || lower === 'array' || lower === 'row') && item[1] && (item[1].text === '(' || item[1].text === '[')) {
    const b = bracketExtent(item, 1);
    if (b && b.close === item.length - 1) return lower;
  }
  // CAST(x AS type)
  if ((lower === 'cast' || lower === 'try_cast') && item[1]?.text === '(') {
    const b = bracketExtent(item, 1);
    if (b && b.close === item.length - 1) {
      const inner = item.slice(2, -1);
      const as = lastTopLevel(inner, 'as');
      if (as > 0) return nameOfOperand(inner.slice(0, as)) ?? typeName(inner.slice(as + 1));
    }
  }
  return functionName(item);
}

/** The name a cast's operand gives: a column's or a function's; null otherwise. */
function nameOfOperand(operand: readonly Token[]): string | null {
  if (isColumnRef(operand) && operand[operand.length - 1]!.text !== '*') return nameOfToken(operand[operand.length - 1]!);
  return functionName(operand) ?? (operand[0]?.text === '(' ? figureName(operand) : null);
}

/** `f(...)`, `s.f(...)`, with FILTER (...), OVER (...|name), WITHIN GROUP (...) after it: `f`. */
function functionName(item: readonly Token[]): string | null {
  let k = 0;
  while (item[k + 1]?.text === '.' && item[k + 2]) k += 2;
  const name = item[k];
  if (!name || (name.kind !== 'word' && name.kind !== 'quoted') || item[k + 1]?.text !== '(') return null;
  const b = bracketExtent(item, k + 1);
  if (!b) return null;
  let j = b.close + 1;
  for (;;) {
    if (j === item.length) return nameOfToken(name);
    if ((isWordToken(item[j], 'filter') || isWordToken(item[j], 'over')) && item[j + 1]?.text === '(') {
      const c = bracketExtent(item, j + 1);
      if (!c) return null;
      j = c.close + 1;
    } else if (isWordToken(item[j], 'over') && item[j + 1]) {
      j += 2;
    } else if (isWordToken(item[j], 'within') && isWordToken(item[j + 1], 'group') && item[j + 2]?.text === '(') {
      const c = bracketExtent(item, j + 2);
      if (!c) return null;
      j = c.close + 1;
    } else {
      return null;
    }
  }
}

/** The index of the last `::` (or word `as`) outside brackets, or -1. */
function lastTopLevel(item: readonly Token[], what: string): number {
  let found = -1;
  for (let k = 0; k < item.length; k++) {
    const t = item[k]!;
    if (t.kind === 'punct' && (t.text === '(' || t.text === '[' || t.text === '{')) {
      const b = bracketExtent(item, k);
      if (!b) return -1;
      k = b.close;
    } else if (what === 'as' ? isWordToken(t, 'as') : t.text === what) found = k;
  }
  return found;
}

/** Postgres' internal name of a type as written (`int` → int4, `character varying(10)` → varchar, `text[]` → text). */
function typeName(type: readonly Token[]): string | null {
  const words = type.filter((t) => t.kind === 'word' || t.kind === 'quoted').map(nameOfToken);
  if (words.length === 0) return null;
  const spelled = words.join(' ').replace(/^pg_catalog /, '');
  const base = spelled.replace(/ (without|with) time zone$/, (m) => (m.includes('without') ? '' : ' tz'));
  return TYPE_NAMES[base] ?? base.split(' ').pop()!;
}

const TYPE_NAMES: Readonly<Record<string, string>> = {
  int: 'int4', integer: 'int4', int4: 'int4', bigint: 'int8', int8: 'int8', smallint: 'int2', int2: 'int2', real: 'float4',
  float4: 'float4', 'double precision': 'float8', float: 'float8', float8: 'float8', boolean: 'bool', bool: 'bool',
  'character varying': 'varchar', varchar: 'varchar', character: 'bpchar', char: 'bpchar', decimal: 'numeric', numeric: 'numeric',
  timestamp: 'timestamp', 'timestamp tz': 'timestamptz', timestamptz: 'timestamptz', time: 'time', 'time tz': 'timetz', text: 'text',
  date: 'date', interval: 'interval', bytea: 'bytea', json: 'json', jsonb: 'jsonb', uuid: 'uuid', oid: 'oid', regclass: 'regclass',
  name: 'name',
};
