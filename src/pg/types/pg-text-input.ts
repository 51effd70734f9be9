import { SqlError } from '../../errors/sql-error.js';

/**
 * Postgres' text input forms of the types whose text DuckDB reads differently or not at all
 * (byteain, boolin, interval_in, array_in): drivers send these forms as literals and as text
 * parameters, and a value must be read as Postgres reads it or refused, never stored differently.
 */

/** Postgres answers 22007 (invalid_datetime_format) for date, time and interval text, 22P02 for the rest. */
const syntax = (type: string, text: string): SqlError =>
  new SqlError(/^(date|time|timestamp|interval)/.test(type) ? '22007' : '22P02', `invalid input syntax for type ${type}: "${text}"`);

/** bytea: the hex form (`\x00ff01`) or the escape form (`\000\377ab\\`). */
export function byteaFromPgText(text: string): Uint8Array {
  if (text.startsWith('\\x')) return hexBytes(text, 2);
  const out: number[] = [];
  const bytes = Buffer.from(text, 'utf8');
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (b !== 0x5c) {
      out.push(b);
      continue;
    }
    if (bytes[i + 1] === 0x5c) {
      out.push(0x5c);
      i++;
      continue;
    }
    const d = bytes.subarray(i + 1, i + 4);
    if (d.length === 3 && d[0]! >= 0x30 && d[0]! <= 0x33 && d[1]! >= 0x30 && d[1]! <= 0x37 && d[2]! >= 0x30 && d[2]! <= 0x37) {
      out.push((d[0]! - 0x30) * 64 + (d[1]! - 0x30) * 8 + (d[2]! - 0x30));
      i += 3;
      continue;
    }
    throw syntax('bytea', text);
  }
  return Uint8Array.from(out);
}

