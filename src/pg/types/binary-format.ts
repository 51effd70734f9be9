import { SqlError } from '../../errors/sql-error.js';

/** Postgres binary wire formats of the common scalar types. */

const PG_EPOCH_DAYS = 10957; // 2000-01-01 in days since 1970-01-01
const PG_EPOCH_MICROS = 946_684_800_000_000n;

export const binaryInt2 = (v: number): Buffer => { const b = Buffer.allocUnsafe(2); b.writeInt16BE(v); return b; };
export const binaryInt4 = (v: number): Buffer => { const b = Buffer.allocUnsafe(4); b.writeInt32BE(v); return b; };
export const binaryInt8 = (v: bigint): Buffer => { const b = Buffer.allocUnsafe(8); b.writeBigInt64BE(v); return b; };
export const binaryFloat4 = (v: number): Buffer => { const b = Buffer.allocUnsafe(4); b.writeFloatBE(v); return b; };
export const binaryFloat8 = (v: number): Buffer => { const b = Buffer.allocUnsafe(8); b.writeDoubleBE(v); return b; };
export const binaryBool = (v: boolean): Buffer => Buffer.from([v ? 1 : 0]);
/** DuckDB's infinite dates and timestamps (day and microsecond counts) and Postgres' (DATEVAL_NOEND, DT_NOEND, ...). */
export const DUCK_DATE_INFINITY = 2147483647;
export const DUCK_TIMESTAMP_INFINITY = 9223372036854775807n;
const PG_DATE_NOEND = 2147483647;
const PG_DATE_NOBEGIN = -2147483648;
const PG_TIMESTAMP_NOEND = 9223372036854775807n;
const PG_TIMESTAMP_NOBEGIN = -9223372036854775808n;

export const binaryDate = (days: number): Buffer => binaryInt4(
  days === DUCK_DATE_INFINITY ? PG_DATE_NOEND : days === -DUCK_DATE_INFINITY ? PG_DATE_NOBEGIN : days - PG_EPOCH_DAYS);
export const binaryTimestamp = (micros: bigint): Buffer => binaryInt8(
  micros === DUCK_TIMESTAMP_INFINITY ? PG_TIMESTAMP_NOEND : micros === -DUCK_TIMESTAMP_INFINITY ? PG_TIMESTAMP_NOBEGIN : micros - PG_EPOCH_MICROS);

export function binaryInterval(months: number, days: number, micros: bigint): Buffer {
  const b = Buffer.allocUnsafe(16);
  b.writeBigInt64BE(micros, 0);
  b.writeInt32BE(days, 8);
  b.writeInt32BE(months, 12);
  return b;
}

export function binaryUuid(text: string): Buffer {
  return Buffer.from(text.replace(/-/g, ''), 'hex');
}

/** The numeric binary form (base-10000 digits, weight, sign, display scale) of a decimal string. */
export function binaryNumeric(text: string): Buffer {
  if (text === 'NaN') return Buffer.from([0, 0, 0, 0, 0xc0, 0, 0, 0]);
  const negative = text.startsWith('-');
  const unsigned = negative ? text.slice(1) : text;
  const [intPart = '0', fracPart = ''] = unsigned.split('.');
  const intPadded = intPart.padStart(Math.ceil(intPart.length / 4) * 4, '0');
  const fracPadded = fracPart.padEnd(Math.ceil(fracPart.length / 4) * 4, '0');
  const groups: number[] = [];
  for (let i = 0; i < intPadded.length; i += 4) groups.push(Number(intPadded.slice(i, i + 4)));
  let weight = groups.length - 1;
  for (let i = 0; i < fracPadded.length; i += 4) groups.push(Number(fracPadded.slice(i, i + 4)));
  while (groups.length && groups[0] === 0) { groups.shift(); weight--; }
  while (groups.length && groups[groups.length - 1] === 0) groups.pop();
  if (!groups.length) weight = 0;
  const b = Buffer.allocUnsafe(8 + groups.length * 2);
  b.writeInt16BE(groups.length, 0);
  b.writeInt16BE(weight, 2);
  b.writeUInt16BE(negative && groups.length ? 0x4000 : 0, 4);
  b.writeInt16BE(fracPart.length, 6);
  groups.forEach((g, i) => b.writeInt16BE(g, 8 + i * 2));
  return b;
}

/** Decodes the numeric binary form back to its decimal string (for binary parameters). */
export function numericFromBinary(b: Buffer): string {
  const ndigits = b.readInt16BE(0);
  const weight = b.readInt16BE(2);
  const sign = b.readUInt16BE(4);
  const dscale = b.readInt16BE(6);
  if (sign === 0xc000) return 'NaN';
  const digits: number[] = [];
  for (let i = 0; i < ndigits; i++) digits.push(b.readInt16BE(8 + i * 2));
  let intPart = '';
  for (let w = 0; w <= weight; w++) intPart += String(digits[w] ?? 0).padStart(4, '0');
  let frac = '';
  for (let i = Math.max(weight + 1, 0); i < ndigits; i++) frac += String(digits[i]).padStart(4, '0');
  if (weight < -1) frac = '0000'.repeat(-weight - 1) + frac;
  intPart = intPart.replace(/^0+/, '') || '0';
  frac = frac.padEnd(dscale, '0').slice(0, dscale);
  return (sign === 0x4000 ? '-' : '') + intPart + (dscale > 0 ? '.' + frac : '');
}

export function dateFromBinary(b: Buffer): number {
  const v = b.readInt32BE(0);
  if (v === PG_DATE_NOEND) return DUCK_DATE_INFINITY;
  if (v === PG_DATE_NOBEGIN) return -DUCK_DATE_INFINITY;
  const days = v + PG_EPOCH_DAYS;
  // DuckDB's dates end where its infinities begin; Postgres' own range (4713 BC to 5874897 AD) is narrower.
  if (days >= DUCK_DATE_INFINITY || days <= -DUCK_DATE_INFINITY) throw new SqlError('22008', 'date out of range');
  return days;
}

export function timestampFromBinary(b: Buffer): bigint {
  const v = b.readBigInt64BE(0);
  if (v === PG_TIMESTAMP_NOEND) return DUCK_TIMESTAMP_INFINITY;
  if (v === PG_TIMESTAMP_NOBEGIN) return -DUCK_TIMESTAMP_INFINITY;
  const micros = v + PG_EPOCH_MICROS;
  if (micros >= DUCK_TIMESTAMP_INFINITY || micros <= -DUCK_TIMESTAMP_INFINITY) throw new SqlError('22008', 'timestamp out of range');
  return micros;
}

/** A one-dimensional binary array of already-encoded elements (null elements as null). */
export function binaryArray(elementOid: number, elements: readonly (Buffer | null)[]): Buffer {
  const size = 20 + elements.reduce((n, e) => n + 4 + (e ? e.length : 0), 0);
  const b = Buffer.allocUnsafe(size);
  b.writeInt32BE(1, 0);
  b.writeInt32BE(elements.some((e) => e === null) ? 1 : 0, 4);
  b.writeInt32BE(elementOid, 8);
  b.writeInt32BE(elements.length, 12);
  b.writeInt32BE(1, 16);
  let pos = 20;
  for (const e of elements) {
    if (e === null) { b.writeInt32BE(-1, pos); pos += 4; continue; }
    b.writeInt32BE(e.length, pos);
    e.copy(b, pos + 4);
    pos += 4 + e.length;
  }
  return b;
}
