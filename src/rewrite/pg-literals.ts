import {
  arrayFromPgText, boolFromPgText, byteaFromPgText, datetimeFromPgText, intervalFromPgText, type DatetimeKind, type PgArray,
} from '../pg/types/pg-text-input.js';
import { numberFromPgText, type NumberKind } from '../pg/types/number-text.js';
import { sqlString } from '../sqltext/quote.js';
import { applyEdits, type Edit } from '../sqltext/statements.js';
import { lex } from '../sqltext/lexer.js';

/**
 * Escape strings (`E'a\tb'`), which DuckDB lacks, and typed string literals in the Postgres text
 * forms DuckDB reads differently: `'\x00ff01'::bytea`
 * (DuckDB reads `\x00` then the characters "ff01"), `'{1,NULL,2}'::int[]`, `'-3 mons +5 days'::interval`,
 * `'on'::boolean`, as `'lit'::type`, `CAST('lit' AS type)` or `type 'lit'`. Each literal is read
 * as Postgres reads it and written in the form DuckDB reads as the same value, so the cast that
 * follows gives what Postgres gives (or the Postgres error, 22P02, for text Postgres refuses).
 */
export function rewritePgLiterals(sql: string): string {
  if (!sql.includes("'") && !sql.includes('$')) return sql;
  const edits: Edit[] = [];
  for (const tok of lex(sql)) {
    if (tok.kind !== 'string') continue;
    const escaped = /^[eE]'/.test(tok.text);
    const raw = escaped ? tok.text.slice(1) : tok.text;
    const { start, end } = tok;
    const type = targetType(sql.slice(Math.max(0, start - 64), start), sql.slice(end, end + 300));
    const value = literalValue(raw, escaped);
    if (value === null) continue;
    if (!type) {
      // DuckDB has no E'' strings: the escapes are read here and the text passed as a plain literal.
      if (escaped) edits.push({ start, end: end, text: sqlString(value) });
      continue;
    }
    if (!type.array) {
      edits.push({ start, end: end, text: sqlString(duckScalarText(type.kind, value)) });
      continue;
    }
    // '[1,2]' is DuckDB's own list text; Postgres would refuse it, DuckDB's cast reads it.
    if (value.trim().startsWith('[') && !value.includes('=')) continue;
    const parsed = arrayFromPgText(value);
    const list = (a: PgArray): string => `[${a.map((x) => (x === null ? 'NULL' : Array.isArray(x) ? list(x) : sqlString(duckScalarText(type.kind, x)))).join(', ')}]`;
    edits.push({ start, end: end, text: list(parsed) });
    // Postgres' int[] holds any number of dimensions; DuckDB's INTEGER[] only one.
    const extra = arrayDepth(parsed) - type.dims;
    if (extra > 0) edits.push({ start: end + type.typeEnd, end: end + type.typeEnd, text: '[]'.repeat(extra) });
  }
  return applyEdits(sql, edits);
}

type Kind = 'bytea' | 'bool' | 'interval' | DatetimeKind | NumberKind;
interface TargetType {
  kind: Kind | 'other';
  array: boolean;
  /** Array dimensions the type names (`int[][]`: 2; `int ARRAY`: 1). */
  dims: number;
  /** Where the type name ends, counted from the end of the literal (for the CAST and :: forms). */
  typeEnd: number;
}