function hexBytes(text: string, from: number): Uint8Array {
  const out: number[] = [];
  let i = from;
  while (i < text.length) {
    const c = text[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    const hi = hexDigit(c);
    const next = text[i + 1];
    if (next === undefined) throw new SqlError('22023', 'invalid hexadecimal data: odd number of digits');
    const lo = hexDigit(next);
    out.push(hi * 16 + lo);
    i += 2;
  }
  return Uint8Array.from(out);
}

function hexDigit(c: string): number {
  const v = parseInt(c, 16);
  if (Number.isNaN(v) || !/[0-9a-fA-F]/.test(c)) throw new SqlError('22023', `invalid hexadecimal digit: "${c}"`);
  return v;
}

const TRUE_WORDS = ['true', 'yes', 'on', '1'];
const FALSE_WORDS = ['false', 'no', 'off', '0'];

/** boolean: t/true/y/yes/on/1 and f/false/n/no/off/0, any case, unique prefixes, surrounding spaces. */
export function boolFromPgText(text: string): boolean {
  const t = text.trim().toLowerCase();
  // "o" alone could be on or off; every other prefix of these words is unique.
  if (t.length > 0 && t !== 'o') {
    if (TRUE_WORDS.some((w) => w.startsWith(t))) return true;
    if (FALSE_WORDS.some((w) => w.startsWith(t))) return false;
  }
  throw syntax('boolean', text);
}

/** An interval as DuckDB stores it. */
export interface IntervalParts {
  months: number;
  days: number;
  micros: bigint;
}

const USEC_PER_SEC = 1_000_000;
const SECS_PER_DAY = 86_400;
const DAYS_PER_MONTH = 30;

type Unit = 'microsecond' | 'millisecond' | 'second' | 'minute' | 'hour' | 'day' | 'week' | 'month' | 'year' | 'decade' | 'century' | 'millennium';

const UNITS: Readonly<Record<string, Unit>> = (() => {
  const m: Record<string, Unit> = {};
  const add = (unit: Unit, ...names: string[]): void => names.forEach((n) => (m[n] = unit));
  add('microsecond', 'microsecond', 'microseconds', 'microsecon', 'us', 'usec', 'usecs', 'useconds');
  add('millisecond', 'millisecond', 'milliseconds', 'millisecon', 'ms', 'msec', 'msecs', 'mseconds');
  add('second', 'second', 'seconds', 's', 'sec', 'secs');
  add('minute', 'minute', 'minutes', 'm', 'min', 'mins');
  add('hour', 'hour', 'hours', 'h', 'hr', 'hrs');
  add('day', 'day', 'days', 'd');
  add('week', 'week', 'weeks', 'w');
  add('month', 'month', 'months', 'mon', 'mons');
  add('year', 'year', 'years', 'y', 'yr', 'yrs');
  add('decade', 'decade', 'decades', 'dec', 'decs');
  add('century', 'century', 'centuries', 'c', 'cent');
  add('millennium', 'millennium', 'millennia', 'mil', 'mils');
  return m;
})();

/** Accumulates interval fields the way Postgres' DecodeInterval does (fractions spill into smaller units). */
class IntervalBuilder {
  months = 0;
  days = 0;
  /** Microseconds, kept as a float until the end so fractions of several fields add up before rounding. */
  micros = 0;
  private seen = new Set<string>();

  constructor(private readonly text: string) {}

  mark(field: string): void {
    if (this.seen.has(field)) throw syntax('interval', this.text);
    this.seen.add(field);
  }

  private fractDays(frac: number): void {
    const whole = Math.trunc(frac);
    this.days += whole;
    this.micros += (frac - whole) * SECS_PER_DAY * USEC_PER_SEC;
  }

  add(unit: Unit, value: number): void {
    const whole = Math.trunc(value);
    const frac = value - whole;
    switch (unit) {
      case 'microsecond': this.micros += value; break;
      case 'millisecond': this.micros += value * 1000; break;
      case 'second': this.micros += value * USEC_PER_SEC; break;
      case 'minute': this.micros += value * 60 * USEC_PER_SEC; break;
      case 'hour': this.micros += value * 3600 * USEC_PER_SEC; break;
      case 'day': this.days += whole; this.micros += frac * SECS_PER_DAY * USEC_PER_SEC; break;
      case 'week': this.days += whole * 7; this.fractDays(frac * 7); break;
      case 'month': this.months += whole; this.fractDays(frac * DAYS_PER_MONTH); break;
      case 'year': this.months += whole * 12 + Math.round(frac * 12); break;
      case 'decade': this.months += whole * 120 + Math.round(frac * 120); break;
      case 'century': this.months += whole * 1200 + Math.round(frac * 1200); break;
      case 'millennium': this.months += whole * 12000 + Math.round(frac * 12000); break;
    }
  }

  /** `[+-]hh:mm[:ss[.frac]]` (or `mm:ss.frac`). */
  addTime(token: string): void {
    const sign = token.startsWith('-') ? -1 : 1;
    const parts = token.replace(/^[+-]/, '').split(':');
    let h = 0;
    let m = 0;
    let s = 0;
    if (parts.length === 2 && parts[1]!.includes('.')) [m, s] = [Number(parts[0]), Number(parts[1])];
    else [h, m, s] = [Number(parts[0]), Number(parts[1]), Number(parts[2] ?? 0)];
    if (![h, m, s].every(Number.isFinite) || m > 59 || s >= 60) throw new SqlError('22015', `interval field value out of range: "${this.text}"`);
    this.mark('hour');
    this.mark('minute');
    this.mark('second');
    this.micros += sign * ((h * 3600 + m * 60) * USEC_PER_SEC + Math.round(s * USEC_PER_SEC));
  }

  result(negate: boolean): IntervalParts {
    const sign = negate ? -1 : 1;
    const months = sign * this.months;
    const days = sign * this.days;
    const micros = BigInt(Math.round(this.micros)) * BigInt(sign);
    if (!Number.isSafeInteger(months) || Math.abs(months) > 2 ** 31 - 1 || Math.abs(days) > 2 ** 31 - 1 ||
        micros > 2n ** 63n - 1n || micros < -(2n ** 63n) + 1n) {
      throw new SqlError('22015', `interval field value out of range: "${this.text}"`);
    }
    return { months: months + 0, days: days + 0, micros };
  }
}

/** Postgres' interval input: `1 year 2 mons -3 days 04:05:06.7`, `@ 1 hour ago`, ISO 8601 `P1Y2M3DT4H`, SQL `1-2 3 4:05:06`. */
export function intervalFromPgText(text: string): IntervalParts {
  const t = text.trim();
  if (/^[+-]?P/i.test(t)) return isoInterval(text, t);
  const tokens: string[] = [];
  const lexer = /\s*(@|[+-]?\d+:\d+(?::\d+)?(?:\.\d*)?|[+-]?\d+-\d+|[+-]?(?:\d+(?:\.\d*)?|\.\d+)|[A-Za-z]+)\s*/y;
  for (let m = lexer.exec(t); m && lexer.lastIndex <= t.length; m = lexer.exec(t)) {
    tokens.push(m[1]!);
    if (lexer.lastIndex === t.length) break;
  }
  if (!t || tokens.join('').length !== t.replace(/\s+/g, '').length) throw syntax('interval', text);
  if (tokens[0] === '@') tokens.shift();
  let negate = false;
  if (tokens.length && tokens[tokens.length - 1]!.toLowerCase() === 'ago') {
    negate = true;
    tokens.pop();
  }
  if (!tokens.length) throw syntax('interval', text);
  const b = new IntervalBuilder(text);
  // Fields are read from the right, as Postgres does: a unit names the number before it, a number
  // with no unit is seconds, and a number before a time of day is days.
  let unit: Unit | null = null;
  for (let i = tokens.length - 1; i >= 0; i--) {
    const tok = tokens[i]!;
    if (/^[A-Za-z]+$/.test(tok)) {
      const u = UNITS[tok.toLowerCase()];
      if (!u || unit !== null && /^[A-Za-z]+$/.test(tokens[i + 1] ?? '')) throw syntax('interval', text);
      unit = u;
      continue;
    }
    if (tok.includes(':')) {
      b.addTime(tok);
      unit = 'day';
      continue;
    }
    if (/^[+-]?\d+-\d+$/.test(tok)) {
      const sign = tok.startsWith('-') ? -1 : 1;
      const [y, mo] = tok.replace(/^[+-]/, '').split('-').map(Number) as [number, number];
      if (mo > 11) throw new SqlError('22015', `interval field value out of range: "${text}"`);
      b.mark('year');
      b.mark('month');
      b.months += sign * (y * 12 + mo);
      unit = 'day';
      continue;
    }
    const value = Number(tok);
    if (!Number.isFinite(value)) throw syntax('interval', text);
    const u = unit ?? 'second';
    b.mark(u);
    b.add(u, value);
  }
  return b.result(negate);
}

/** ISO 8601 durations: `P1Y2M3W4DT5H6M7.5S` (fractions allowed) and the alternative `P0001-02-03T04:05:06`. */
function isoInterval(text: string, t: string): IntervalParts {
  const b = new IntervalBuilder(text);
  const body = t.replace(/^[+-]?P/i, '');
  const alt = /^(\d+)-(\d+)-(\d+)(?:T(\d+):(\d+):(\d+(?:\.\d*)?))?$/i.exec(body);
  if (alt) {
    b.add('year', Number(alt[1]));
    b.add('month', Number(alt[2]));
    b.add('day', Number(alt[3]));
    if (alt[4] !== undefined) b.addTime(`${alt[4]}:${alt[5]}:${alt[6]}`);
    return b.result(t.startsWith('-'));
  }
  const [datePart = '', timePart] = body.split(/T/i);
  if (timePart === '' || (!datePart && timePart === undefined)) throw syntax('interval', text);
  const read = (part: string, units: Record<string, Unit>): void => {
    const re = /([+-]?(?:\d+(?:\.\d*)?|\.\d+))([A-Za-z])/y;
    let pos = 0;
    while (pos < part.length) {
      re.lastIndex = pos;
      const m = re.exec(part);
      const u = m ? units[m[2]!.toUpperCase()] : undefined;
      if (!m || !u) throw syntax('interval', text);
      b.mark(u);
      b.add(u, Number(m[1]));
      pos = re.lastIndex;
    }
  };
  read(datePart, { Y: 'year', M: 'month', W: 'week', D: 'day' });
  if (timePart !== undefined) read(timePart, { H: 'hour', M: 'minute', S: 'second' });
  return b.result(t.startsWith('-'));
}

/** A parsed Postgres array: nested lists of element texts (null for NULL). */
export type PgArray = Array<string | null | PgArray>;

/** array_in: `{1,NULL,"a b",{2,3}}`, with `\` escapes and optional `[1:3]=` dimensions. */
export function arrayFromPgText(text: string): PgArray {
  const bad = (): SqlError => new SqlError('22P02', `malformed array literal: "${text}"`);
  let s = text.trim();
  const dims = /^(\[\s*[+-]?\d+\s*:\s*[+-]?\d+\s*\])+\s*=/.exec(s);
  if (dims) s = s.slice(dims[0].length).trim();
  let pos = 0;
  const skipSpace = (): void => { while (pos < s.length && /\s/.test(s[pos]!)) pos++; };
  const readArray = (): PgArray => {
    if (s[pos] !== '{') throw bad();
    pos++;
    const items: PgArray = [];
    skipSpace();
    if (s[pos] === '}') {
      pos++;
      return items;
    }
    for (;;) {
      skipSpace();
      if (s[pos] === '{') items.push(readArray());
      else if (s[pos] === '"') {
        pos++;
        let v = '';
        while (pos < s.length && s[pos] !== '"') {
          if (s[pos] === '\\') pos++;
          if (pos >= s.length) throw bad();
          v += s[pos++];
        }
        if (s[pos] !== '"') throw bad();
        pos++;
        items.push(v);
      } else {
        let v = '';
        let quotedChars = false;
        while (pos < s.length && s[pos] !== ',' && s[pos] !== '}') {
          if (s[pos] === '"' || s[pos] === '{') throw bad();
          if (s[pos] === '\\') {
            pos++;
            if (pos >= s.length) throw bad();
            quotedChars = true;
          }
          v += s[pos++];
        }
        v = v.replace(/\s+$/, '');
        if (!v && !quotedChars) throw bad();
        items.push(!quotedChars && v.toUpperCase() === 'NULL' ? null : v);
      }
      skipSpace();
      if (s[pos] === ',') {
        pos++;
        continue;
      }
      if (s[pos] === '}') {
        pos++;
        return items;
      }
      throw bad();
    }
  };
  const out = readArray();
  skipSpace();
  if (pos !== s.length) throw bad();
  checkRectangular(out, bad);
  return out;
}

/** Postgres arrays are rectangular: every sub-array of a level has the same length and depth. */
function checkRectangular(a: PgArray, bad: () => SqlError): void {
  const nested = a.map((x) => Array.isArray(x));
  if (nested.some((n) => n !== nested[0])) throw bad();
  if (!nested[0]) return;
  const subs = a as PgArray[];
  if (subs.some((x) => x.length !== subs[0]!.length)) throw bad();
  subs.forEach((x) => checkRectangular(x, bad));
  const depth = (x: PgArray): number => (x.length && Array.isArray(x[0]) ? 1 + depth(x[0]) : 0);
  if (subs.some((x) => depth(x) !== depth(subs[0]!))) throw bad();
}

/** The date and time types whose Postgres text forms are normalised before DuckDB reads them. */
export type DatetimeKind = 'date' | 'timestamp' | 'timestamptz';

/**
 * A date or timestamp in Postgres' text form as the text DuckDB reads as the same value. DuckDB
 * reads a date from the first characters and ignores the rest, so `1999-01-08 BC` would become
 * 1999 AD; the era is moved where DuckDB reads it (`0044-03-15 (BC)`), a two-digit or zero year
 * (which Postgres refuses in this form) is refused, and a date with only a zone offset (pgJDBC's
 * `2024-01-02 +01`) gets its midnight.
 */
export function datetimeFromPgText(kind: DatetimeKind, text: string): string {
  let s = text.trim();
  if (/^[+-]?infinity$/i.test(s)) return s.replace(/^\+/, '').toLowerCase();
  if (/^epoch$/i.test(s)) return '1970-01-01';
  const era = /\s+(BC|AD)$/i.exec(s);
  if (era) s = s.slice(0, era.index);
  const date = /^(\d+)-(\d+)-(\d+)(?![\d-])/.exec(s);
  if (date && (date[1]!.length < 3 || Number(date[1]) === 0)) {
    throw new SqlError('22008', `date/time field value out of range: "${text}"`);
  }
  if (era?.[1]!.toUpperCase() === 'BC') {
    if (!date) throw syntax(kind === 'date' ? 'date' : kind === 'timestamp' ? 'timestamp' : 'timestamp with time zone', text);
    s = `${date[0]} (BC)${s.slice(date[0].length)}`;
  }
  if (kind !== 'date') {
    const zoneOnly = /^(\d+-\d+-\d+(?: \(BC\))?)\s+([+-]\d{1,2}(?::?\d{2})?)$/.exec(s);
    if (zoneOnly) s = `${zoneOnly[1]} 00:00:00${zoneOnly[2]}`;
  }
  return s;
}
