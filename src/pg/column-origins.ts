import { bracketExtent } from '../sqltext/calls.js';
import { codeTokens, isWord, nameOf, readQualifiedName, type Token } from '../sqltext/lexer.js';

/** The table column a result column comes from, as RowDescription reports it (table OID, attnum). */
export interface ColumnOrigin {
  tableOid: number;
  columnNumber: number;
  /** The column was declared varchar(n) (rewrite/pg-varchar.ts): n. */
  varcharLength?: number;
}

/** A query over one table: its name and, per select-list item, the column it reads (`*` for all, null for an expression). */
export interface SimpleSelect {
  schema: string | null;
  table: string;
  items: Array<'*' | string | null>;
}

const END_OF_FROM = new Set(['where', 'order', 'limit', 'offset', 'fetch', 'for', 'qualify', 'window']);

/**
 * The shape of `SELECT a, b AS x, t.*, * FROM [schema.]table [[AS] alias] [WHERE ...] [ORDER BY ...]
 * [LIMIT ...]` — the queries whose result columns come straight from one table's columns, as DBeaver's
 * and other tools' table views send them. Anything else (joins, subqueries, GROUP BY, DISTINCT, set
 * operations, CTEs) is null: its columns have no single origin worth reporting.
 */
export function simpleSelect(sql: string): SimpleSelect | null {
  const tokens = codeTokens(sql);
  if (!isWord(tokens[0], 'select')) return null;
  const words = tokens.filter((t) => t.kind === 'word').map((t) => t.text.toLowerCase());
  if (words.some((w) => /^(join|group|having|union|intersect|except|distinct|with)$/.test(w))) return null;
  if (words.filter((w) => w === 'from').length !== 1) return null;
  const from = tokens.findIndex((t) => isWord(t, 'from'));
  const depth = tokens.slice(0, from).reduce((d, t) => d + (t.text === '(' ? 1 : t.text === ')' ? -1 : 0), 0);
  if (from <= 1 || depth !== 0) return null;
  // The select list: items at depth 0 between SELECT and FROM.
  const items: Array<'*' | string | null> = [];
  let start = 1;
  for (let i = 1; i <= from; i++) {
    if (tokens[i]?.text === '(') {
      const b = bracketExtent(tokens, i);
      if (!b) return null;
      i = b.close;
      continue;
    }
    if (i === from || tokens[i]?.text === ',') {
      items.push(itemColumn(tokens.slice(start, i)));
      start = i + 1;
    }
  }
  const name = readQualifiedName(tokens, from + 1);
  if (!name) return null;
  const { parts } = name;
  let i = name.next;
  if (parts.length > 2) return null;
  if (isWord(tokens[i], 'as')) i++;
  if (tokens[i] && tokens[i]!.kind !== 'punct' && !END_OF_FROM.has(tokens[i]!.text.toLowerCase())) i++; // alias
  const rest = tokens[i];
  if (rest && rest.text !== ';' && !END_OF_FROM.has(rest.text.toLowerCase())) return null;
  return { schema: parts.length === 2 ? parts[0]! : null, table: parts[parts.length - 1]!, items };
}

/** `col`, `t.col`, `col AS x`, `col x`, `*`, `t.*`: the column read; anything else null. */
function itemColumn(item: readonly Token[]): '*' | string | null {
  const [a, b, c] = item;
  if (!a) return null;
  if (a.text === '*' && item.length === 1) return '*';
  if (item.length >= 3 && b?.text === '.' && c?.text === '*' && item.length === 3) return '*';
  let name: string | null;
  let next: number;
  if (b?.text === '.' && c) {
    name = nameOf(c);
    next = 3;
  } else {
    name = nameOf(a);
    next = 1;
  }
  if (name === null || (a.kind === 'word' && /^(case|cast|not|null|true|false)$/i.test(a.text))) return null;
  const tail = item.slice(next);
  if (tail.length === 0) return name;
  if (tail.length === 1 && tail[0]!.kind !== 'punct' && tail[0]!.kind !== 'op') return name;
  if (tail.length === 2 && isWord(tail[0], 'as')) return name;
  return null;
}

/** The origins of a result's columns, given the table's columns in order (name → attnum); null where unknown. */
export function originsOf(shape: SimpleSelect, tableOid: number, columns: ReadonlyArray<{ name: string; number: number; varcharLength: number | null }>,
  resultCount: number): Array<ColumnOrigin | null> {
  const out: Array<ColumnOrigin | null> = [];
  const origin = (c: { number: number; varcharLength: number | null }): ColumnOrigin =>
    ({ tableOid, columnNumber: c.number, ...(c.varcharLength === null ? {} : { varcharLength: c.varcharLength }) });
  const byName = new Map(columns.map((c) => [c.name, c]));
  for (const item of shape.items) {
    if (item === '*') for (const c of columns) out.push(origin(c));
    else {
      const c = item === null ? undefined : byName.get(item);
      out.push(c === undefined ? null : origin(c));
    }
  }
  return out.length === resultCount ? out : Array.from({ length: resultCount }, () => null);
}