const TYPE_NAME = String.raw`(?:pg_catalog\s*\.\s*)?(double\s+precision|character\s+varying|bit\s+varying|(?:timestamp|time)(?:\s*\(\s*\d+\s*\))?\s+with(?:out)?\s+time\s+zone|[A-Za-z_][A-Za-z0-9_]*)(?:\s*\(\s*\d+\s*(?:,\s*\d+\s*)?\))?((?:\s*\[\s*\d*\s*\])+|\s+ARRAY\b)?`;
const AFTER_CAST = new RegExp(String.raw`^\s*::\s*${TYPE_NAME}`, 'i');
const AFTER_AS = new RegExp(String.raw`^\s+AS\s+${TYPE_NAME}(?=\s*\))`, 'i');
const BEFORE_CAST = /\bCAST\s*\(\s*$/i;
const TYPED_LITERAL = /(?:^|[^\w.])(bytea|interval|bool|boolean|date|timestamp|timestamptz)\s*$/i;

function kindOf(name: string): Kind | 'other' {
  const n = name.toLowerCase().replace(/\s+/g, ' ');
  if (n === 'bytea') return 'bytea';
  if (n === 'bool' || n === 'boolean') return 'bool';
  if (n === 'interval') return 'interval';
  if (n === 'date') return 'date';
  if (n === 'real' || n === 'float4') return 'real';
  if (n === 'smallint' || n === 'int2') return 'smallint';
  if (n === 'integer' || n === 'int' || n === 'int4') return 'integer';
  if (n === 'bigint' || n === 'int8') return 'bigint';
  if (n === 'double precision' || n === 'float8' || n === 'float') return 'double';
  if (n === 'timestamptz' || /^timestamp(\s*\(\s*\d+\s*\))? with time zone$/.test(n)) return 'timestamptz';
  if (n === 'timestamp' || /^timestamp(\s*\(\s*\d+\s*\))? without time zone$/.test(n)) return 'timestamp';
  return 'other';
}

/** The type a literal is cast to, from the text around it; null when it is not a typed literal of interest. */
function targetType(before: string, after: string): TargetType | null {
  const m = AFTER_CAST.exec(after) ?? (BEFORE_CAST.test(before) ? AFTER_AS.exec(after) : null);
  if (m) {
    const dims = m[2] === undefined ? 0 : /ARRAY/i.test(m[2]) ? 1 : (m[2].match(/\[/g) ?? []).length;
    const t: TargetType = { kind: kindOf(m[1]!), array: dims > 0, dims, typeEnd: m[0].length };
    return t.kind === 'other' && !t.array ? null : t;
  }
  const prefix = TYPED_LITERAL.exec(before);
  // INTERVAL '1' DAY: the unit after the literal says what the number counts.
  if (!prefix || /^\s+(year|month|day|hour|minute|second)s?\b/i.test(after)) return null;
  return { kind: kindOf(prefix[1]!), array: false, dims: 0, typeEnd: 0 };
}

function arrayDepth(a: PgArray): number {
  return a.length && Array.isArray(a[0]) ? 1 + arrayDepth(a[0]) : 1;
}

/** The value of a string literal: standard (`'it''s'`), escape (`E'\x41'`) or dollar-quoted. */
function literalValue(raw: string, escaped: boolean): string | null {
  if (raw.startsWith('$')) {
    const tag = /^\$[A-Za-z_0-9]*\$/.exec(raw)![0];
    return raw.endsWith(tag) && raw.length >= 2 * tag.length ? raw.slice(tag.length, raw.length - tag.length) : null;
  }
  if (!raw.endsWith("'") || raw.length < 2) return null;
  const body = raw.slice(1, -1);
  return escaped ? unescapeE(body) : body.replace(/''/g, "'");
}

/** The escapes of an E'' string, as Postgres reads them. */
function unescapeE(body: string): string {
  const bytes: number[] = [];
  const push = (s: string): void => { bytes.push(...Buffer.from(s, 'utf8')); };
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c === "'" && body[i + 1] === "'") {
      push("'");
      i++;
      continue;
    }
    if (c !== '\\') {
      push(c);
      continue;
    }
    const n = body[++i];
    if (n === undefined) break;
    const simple: Record<string, string> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
    if (simple[n]) push(simple[n]);
    else if (/[0-7]/.test(n)) {
      const m = /^[0-7]{1,3}/.exec(body.slice(i))![0];
      bytes.push(parseInt(m, 8) & 0xff);
      i += m.length - 1;
    } else if (n === 'x' && /[0-9a-fA-F]/.test(body[i + 1] ?? '')) {
      const m = /^[0-9a-fA-F]{1,2}/.exec(body.slice(i + 1))![0];
      bytes.push(parseInt(m, 16));
      i += m.length;
    } else if ((n === 'u' || n === 'U') && /^[0-9a-fA-F]+$/.test(body.slice(i + 1, i + 1 + (n === 'u' ? 4 : 8)))) {
      const len = n === 'u' ? 4 : 8;
      push(String.fromCodePoint(parseInt(body.slice(i + 1, i + 1 + len), 16)));
      i += len;
    } else push(n);
  }
  return Buffer.from(bytes).toString('utf8');
}

/** DuckDB's escaped text for bytes: every byte as \xHH, which DuckDB's BLOB cast reads back exactly. */
export const duckBlobText = (bytes: Uint8Array): string => {
  let s = '';
  for (const b of bytes) s += `\\x${b.toString(16).padStart(2, '0').toUpperCase()}`;
  return s;
};

/** The text DuckDB reads as the same interval. */
export const duckIntervalText = (text: string): string => {
  const i = intervalFromPgText(text);
  return `${i.months} months ${i.days} days ${i.micros} microseconds`;
};

/** A scalar's Postgres text in the form DuckDB's cast from VARCHAR reads as the same value. */
export function duckScalarText(kind: Kind | 'other', text: string): string {
  switch (kind) {
    case 'bytea': return duckBlobText(byteaFromPgText(text));
    case 'bool': return boolFromPgText(text) ? 'true' : 'false';
    case 'interval': return duckIntervalText(text);
    case 'date':
    case 'timestamp':
    case 'timestamptz':
      return datetimeFromPgText(kind, text);
    case 'real':
    case 'double':
    case 'smallint':
    case 'integer':
    case 'bigint':
      return numberFromPgText(kind, text);
    default: return text;
  }
}
