import {
  DuckDBArrayValue, DuckDBBlobValue, DuckDBDateValue, DuckDBIntervalValue, DuckDBListValue, DuckDBTimestampTZValue,
  DuckDBTimestampValue, type DuckDBValue,
} from '@duckdb/node-api';
import { DUCK_DATE_INFINITY } from './binary-format.js';

/** Postgres' date text: `infinity`, and `0044-03-15 BC` where DuckDB writes `0044-03-15 (BC)`. */
export function dateText(v: DuckDBValue): string {
  const days = (v as DuckDBDateValue).days;
  if (days === DUCK_DATE_INFINITY) return 'infinity';
  if (days === -DUCK_DATE_INFINITY) return '-infinity';
  const s = String(v);
  return s.endsWith(' (BC)') ? `${s.slice(0, -5)} BC` : s;
}

/** Postgres' timestamp text: the era goes last (`0044-03-15 10:00:00 BC`); DuckDB writes it after the date. */
export function timestampText(v: DuckDBValue): string {
  const s = String(v);
  return s.includes(' (BC) ') ? `${s.replace(' (BC) ', ' ')} BC` : s;
}

/**
 * Postgres' text output of an interval (IntervalStyle postgres): `1 year 2 mons -3 days +04:05:06.7`.
 * A field after a negative one carries its sign, as Postgres' EncodeInterval writes it.
 */
export function intervalText(v: DuckDBIntervalValue): string {
  let out = '';
  let zero = true;
  let before = false;
  const part = (value: number, unit: string): void => {
    if (value === 0) return;
    out += `${zero ? '' : ' '}${before && value > 0 ? '+' : ''}${value} ${unit}${value !== 1 ? 's' : ''}`;
    before = value < 0;
    zero = false;
  };
  part(Math.trunc(v.months / 12), 'year');
  part(v.months % 12, 'mon');
  part(v.days, 'day');
  if (zero || v.micros !== 0n) {
    const minus = v.micros < 0n;
    const us = minus ? -v.micros : v.micros;
    const h = us / 3_600_000_000n;
    const m = (us / 60_000_000n) % 60n;
    const s = (us / 1_000_000n) % 60n;
    const frac = us % 1_000_000n;
    out += `${zero ? '' : ' '}${minus ? '-' : before ? '+' : ''}${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}`;
    if (frac) out += '.' + String(frac).padStart(6, '0').replace(/0+$/, '');
  }
  return out;
}

export function byteaText(bytes: Uint8Array): string {
  return '\\x' + Buffer.from(bytes).toString('hex');
}

function arrayElementText(v: DuckDBValue, element: (x: DuckDBValue) => string): string {
  if (v === null) return 'NULL';
  if (v instanceof DuckDBListValue || v instanceof DuckDBArrayValue) return arrayText(v, element);
  const s = element(v);
  if (s === '' || /[{}",\\\s]/.test(s) || s.toUpperCase() === 'NULL') {
    return '"' + s.replace(/[\\"]/g, '\\$&') + '"';
  }
  return s;
}

/** Postgres array literal ("{1,2,NULL}") of a DuckDB list or fixed-size array. */
export function arrayText(v: DuckDBListValue | DuckDBArrayValue, element: (x: DuckDBValue) => string): string {
  return '{' + v.items.map((x) => arrayElementText(x, element)).join(',') + '}';
}

/** Text of a scalar as Postgres prints it; used for array elements and as the fallback. */
export function scalarText(v: DuckDBValue): string {
  if (typeof v === 'boolean') return v ? 't' : 'f';
  if (v instanceof DuckDBBlobValue) return byteaText(v.bytes);
  if (v instanceof DuckDBIntervalValue) return intervalText(v);
  if (v instanceof DuckDBDateValue) return dateText(v);
  if (v instanceof DuckDBTimestampValue || v instanceof DuckDBTimestampTZValue) return timestampText(v);
  return String(v);
}
