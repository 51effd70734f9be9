import { DuckDBTypeId, type DuckDBType } from '@duckdb/node-api';
import { SqlError } from '../errors/sql-error.js';
import { arrayFromPgText, type PgArray } from '../pg/types/pg-text-input.js';
import { NUMBER_KIND_OF_TYPE, numberFromPgText } from '../pg/types/number-text.js';
import { exactNumeric, isUnconstrained, unconstrainedMisfit } from '../pg/numeric.js';
import { sqlString } from '../sqltext/quote.js';
import { lex, type Token } from '../sqltext/lexer.js';
import { applyEdits, type Edit } from '../sqltext/statements.js';
import { duckScalarText } from './pg-literals.js';

/** The types DuckDB gives parameters $from.. of a statement, or null when it cannot prepare it. */
export type ParameterTypes = (sql: string, from: number) => Promise<Array<DuckDBType | null> | null>;

/**
 * String literals without a type that DuckDB would read differently from Postgres once the context
 * gives them one: `INSERT INTO t (bytes) VALUES ('\x00ff01')` is 3 bytes in Postgres and 5 in DuckDB
 * (which reads `\x00` then "ff01"), and `'{a,b}'` for a text[] column is an array in Postgres and a
 * cast error in DuckDB. Such literals (with a backslash, or in braces) are put as parameters into a
 * copy of the statement that DuckDB prepares, which says what type each would take; a literal that
 * turns out to be bytes or an array is written in the form DuckDB reads as the value Postgres reads.
 * Numbers (and number strings) with more digits than aiduck's unconstrained numeric holds are asked
 * about the same way: where the context makes one such a numeric (`INSERT INTO t (amount) VALUES
 * (1.123456789012345)`), DuckDB would round it, so it is refused with 22003 as a cast is.
 * Statements without such literals cost nothing.
 */
