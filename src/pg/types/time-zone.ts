import { DuckDBTimestampTZValue, DuckDBTimestampValue } from '@duckdb/node-api';
import { timestampText } from './text-format.js';

// @duckdb/node-api prints a timestamptz at the offset the machine had when it was loaded; aiduck
// prints each value at its session's TimeZone (UTC unless the client sets another), so that is never used.
DuckDBTimestampTZValue.timezoneOffsetInMinutes = 0;

const MICROS_PER_MINUTE = 60_000_000n;
/** Offsets change on quarter hours at most: one lookup per zone and quarter hour. */
const BUCKET_MS = 15 * 60_000;
const offsets = new Map<string, Map<number, number>>();
const formats = new Map<string, Intl.DateTimeFormat | null>();

function formatOf(zone: string): Intl.DateTimeFormat | null {
  let f = formats.get(zone);
  if (f === undefined) {
    try {
      f = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'longOffset' });
    } catch {
      f = null;
    }
    formats.set(zone, f);
  }
  return f;
}

/** The zone's offset from UTC in minutes at an instant (ms since the epoch), as the IANA database has it. */
export function offsetMinutes(zone: string, epochMs: number): number {
  const f = formatOf(zone);
  if (!f || !Number.isFinite(epochMs)) return 0;
  let byBucket = offsets.get(zone);
  if (!byBucket) offsets.set(zone, (byBucket = new Map()));
  const bucket = Math.floor(epochMs / BUCKET_MS);
  let minutes = byBucket.get(bucket);
  if (minutes === undefined) {
    const name = f.formatToParts(new Date(bucket * BUCKET_MS)).find((p) => p.type === 'timeZoneName')?.value ?? 'GMT';
    const m = /GMT([+-])(\d{2}):?(\d{2})?/.exec(name);
    minutes = m ? (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3] ?? 0)) : 0;
    if (byBucket.size > 100_000) byBucket.clear();
    byBucket.set(bucket, minutes);
  }
  return minutes;
}

/** Whether the Intl database knows the zone (DuckDB's ICU decides what SET TimeZone takes). */
export const knowsZone = (zone: string): boolean => formatOf(zone) !== null;

/** Postgres' text of a timestamptz at a zone: the local time and its offset, `2024-01-01 07:00:00-05`, `…+05:30`. */
export function timestamptzText(v: DuckDBTimestampTZValue, zone: string): string {
  const epochMs = Number(v.micros / 1000n);
  if (!v.isFinite || epochMs > 8.64e15 || epochMs < -8.64e15) return timestampText(v);
  const minutes = offsetMinutes(zone, epochMs);
  const local = timestampText(new DuckDBTimestampValue(v.micros + BigInt(minutes) * MICROS_PER_MINUTE));
  const abs = Math.abs(minutes);
  const hh = String(Math.floor(abs / 60)).padStart(2, '0');
  const mm = abs % 60 ? `:${String(abs % 60).padStart(2, '0')}` : '';
  const sign = minutes < 0 ? '-' : '+';
  // BC timestamps end in " BC" after the offset, as Postgres prints them.
  return local.endsWith(' BC') ? `${local.slice(0, -3)}${sign}${hh}${mm} BC` : `${local}${sign}${hh}${mm}`;
}
