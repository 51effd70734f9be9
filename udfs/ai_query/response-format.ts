import { SqlError } from '../../src/errors/sql-error.js';
import type { JsonSchema } from '../../src/runtime/provider.js';

/**
 * A DuckDB JSON structure, as from_json takes it: a type name, an object of fields, or a
 * one-element array for lists. ai_query returns its answer through from_json with one of these.
 */
export type Structure = string | { [field: string]: Structure } | [Structure];

const SCALARS: Record<string, string> = {
  STRING: 'VARCHAR', VARCHAR: 'VARCHAR', TEXT: 'VARCHAR', CHAR: 'VARCHAR',
  INT: 'INTEGER', INTEGER: 'INTEGER', SMALLINT: 'SMALLINT', TINYINT: 'TINYINT', BIGINT: 'BIGINT', LONG: 'BIGINT',
  FLOAT: 'FLOAT', REAL: 'FLOAT', DOUBLE: 'DOUBLE', DECIMAL: 'DECIMAL(10,0)', NUMERIC: 'DECIMAL(10,0)',
  BOOLEAN: 'BOOLEAN', BOOL: 'BOOLEAN', DATE: 'DATE', TIMESTAMP: 'TIMESTAMP',
};

/** Parses a Databricks-style type: `STRUCT<a:STRING, b:ARRAY<INT>>`, `ARRAY<STRING>`, `STRING`. */
function parseDdl(text: string): Structure {
  let pos = 0;
  const fail = (): never => {
    throw new SqlError('22023', `invalid responseFormat "${text}" near position ${pos + 1}`,
      "write a type such as 'STRUCT<answer:STRING, score:INT>' or a JSON schema");
  };
  const ws = (): void => { while (/\s/.test(text[pos] ?? '')) pos++; };
  const ident = (): string => {
    ws();
    const quoted = text[pos] === '`' || text[pos] === '"';
    if (quoted) {
      const q = text[pos++]!;
      const end = text.indexOf(q, pos);
      if (end < 0) fail();
      const name = text.slice(pos, end);
      pos = end + 1;
      return name;
    }
    const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(pos));
    if (!m) fail();
    pos += m![0].length;
    return m![0];
  };
  const expect = (c: string): void => {
    ws();
    if (text[pos] !== c) fail();
    pos++;
  };
  const type = (): Structure => {
    const name = ident().toUpperCase();
    if (name === 'STRUCT') {
      expect('<');
      const fields: { [k: string]: Structure } = {};
      ws();
      if (text[pos] === '>') { pos++; return fields; }
      for (;;) {
        const f = ident();
        ws();
        if (text[pos] === ':') pos++;
        fields[f] = type();
        ws();
        if (text[pos] === ',') { pos++; continue; }
        expect('>');
        return fields;
      }
    }
    if (name === 'ARRAY') {
      expect('<');
      const item = type();
      expect('>');
      return [item];
    }
    const scalar = SCALARS[name];
    if (!scalar) fail();
    ws();
    if (text[pos] === '(') { // DECIMAL(10,2)
      const close = text.indexOf(')', pos);
      if (close < 0) fail();
      const args = text.slice(pos + 1, close).replace(/\s+/g, '');
      pos = close + 1;
      if (scalar!.startsWith('DECIMAL') && /^\d+(,\d+)?$/.test(args)) return `DECIMAL(${args})`;
    }
    return scalar!;
  };
  const t = type();
  ws();
  if (pos !== text.length) fail();
  return t;
}

/** A JSON schema (as OpenAI's structured outputs take it) as a structure. */
function fromJsonSchema(schema: Record<string, unknown>): Structure {
  const inner = (schema['schema'] as Record<string, unknown> | undefined) ?? (schema['json_schema'] as { schema?: Record<string, unknown> } | undefined)?.schema ?? schema;
  const convert = (s: Record<string, unknown>): Structure => {
    switch (s['type']) {
      case 'object': {
        const props = (s['properties'] ?? {}) as Record<string, Record<string, unknown>>;
        return Object.fromEntries(Object.entries(props).map(([k, v]) => [k, convert(v)]));
      }
      case 'array': return [convert((s['items'] ?? { type: 'string' }) as Record<string, unknown>)];
      case 'integer': return 'BIGINT';
      case 'number': return 'DOUBLE';
      case 'boolean': return 'BOOLEAN';
      default: return 'VARCHAR';
    }
  };
  return convert(inner);
}

