/** Type OIDs of the columns the SQL page can chart as numbers, and as times. */
const NUMERIC_TYPES = new Set([20, 21, 23, 26, 700, 701, 1700]);
const TIME_TYPES = new Set([1082, 1114, 1184]);

export const isNumericType = (oid: number): boolean => NUMERIC_TYPES.has(oid);
export const isTimeType = (oid: number): boolean => TIME_TYPES.has(oid);

/** A value in Postgres text form as a chartable number (times as milliseconds), or null. */
export function chartNumber(text: string | null, oid: number): number | null {
  if (text === null) return null;
  if (isTimeType(oid)) {
    const ms = Date.parse(oid === 1082 ? `${text}T00:00:00Z` : text.replace(' ', 'T').replace(/([+-]\d\d)$/, '$1:00'));
    return Number.isFinite(ms) ? ms : null;
  }
  const n = Number(text);
  return Number.isFinite(n) ? n : null;
}

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const decimal = new Intl.NumberFormat('en-US', { maximumFractionDigits: 4 });

export const formatInt = (n: number): string => integer.format(n);
export const formatNumber = (n: number | null | undefined): string => (n === null || n === undefined ? '—' : decimal.format(n));

export function formatTime(iso: string | null): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return `${d.toLocaleDateString('en-CA')} ${d.toLocaleTimeString('en-GB')}`;
}

/** The time of day alone (the full time in a tooltip). */
export const formatClock = (iso: string): string => new Date(iso).toLocaleTimeString('en-GB');

export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  return `${Math.floor(m / 60)}h ${m % 60}m`;
}
