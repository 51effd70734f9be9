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

const NUMERIC_POS = 0x0000;
const NUMERIC_NEG = 0x4000;
const NUMERIC_NAN = 0xc000;
const NUMERIC_PINF = 0xd000;
const NUMERIC_NINF = 0xf000;
const NUMERIC_DSCALE_MASK = 0x3fff;
/** Base-10000 digits before the point beyond which no DuckDB type holds the value (DOUBLE ends near 1e308). */
const NUMERIC_MAX_WEIGHT = 77;

/**
 * Decodes the numeric binary form back to its decimal string (for binary parameters), checked as
 * Postgres checks it: a malformed value is an error that says what is wrong, never another number.
 * NaN and the infinities come back as the words DuckDB's casts read (a DECIMAL target then refuses them).
 */
export function numericFromBinary(b: Buffer): string {
  const bad = (what: string): SqlError => new SqlError('22P03', `invalid ${what} in external "numeric" value`);
  // Postgres' codes: too few bytes is a protocol violation (08P01), too many a bad format (22P03).
  if (b.length < 8) throw new SqlError('08P01', `insufficient data left in message: a numeric needs an 8-byte header, ${b.length} bytes were sent`);
  const ndigits = b.readUInt16BE(0);
  const weight = b.readInt16BE(2);
  const sign = b.readUInt16BE(4);
  const dscale = b.readUInt16BE(6);
  if (b.length < 8 + 2 * ndigits) throw new SqlError('08P01', `insufficient data left in message: the numeric announces ${ndigits} digits, ${(b.length - 8) >> 1} were sent`);
  if (b.length > 8 + 2 * ndigits) throw new SqlError('22P03', `incorrect binary data format: ${b.length - 8 - 2 * ndigits} bytes after the numeric's ${ndigits} digits`);
  if (sign === NUMERIC_NAN) return 'NaN';
  if (sign === NUMERIC_PINF) return 'Infinity';
  if (sign === NUMERIC_NINF) return '-Infinity';
  if (sign !== NUMERIC_POS && sign !== NUMERIC_NEG) throw bad(`sign (0x${sign.toString(16)})`);
  if ((dscale & NUMERIC_DSCALE_MASK) !== dscale) throw bad(`scale (${dscale})`);
  const digits: number[] = [];
  for (let i = 0; i < ndigits; i++) {
    const d = b.readInt16BE(8 + i * 2);
    if (d < 0 || d > 9999) throw bad(`digit (${d}: base-10000 digits are 0 to 9999)`);
    digits.push(d);
  }
  if (ndigits && weight > NUMERIC_MAX_WEIGHT) {
    throw new SqlError('22003', `numeric value out of range: ${4 * (weight + 1)} digits before the decimal point`,
      'DuckDB holds 38 digits exactly (DECIMAL) and about 308 approximately (DOUBLE)');
  }
  let intPart = '';
  for (let w = 0; w <= weight; w++) intPart += String(digits[w] ?? 0).padStart(4, '0');
  let frac = '';
  for (let i = Math.max(weight + 1, 0); i < ndigits; i++) frac += String(digits[i]).padStart(4, '0');
  if (weight < -1) frac = '0000'.repeat(-weight - 1) + frac;
  intPart = intPart.replace(/^0+/, '') || '0';
  frac = frac.padEnd(dscale, '0').slice(0, dscale);
  return (sign === 0x4000 ? '-' : '') + intPart + (dscale > 0 ? '.' + frac : '');
}

/** Postgres' finite dates, in days from 2000-01-01: 4714-11-24 BC up to (not including) 5874898-01-01. */
const PG_DATE_MIN = -2451545;
const PG_DATE_END = 2145031949;
/** Postgres' finite timestamps, in microseconds from 2000-01-01: 4714-11-24 BC up to 294277-01-01. */
const PG_TIMESTAMP_MIN = -211813488000000000n;
const PG_TIMESTAMP_END = 9223371331200000000n;

/** A binary date, refused outside the range Postgres accepts (as Postgres refuses it). */
export function dateFromBinary(b: Buffer): number {
  const v = b.readInt32BE(0);
  if (v === PG_DATE_NOEND) return DUCK_DATE_INFINITY;
  if (v === PG_DATE_NOBEGIN) return -DUCK_DATE_INFINITY;
  if (v < PG_DATE_MIN || v >= PG_DATE_END) throw new SqlError('22008', 'date out of range', 'Postgres dates run from 4714-11-24 BC to 5874897-12-31');
  return v + PG_EPOCH_DAYS;
}

