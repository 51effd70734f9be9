import { codeTokens, isWord, nameOf, type Token } from './lexer.js';

/*
 * `INSERT INTO t [(a, b)] VALUES (...), (...)` read from its tokens, for running many such rows as
 * one statement (session/insert-batches.ts): one statement's rows, or the rows of a run of
 * statements with the same head, become one multi-row INSERT. That is only the same as running
 * them one by one when a row's values do not depend on the rows before it, so a row may hold
 * constants, parameters, casts and arithmetic on them, DEFAULT and ARRAY[...] — no function call
 * (nextval, currval, random), no subquery, no name.
 */

/** An INSERT of rows of values. */
export interface InsertValues {
  /** The statement up to and including VALUES, as written: rows with the same head go to the same table and columns. */
  head: string;
  /** The table written to, as named (unquoted names folded to lower case). */
  table: string;
  /** Each row's values, as written. */
  rows: ValueText[][];
}

/** A value of a row as written: its text and code tokens. */
export interface ValueText {
  text: string;
  tokens: Token[];
}

/** One value of a row that can be bound as a parameter instead of being written into the statement. */
export type Literal =
  | { kind: 'null' }
  | { kind: 'bool'; value: boolean }
  | { kind: 'string'; value: string }
  /** An integer as DuckDB types it: INTEGER, BIGINT or HUGEINT by its magnitude. */
  | { kind: 'integer'; value: bigint; type: 'INTEGER' | 'BIGINT' | 'HUGEINT' }
  /** A number with a point: DuckDB's DECIMAL(width, scale), width counting every digit written. */
  | { kind: 'decimal'; value: bigint; width: number; scale: number }
  /** A number with an exponent: a DOUBLE. */
  | { kind: 'double'; value: number };

/** Words a row's value may hold outside a type name. */
const VALUE_WORDS = new Set(['null', 'true', 'false', 'default', 'cast', 'try_cast', 'as', 'array']);
/** Words that continue a type name of several words (`double precision`, `timestamp with time zone`). */
const TYPE_CONTINUATIONS = new Set(['precision', 'varying', 'with', 'without', 'time', 'zone']);
/** Punctuation and operators a row's value may hold. */
const VALUE_SYMBOLS = new Set(['(', ')', '[', ']', ',', '::', '-', '+', '*', '/']);

/** The statement as an INSERT of rows of values, or null when it is not one (or has ON CONFLICT, RETURNING, a CTE, ...). */
export function parseInsertValues(sql: string): InsertValues | null {
  const tokens = codeTokens(sql);
  if (!isWord(tokens[0], 'insert') || !isWord(tokens[1], 'into')) return null;
  let i = 2;
  let table: string | null = null;
  for (;;) {
    const part = tokens[i] ? nameOf(tokens[i]!) : null;
    if (part === null) return null;
    table = part;
    i++;
    if (tokens[i]?.text !== '.') break;
    i++;
  }
  if (isWord(tokens[i], 'as')) i += 2;
  if (tokens[i]?.text === '(') {
    for (i++; tokens[i] && tokens[i]!.text !== ')'; i++) {
      const t = tokens[i]!;
      if (t.text !== ',' && nameOf(t) === null) return null;
    }
    i++;
  }
  if (!isWord(tokens[i], 'values')) return null;
  const head = sql.slice(0, tokens[i]!.end);
  const rows: ValueText[][] = [];
  i++;
  for (;;) {
    const row = readRow(sql, tokens, i);
    if (!row) return null;
    rows.push(row.values);
    i = row.next;
    if (tokens[i]?.text !== ',') break;
    i++;
  }
  if (tokens[i]?.text === ';') i++;
  return i === tokens.length ? { head, table, rows } : null;
}

