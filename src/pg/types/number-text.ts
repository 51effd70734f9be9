import { DuckDBTypeId } from '@duckdb/node-api';
import { SqlError } from '../../errors/sql-error.js';

export type FloatKind = 'real' | 'double';

/**
 * A float's text as it is, or Postgres' 22003 where the value is beyond its type: DuckDB's cast would
 * store Infinity for `'1e39'::real` or `'1e400'::float8`, and 0 for `'1e-50'::real`. Text that is not a
 * number is left to the cast, which refuses it (22P02).
 */
export function floatFromPgText(kind: FloatKind, text: string): string {
  const t = text.trim();
  if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(t)) return text;
  const x = Number(t);
  const value = kind === 'real' ? Math.fround(x) : x;
  const nonZero = /[1-9]/.test(t.replace(/e.*$/i, ''));
  if (!Number.isFinite(value) || (value === 0 && nonZero)) {
    throw new SqlError('22003', `"${text.length > 60 ? `${text.slice(0, 60)}…` : text}" is out of range for type ${kind === 'real' ? 'real' : 'double precision'}`);
  }
  return text;
}

export type IntegerKind = 'smallint' | 'integer' | 'bigint';

/**
 * An integer's text as Postgres reads it: digits with a sign and spaces around, nothing else. DuckDB's
 * cast would read `'1.5'` as 2; Postgres refuses it (22P02). A value too large is the cast's to
 * refuse (22003).
 */
export function integerFromPgText(kind: IntegerKind, text: string): string {
  if (/^\s*[+-]?\d+\s*$/.test(text)) return text;
  throw new SqlError('22P02', `invalid input syntax for type ${kind}: "${text.length > 60 ? `${text.slice(0, 60)}…` : text}"`);
}

export type NumberKind = FloatKind | IntegerKind;

/** A number's text for a float or integer type, checked as Postgres reads it (floatFromPgText, integerFromPgText). */
export function numberFromPgText(kind: NumberKind, text: string): string {
  return kind === 'real' || kind === 'double' ? floatFromPgText(kind, text) : integerFromPgText(kind, text);
}

/** The number kind a column of a DuckDB type reads text as (parameters, untyped literals). */
export const NUMBER_KIND_OF_TYPE: Readonly<Partial<Record<DuckDBTypeId, NumberKind>>> = {
  [DuckDBTypeId.SMALLINT]: 'smallint', [DuckDBTypeId.INTEGER]: 'integer', [DuckDBTypeId.BIGINT]: 'bigint',
  [DuckDBTypeId.FLOAT]: 'real', [DuckDBTypeId.DOUBLE]: 'double',
};
