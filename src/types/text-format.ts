import {
  DuckDBArrayValue, DuckDBBlobValue, DuckDBIntervalValue, DuckDBListValue, type DuckDBValue,
} from '@duckdb/node-api';

/** Postgres' text output of an interval ("1 year 2 mons 3 days 04:05:06.7"). */
export function intervalText(v: DuckDBIntervalValue): string {
  const parts: string[] = [];
  const years = Math.trunc(v.months / 12);
  const months = v.months % 12;
  if (years) parts.push(`${years} year${Math.abs(years) === 1 ? '' : 's'}`);
  if (months) parts.push(`${months} mon${Math.abs(months) === 1 ? '' : 's'}`);
  if (v.days) parts.push(`${v.days} day${Math.abs(v.days) === 1 ? '' : 's'}`);
  if (v.micros !== 0n || parts.length === 0) {
    let us = v.micros;
    const neg = us < 0n;
    if (neg) us = -us;
    const h = us / 3_600_000_000n;
    const m = (us / 60_000_000n) % 60n;
    const s = (us / 1_000_000n) % 60n;
    const frac = us % 1_000_000n;
    let t = `${neg ? '-' : ''}${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}`;
    if (frac) t += '.' + String(frac).padStart(6, '0').replace(/0+$/, '');
    parts.push(t);
  }
  return parts.join(' ');
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
  return String(v);
}