/** A binary timestamp, refused outside the range Postgres accepts and the range DuckDB holds. */
export function timestampFromBinary(b: Buffer): bigint {
  const v = b.readBigInt64BE(0);
  if (v === PG_TIMESTAMP_NOEND) return DUCK_TIMESTAMP_INFINITY;
  if (v === PG_TIMESTAMP_NOBEGIN) return -DUCK_TIMESTAMP_INFINITY;
  const micros = v + PG_EPOCH_MICROS;
  if (v < PG_TIMESTAMP_MIN || v >= PG_TIMESTAMP_END || micros >= DUCK_TIMESTAMP_INFINITY) {
    throw new SqlError('22008', 'timestamp out of range', 'timestamps run from 4714-11-24 BC to 294246-12-31 AD here (DuckDB\'s end is earlier than Postgres\')');
  }
  return micros;
}

const MICROS_PER_DAY = 86_400_000_000n;

/** A binary time of day (microseconds since midnight; 24:00:00 included, as in Postgres). */
export function timeFromBinary(b: Buffer): bigint {
  const v = b.readBigInt64BE(0);
  if (v < 0n || v > MICROS_PER_DAY) throw new SqlError('22008', 'time out of range', 'a time of day runs from 00:00:00 to 24:00:00');
  return v;
}

/** A binary interval: microseconds, days and months, as DuckDB keeps them too. */
export function intervalFromBinary(b: Buffer): { months: number; days: number; micros: bigint } {
  return { micros: b.readBigInt64BE(0), days: b.readInt32BE(8), months: b.readInt32BE(12) };
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

/** The Postgres text of one element of a binary array, for the element types drivers send arrays of; null for others. */
function elementText(oid: number, b: Buffer): string | null {
  const float = (x: number): string => (Object.is(x, -0) ? '-0' : String(x));
  switch (oid) {
    case 16: return b[0] ? 't' : 'f';
    case 21: return String(b.readInt16BE(0));
    case 23: return String(b.readInt32BE(0));
    case 20: return String(b.readBigInt64BE(0));
    case 26: return String(b.readUInt32BE(0));
    case 700: return float(b.readFloatBE(0));
    case 701: return float(b.readDoubleBE(0));
    case 25: case 1043: case 1042: case 19: return b.toString('utf8');
    case 1700: return numericFromBinary(b);
    case 17: return `\\x${b.toString('hex')}`;
    case 2950: {
      const h = b.toString('hex');
      return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
    }
    default: return null;
  }
}

/**
 * A binary array parameter (pgJDBC sends setArray this way once a statement is prepared on the
 * server) as Postgres' array text, `{1,NULL,3}` or `{{"a","b"},{"c","d"}}`, which the text path then
 * reads as it reads a driver's text array; null when an element type is not one of those above.
 * Layout: dimensions, has-nulls flag, element type, then (size, lower bound) per dimension, then each
 * element as its length (-1 for NULL) and bytes.
 */
export function arrayTextFromBinary(b: Buffer): string | null {
  if (b.length < 12) throw new SqlError('08P01', 'binary array parameter is shorter than its header');
  const ndim = b.readInt32BE(0);
  const elementOid = b.readInt32BE(8);
  if (ndim === 0) return '{}';
  if (ndim < 0 || ndim > 6 || b.length < 12 + 8 * ndim) throw new SqlError('22P03', `binary array parameter has ${ndim} dimensions`);
  const sizes = Array.from({ length: ndim }, (_, d) => b.readInt32BE(12 + 8 * d));
  let pos = 12 + 8 * ndim;
  const next = (): string | null => {
    if (pos + 4 > b.length) throw new SqlError('08P01', 'binary array parameter ends inside an element');
    const len = b.readInt32BE(pos);
    pos += 4;
    if (len < 0) return 'NULL';
    if (pos + len > b.length) throw new SqlError('08P01', 'binary array parameter ends inside an element');
    const text = elementText(elementOid, b.subarray(pos, pos + len));
    pos += len;
    return text === null ? null : `"${text.replace(/[\\"]/g, '\\$&')}"`;
  };
  const build = (d: number): string | null => {
    const parts: string[] = [];
    for (let i = 0; i < sizes[d]!; i++) {
      const part = d === ndim - 1 ? next() : build(d + 1);
      if (part === null) return null;
      parts.push(part);
    }
    return `{${parts.join(',')}}`;
  };
  return build(0);
}