/** A parenthesized row of values starting at token `at`, each value one that is independent of other rows. */
function readRow(sql: string, tokens: readonly Token[], at: number): { values: ValueText[]; next: number } | null {
  if (tokens[at]?.text !== '(') return null;
  const values: ValueText[] = [];
  let depth = 0;
  let start = at + 1;
  for (let i = at + 1; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.text === '(' || t.text === '[') depth++;
    else if ((t.text === ')' || t.text === ']') && depth > 0) depth--;
    else if (depth === 0 && (t.text === ',' || t.text === ')')) {
      if (i === start || !rowIndependent(tokens, start, i)) return null;
      values.push({ text: sql.slice(tokens[start]!.start, tokens[i - 1]!.end), tokens: tokens.slice(start, i) });
      if (t.text === ')') return { values, next: i + 1 };
      start = i + 1;
    }
  }
  return null;
}

/** Whether tokens [from, to) are a value that depends on nothing but itself. */
function rowIndependent(tokens: readonly Token[], from: number, to: number): boolean {
  let typeName = false;
  for (let i = from; i < to; i++) {
    const t = tokens[i]!;
    const prev = i > from ? tokens[i - 1]! : null;
    switch (t.kind) {
      case 'string':
      case 'number':
      case 'param':
        typeName = false;
        continue;
      case 'word': {
        const w = t.text.toLowerCase();
        const inType = prev?.text === '::' || isWord(prev ?? undefined, 'as') || (typeName && TYPE_CONTINUATIONS.has(w));
        if (inType) {
          typeName = true;
          continue;
        }
        typeName = false;
        if (!VALUE_WORDS.has(w)) return false;
        // CAST( and TRY_CAST( are the only calls; ARRAY may open a bracket, not a subquery.
        if (tokens[i + 1]?.text === '(' && w !== 'cast' && w !== 'try_cast') return false;
        continue;
      }
      case 'op':
      case 'punct':
        // a type's modifiers and brackets (numeric(10, 2), int[]) keep the type name open
        if (!VALUE_SYMBOLS.has(t.text)) return false;
        if (t.text !== '(' && t.text !== ')' && t.text !== '[' && t.text !== ']' && t.text !== ',') typeName = false;
        continue;
      default:
        return false;
    }
  }
  return true;
}

const INT32_MAX = 2n ** 31n - 1n;
const INT64_MAX = 2n ** 63n - 1n;
const INT128_MAX = 2n ** 127n - 1n;
const MAX_DECIMAL_WIDTH = 38;

/**
 * A value that is a constant DuckDB would read with a type of its own (a plain string, a number,
 * NULL, TRUE or FALSE), as DuckDB reads it; null for anything else (casts, typed strings, E''
 * strings, numbers beyond DuckDB's literal types).
 */
export function literalOf(value: ValueText): Literal | null {
  const { tokens } = value;
  const [a, b] = tokens;
  if (!a || tokens.length > 2) return null;
  if (tokens.length === 1) {
    if (a.kind === 'word') {
      const w = a.text.toLowerCase();
      return w === 'null' ? { kind: 'null' } : w === 'true' || w === 'false' ? { kind: 'bool', value: w === 'true' } : null;
    }
    if (a.kind === 'string') return a.text.startsWith("'") ? { kind: 'string', value: a.text.slice(1, -1).replace(/''/g, "'") } : null;
  }
  const negative = tokens.length === 2 && a.text === '-';
  const number = tokens.length === 1 ? a : negative || a.text === '+' ? b : undefined;
  return number?.kind === 'number' ? numberOf(number.text, negative) : null;
}

function numberOf(text: string, negative: boolean): Literal | null {
  const sign = negative ? -1n : 1n;
  if (/[eE]/.test(text)) {
    const v = Number(text);
    return Number.isFinite(v) ? { kind: 'double', value: negative ? -v : v } : null;
  }
  const point = text.indexOf('.');
  if (point < 0) {
    const v = BigInt(text);
    const type = v <= INT32_MAX ? 'INTEGER' : v <= INT64_MAX ? 'BIGINT' : v <= INT128_MAX ? 'HUGEINT' : null;
    return type ? { kind: 'integer', value: sign * v, type } : null;
  }
  const digits = text.slice(0, point) + text.slice(point + 1);
  if (digits.length > MAX_DECIMAL_WIDTH) return null;
  return { kind: 'decimal', value: sign * BigInt(digits), width: digits.length, scale: text.length - point - 1 };
}