export async function typeUntypedLiterals(sql: string, parameterTypes: ParameterTypes): Promise<string> {
  if (!sql.includes('\\') && !sql.includes('{') && !MAY_NOT_FIT.test(sql) && !QUOTED_FRACTION.test(sql)) return sql;
  const tokens = lex(sql);
  const candidates = tokens.filter((t, i) => ((t.kind === 'string' && /^'/.test(t.text) && (looksDifferent(valueOf(t)) || tooLong(valueOf(t)) || FRACTION.test(valueOf(t))))
    || (t.kind === 'number' && tooLong(t.text))) && isUntyped(tokens, i));
  if (candidates.length === 0) return sql;
  const used = Math.max(0, ...tokens.filter((t) => t.kind === 'param').map((t) => Number(t.text.slice(1))));
  const probe = applyEdits(sql, candidates.map((t, k) => ({ start: t.start, end: t.end, text: `$${used + 1 + k}` })));
  const types = await parameterTypes(probe, used + 1);
  if (!types) return sql;
  const edits: Edit[] = [];
  candidates.forEach((t, k) => {
    const type = types[k];
    const value = t.kind === 'number' ? t.text : valueOf(t);
    if (type?.typeId === DuckDBTypeId.DECIMAL) {
      const d = type as DuckDBType & { width: number; scale: number };
      if (isUnconstrained(d.width, d.scale)) exactNumeric(value);
    }
    // A string Postgres reads by the column's type: '1.5' is no integer (DuckDB's cast would store 2).
    const numberKind = t.kind === 'string' && type ? NUMBER_KIND_OF_TYPE[type.typeId] : undefined;
    if (numberKind) numberFromPgText(numberKind, value);
    const text = type && t.kind === 'string' ? typedText(valueOf(t), type) : null;
    if (text !== null) edits.push({ start: t.start, end: t.end, text });
  });
  return applyEdits(sql, edits);
}

/** A number somewhere in the text with more than 10 decimals, more than 28 digits, or an exponent. */
const MAY_NOT_FIT = /\.\d{11}|\d{29}|\d[eE][+-]?\d/;
const tooLong = (text: string): boolean => unconstrainedMisfit(text) !== null;
/** A number with a fraction or an exponent, alone in a string: what an integer or float column reads otherwise than Postgres. */
const FRACTION = /^\s*[+-]?(\d*\.\d+|\d+\.\d*|\d+(\.\d*)?e[+-]?\d+)\s*$/i;
const QUOTED_FRACTION = /'\s*[+-]?(\d*\.\d+|\d+\.\d*|\d+(\.\d*)?e[+-]?\d+)\s*'/i;

const valueOf = (t: Token): string => t.text.slice(1, -1).replace(/''/g, "'");

/** Text Postgres reads as bytes or an array differently from DuckDB's cast of it (a JSON object is neither). */
const looksDifferent = (value: string): boolean => value.includes('\\') || (/^\s*\{[\s\S]*\}\s*$/.test(value) && !/"\s*:/.test(value));

/** No cast or type keyword goes with the literal (`'x'::bytea` and `bytea 'x'` are the literal pass's). */
function isUntyped(tokens: readonly Token[], i: number): boolean {
  const next = tokens.slice(i + 1).find((t) => t.kind !== 'space' && t.kind !== 'comment');
  if (next?.text === '::') return false;
  const before = tokens.slice(0, i).reverse().filter((t) => t.kind !== 'space' && t.kind !== 'comment');
  if (before[0]?.kind === 'word' && /^(bytea|interval|bool|boolean|date|timestamp|timestamptz|time|array)$/i.test(before[0].text)) return false;
  // CAST('x' AS type)
  return !(before[0]?.text === '(' && before[1]?.kind === 'word' && /^(try_)?cast$/i.test(before[1].text));
}

/** The literal as DuckDB reads the value Postgres reads for this type, or null to leave it be. */
function typedText(value: string, type: DuckDBType): string | null {
  if (type.typeId === DuckDBTypeId.BLOB) return `${sqlString(duckScalarText('bytea', value))}::BLOB`;
  if (type.typeId !== DuckDBTypeId.LIST || !/^\s*\{[\s\S]*\}\s*$/.test(value)) return null;
  const kind = elementKind(type);
  const parsed = arrayFromPgText(value);
  const dims = listDepth(type);
  if (arrayDepth(parsed) > dims) {
    throw new SqlError('22P02', `the array literal '${value}' has ${arrayDepth(parsed)} dimensions where the column takes ${dims}`,
      `Postgres' arrays hold any number of dimensions, DuckDB's one per []: declare the column ${type.toString()}${'[]'.repeat(arrayDepth(parsed) - dims)}`);
  }
  const list = (a: PgArray): string => `[${a.map((x) => (x === null ? 'NULL' : Array.isArray(x) ? list(x) : sqlString(duckScalarText(kind, x)))).join(', ')}]`;
  return `${list(parsed)}::${type.toString()}`;
}

const arrayDepth = (a: PgArray): number => (a.length && Array.isArray(a[0]) ? 1 + arrayDepth(a[0]) : 1);

function listDepth(type: DuckDBType): number {
  let depth = 0;
  for (let t = type; t.typeId === DuckDBTypeId.LIST; t = (t as DuckDBType & { valueType: DuckDBType }).valueType) depth++;
  return depth;
}

function elementKind(type: DuckDBType): Parameters<typeof duckScalarText>[0] {
  let t = type;
  while (t.typeId === DuckDBTypeId.LIST) t = (t as DuckDBType & { valueType: DuckDBType }).valueType;
  switch (t.typeId) {
    case DuckDBTypeId.BLOB: return 'bytea';
    case DuckDBTypeId.BOOLEAN: return 'bool';
    case DuckDBTypeId.INTERVAL: return 'interval';
    case DuckDBTypeId.DATE: return 'date';
    case DuckDBTypeId.TIMESTAMP: return 'timestamp';
    case DuckDBTypeId.TIMESTAMP_TZ: return 'timestamptz';
    default: return 'other';
  }
}