/** responseFormat as the user wrote it (a type or a JSON schema) as a from_json structure. */
export function structureOf(responseFormat: string): Structure {
  const t = responseFormat.trim();
  if (t.startsWith('{')) {
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(t) as Record<string, unknown>;
    } catch {
      throw new SqlError('22P02', 'responseFormat looks like JSON but does not parse');
    }
    return fromJsonSchema(parsed);
  }
  return parseDdl(t);
}

/** The JSON schema the model is asked to answer in, for a structure. */
export function schemaOf(s: Structure): JsonSchema {
  if (Array.isArray(s)) return { type: 'array', items: schemaOf(s[0]) };
  if (typeof s === 'object') {
    const keys = Object.keys(s);
    return { type: 'object', properties: Object.fromEntries(keys.map((k) => [k, schemaOf(s[k]!)])), required: keys, additionalProperties: false };
  }
  if (/INT/.test(s)) return { type: 'integer' };
  if (/FLOAT|DOUBLE|DECIMAL/.test(s)) return { type: 'number' };
  if (s === 'BOOLEAN') return { type: 'boolean' };
  if (s === 'DATE') return { type: 'string', format: 'date' };
  if (s === 'TIMESTAMP') return { type: 'string', format: 'date-time' };
  return { type: 'string' };
}

/** Whether a parsed JSON value fits a structure (what from_json would accept without error). */
const INTEGER_RANGES: Record<string, number> = { TINYINT: 2 ** 7, SMALLINT: 2 ** 15, INTEGER: 2 ** 31, BIGINT: 2 ** 63 };
const FLOAT_MAX = 3.4028234663852886e38;

/** A calendar date that exists (Date.parse accepts 2026-02-30). */
function isDate(v: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(v);
  if (!m) return false;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.getUTCFullYear() === Number(m[1]) && d.getUTCMonth() === Number(m[2]) - 1 && d.getUTCDate() === Number(m[3]);
}

function isTimestamp(v: string): boolean {
  const m = /^(\d{4}-\d{2}-\d{2})[T ]([01]\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?$/.exec(v);
  return m !== null && isDate(m[1]!);
}

/** A number that fits DECIMAL(p,s): at most p - s digits before the point. */
function fitsDecimal(x: number, type: string): boolean {
  const m = /^DECIMAL\((\d+)(?:,(\d+))?\)$/.exec(type);
  const precision = Number(m?.[1] ?? 18);
  const scale = Number(m?.[2] ?? 0);
  return Math.abs(x) < 10 ** (precision - scale);
}

export function conforms(value: unknown, s: Structure): boolean {
  if (value === null) return true;
  if (Array.isArray(s)) return Array.isArray(value) && value.every((v) => conforms(v, s[0]));
  if (typeof s === 'object') {
    return typeof value === 'object' && !Array.isArray(value) && Object.entries(s).every(([k, t]) => conforms((value as Record<string, unknown>)[k] ?? null, t));
  }
  const range = INTEGER_RANGES[s];
  if (range) return typeof value === 'number' && Number.isInteger(value) && value >= -range && value <= range - 1;
  if (s === 'FLOAT') return typeof value === 'number' && Math.abs(value) <= FLOAT_MAX;
  if (s === 'DOUBLE') return typeof value === 'number';
  if (s.startsWith('DECIMAL')) return typeof value === 'number' && fitsDecimal(value, s);
  if (s === 'BOOLEAN') return typeof value === 'boolean';
  if (s === 'DATE') return typeof value === 'string' && isDate(value);
  if (s === 'TIMESTAMP') return typeof value === 'string' && isTimestamp(value);
  return true;
}
