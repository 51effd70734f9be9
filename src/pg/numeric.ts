import { SqlError } from '../errors/sql-error.js';

/**
 * Postgres' `numeric` without a precision holds any number exactly; DuckDB's plain NUMERIC is
 * DECIMAL(18,3), which rounds `1.23456` to `1.235` without a word. aiduck maps an unconstrained
 * numeric to DECIMAL(38,10) — 28 digits before the point, 10 after, and a product of two still has 18
 * integer digits (DuckDB adds the scales) — and refuses a literal or parameter that would not fit
 * exactly (22003) rather than round it. Values computed inside a query round at 10 decimals.
 */
export const UNCONSTRAINED_PRECISION = 38;
export const UNCONSTRAINED_SCALE = 10;
export const UNCONSTRAINED_NUMERIC = `DECIMAL(${UNCONSTRAINED_PRECISION},${UNCONSTRAINED_SCALE})`;

/** Whether a DECIMAL is the one an unconstrained numeric maps to (reported as numeric without a modifier). */
export const isUnconstrained = (width: number, scale: number): boolean => width === UNCONSTRAINED_PRECISION && scale === UNCONSTRAINED_SCALE;

/** Why a number written as text does not fit an unconstrained numeric exactly, or null when it does. */
export function unconstrainedMisfit(text: string): string | null {
  const m = /^\s*[+-]?(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?\s*$/.exec(text);
  if (!m) return null; // not a plain number: the cast reports it
  const exponent = Number(m[3] ?? 0);
  let int = (m[1] ?? '').replace(/^0+/, '');
  let frac = (m[2] ?? '').replace(/0+$/, '');
  // Move the point by the exponent.
  if (exponent > 0) {
    const moved = frac.slice(0, exponent).padEnd(exponent, '0');
    int = (int + moved).replace(/^0+/, '');
    frac = frac.slice(exponent);
  } else if (exponent < 0) {
    const digits = int.padStart(-exponent, '0');
    frac = (digits.slice(digits.length + exponent) + frac).replace(/0+$/, '');
    int = digits.slice(0, digits.length + exponent).replace(/^0+/, '');
  }
  if (frac.length > UNCONSTRAINED_SCALE) return `${frac.length} digits after the point`;
  if (int.length > UNCONSTRAINED_PRECISION - UNCONSTRAINED_SCALE) return `${int.length} digits before the point`;
  return null;
}

/** The refusal text: what the value is and what to do instead. */
export const misfitHint = `an unconstrained numeric holds ${UNCONSTRAINED_PRECISION - UNCONSTRAINED_SCALE} digits before the point and ${UNCONSTRAINED_SCALE} after in aiduck: declare numeric(p,s) with the scale you need, or double precision`;

/**
 * A number's text as it is, or the 22003 Postgres would give if aiduck's unconstrained numeric had to
 * round it; `label` names where the value came from (`parameter $2`).
 */
export function exactNumeric(text: string, label?: string): string {
  const misfit = unconstrainedMisfit(text);
  if (!misfit) return text;
  const value = text.length > 60 ? `${text.slice(0, 60)}…` : text;
  throw new SqlError('22003', `numeric field overflow: ${label ? `${label} (${value})` : value} has ${misfit}`, misfitHint);
}

/** A DECIMAL's text without the trailing zeros of its fixed scale (`1.2345600000` → `1.23456`), as Postgres prints numeric. */
export function trimDecimal(text: string): string {
  return text.includes('.') ? text.replace(/\.?0+$/, '') : text;
}
