import { SqlError } from '../errors/sql-error.js';
import type { JsonSchema } from '../runtime/provider.js';

/**
 * The types a JSON value is read as, from the strings Databricks users write them in: Spark DDL
 * (`STRUCT<a: INT, b: ARRAY<STRING>>`, `MAP<STRING, DOUBLE>`, `a INT, b STRING`) or a JSON schema.
 * ai_query's responseFormat and returnType and from_json's schema are these; each is written out as
 * the structure DuckDB's from_json takes, as a JSON schema for an endpoint, or checked against a
 * parsed answer.
 */
export type JsonType =
  | { t: 'scalar'; duck: string }
  | { t: 'struct'; fields: Array<[string, JsonType]> }
  | { t: 'array'; item: JsonType }
  /** JSON objects with any keys: DuckDB's MAP(VARCHAR, value). */
  | { t: 'map'; value: JsonType };

export const TEXT: JsonType = { t: 'scalar', duck: 'VARCHAR' };

export const isText = (t: JsonType): boolean => t.t === 'scalar' && t.duck === 'VARCHAR';

const SCALARS: Readonly<Record<string, string>> = {
  STRING: 'VARCHAR', VARCHAR: 'VARCHAR', CHAR: 'VARCHAR', TEXT: 'VARCHAR',
  BOOLEAN: 'BOOLEAN', BOOL: 'BOOLEAN',
  TINYINT: 'TINYINT', BYTE: 'TINYINT', SMALLINT: 'SMALLINT', SHORT: 'SMALLINT',
  INT: 'INTEGER', INTEGER: 'INTEGER', BIGINT: 'BIGINT', LONG: 'BIGINT',
  FLOAT: 'FLOAT', REAL: 'FLOAT', DOUBLE: 'DOUBLE',
  DECIMAL: 'DECIMAL', DEC: 'DECIMAL', NUMERIC: 'DECIMAL',
  DATE: 'DATE', TIMESTAMP: 'TIMESTAMP', TIMESTAMP_NTZ: 'TIMESTAMP', TIMESTAMP_LTZ: 'TIMESTAMP',
  // Databricks' semi-structured type: the JSON value as it is.
  VARIANT: 'JSON',
};

/** Spark types JSON cannot carry as Spark reads them. */
const UNSUPPORTED = new Set(['BINARY', 'INTERVAL', 'VOID', 'NULL', 'GEOMETRY', 'GEOGRAPHY', 'OBJECT']);

/** A cursor over a type string, failing with the position it stopped at. */
class Reader {
  pos = 0;
  constructor(readonly text: string, private readonly what: string) {}

  fail(near = this.pos): never {
    throw new SqlError('22023', `${this.what}: cannot read the type "${this.text}" near position ${near + 1}`,
      "write a Databricks type such as 'STRUCT<answer: STRING, score: INT, tags: ARRAY<STRING>>' or 'MAP<STRING, DOUBLE>'");
  }

  skipSpace(): void {
    while (/\s/.test(this.text[this.pos] ?? '')) this.pos++;
  }

  atEnd(): boolean {
    this.skipSpace();
    return this.pos >= this.text.length;
  }

  peek(c: string): boolean {
    this.skipSpace();
    return this.text[this.pos] === c;
  }

  take(c: string): boolean {
    if (!this.peek(c)) return false;
    this.pos++;
    return true;
  }

  expect(c: string): void {
    if (!this.take(c)) this.fail();
  }

  /** A name: letters, digits and underscores, or `back-quoted` (`` doubles a backquote). */
  name(): string {
    this.skipSpace();
    if (this.text[this.pos] === '`') {
      let out = '';
      for (let i = this.pos + 1; i < this.text.length; i++) {
        if (this.text[i] !== '`') out += this.text[i];
        else if (this.text[i + 1] === '`') out += this.text[++i];
        else {
          this.pos = i + 1;
          return out;
        }
      }
      this.fail();
    }
    const m = /^[\p{L}_][\p{L}\p{N}_]*/u.exec(this.text.slice(this.pos));
    if (!m) this.fail();
    this.pos += m[0].length;
    return m[0];
  }

  /** A word if the next one is it (case-insensitive), e.g. NOT NULL after a field. */
  word(w: string): boolean {
    this.skipSpace();
    const m = /^[A-Za-z_]+/.exec(this.text.slice(this.pos));
    if (m?.[0].toUpperCase() !== w) return false;
    this.pos += m[0].length;
    return true;
  }

  /** A 'quoted' string (a field's COMMENT). */
  quoted(): void {
    this.skipSpace();
    const q = this.text[this.pos];
    if (q !== "'" && q !== '"') this.fail();
    const end = this.text.indexOf(q, this.pos + 1);
    if (end < 0) this.fail();
    this.pos = end + 1;
  }
}

function readType(r: Reader): JsonType {
  const at = r.pos;
  const name = r.name().toUpperCase();
  if (name === 'STRUCT') {
    r.expect('<');
    if (r.take('>')) return { t: 'struct', fields: [] };
    const fields = readFields(r);
    r.expect('>');
    return { t: 'struct', fields };
  }
  if (name === 'ARRAY') {
    r.expect('<');
    const item = readType(r);
    r.expect('>');
    return { t: 'array', item };
  }
  if (name === 'MAP') {
    r.expect('<');
    const key = readType(r);
    r.expect(',');
    const value = readType(r);
    r.expect('>');
    // JSON object keys are strings: Spark reads a JSON map with string keys only.
    if (!isText(key)) {
      throw new SqlError('0A000', `a JSON map's keys are strings: MAP<${describe(key)}, ...> cannot be read from JSON`, 'write MAP<STRING, ...>');
    }
    return { t: 'map', value };
  }
  if (UNSUPPORTED.has(name)) {
    throw new SqlError('0A000', `the type ${name} cannot be read from JSON here`, 'read it as STRING and convert it in SQL');
  }
  const duck = SCALARS[name];
  if (!duck) r.fail(at);
  if (r.take('(')) {
    const close = r.text.indexOf(')', r.pos);
    if (close < 0) r.fail();
    const args = r.text.slice(r.pos, close).replace(/\s+/g, '');
    r.pos = close + 1;
    if (duck === 'DECIMAL' && /^\d+(,\d+)?$/.test(args)) {
      const [p, s = '0'] = args.split(',');
      if (Number(p) < 1 || Number(p) > 38 || Number(s) > Number(p)) r.fail(at);
      return { t: 'scalar', duck: `DECIMAL(${p},${s})` };
    }
    if (duck !== 'VARCHAR' || !/^\d+$/.test(args)) r.fail(at);
  }
  return { t: 'scalar', duck: duck === 'DECIMAL' ? 'DECIMAL(10,0)' : duck };
}

/** `name[:] type [NOT NULL] [COMMENT '...'], ...` (NOT NULL and comments are Spark's; JSON reading ignores them). */
function readFields(r: Reader): Array<[string, JsonType]> {
  const fields: Array<[string, JsonType]> = [];
  const seen = new Set<string>();
  do {
    const field = r.name();
    r.take(':');
    const type = readType(r);
    if (r.word('NOT')) {
      if (!r.word('NULL')) r.fail();
    }
    if (r.word('COMMENT')) r.quoted();
    if (seen.has(field.toLowerCase())) throw new SqlError('42701', `the field "${field}" is named twice in "${r.text}"`);
    seen.add(field.toLowerCase());
    fields.push([field, type]);
  } while (r.take(','));
  return fields;
}

/**
 * A Spark DDL type string, as Databricks' from_json and ai_query take it: a type (`STRUCT<...>`,
 * `ARRAY<...>`, `MAP<...>`, `INT`, ...) or, as Spark falls back to, a list of fields (`a INT, b STRING`).
 * `what` names the argument in errors.
 */
export function parseSparkType(text: string, what: string): JsonType {
  const asType = new Reader(text, what);
  let typeError: unknown;
  try {
    const t = readType(asType);
    if (asType.atEnd()) return t;
    asType.fail();
  } catch (err) {
    typeError = err;
  }
  const asFields = new Reader(text, what);
  try {
    const fields = readFields(asFields);
    if (asFields.atEnd()) return { t: 'struct', fields };
  } catch {
    // the error of the reading as one type says more
  }
  throw typeError;
}

/** A JSON schema (as OpenAI's structured outputs take it, bare or wrapped in {json_schema: {schema}}) as a type. */
export function typeOfJsonSchema(schema: Record<string, unknown>): JsonType {
  if (schema['type'] === 'json_object') return { t: 'scalar', duck: 'JSON' };
  const wrapped = (schema['json_schema'] as { schema?: Record<string, unknown> } | undefined)?.schema;
  const inner = (schema['schema'] as Record<string, unknown> | undefined) ?? wrapped ?? schema;
  const convert = (s: Record<string, unknown>): JsonType => {
    const declared = s['type'];
    const type = Array.isArray(declared) ? declared.find((x) => x !== 'null') : declared;
    switch (type) {
      case 'object': {
        const props = s['properties'] as Record<string, Record<string, unknown>> | undefined;
        if (!props) return { t: 'scalar', duck: 'JSON' };
        return { t: 'struct', fields: Object.entries(props).map(([k, v]) => [k, convert(v)]) };
      }
      case 'array': return { t: 'array', item: convert((s['items'] ?? { type: 'string' }) as Record<string, unknown>) };
      case 'integer': return { t: 'scalar', duck: 'BIGINT' };
      case 'number': return { t: 'scalar', duck: 'DOUBLE' };
      case 'boolean': return { t: 'scalar', duck: 'BOOLEAN' };
      default: return TEXT;
    }
  };
  return convert(inner);
}

/** What a type string names (a Spark DDL type or a JSON schema), read as a type. */
export function typeOfFormat(text: string, what: string): JsonType {
  const t = text.trim();
  if (!t.startsWith('{')) return parseSparkType(t, what);
  let parsed: unknown;
  try {
    parsed = JSON.parse(t);
  } catch {
    throw new SqlError('22P02', `${what} looks like a JSON schema but is not JSON`, "write a JSON schema, or a Databricks type such as 'STRUCT<answer: STRING>'");
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new SqlError('22023', `${what} must be a JSON schema object or a type`);
  return typeOfJsonSchema(parsed as Record<string, unknown>);
}

/** The DuckDB type a value of this type is. */
export function duckType(t: JsonType): string {
  switch (t.t) {
    case 'scalar': return t.duck;
    case 'array': return `${duckType(t.item)}[]`;
    case 'map': return `MAP(VARCHAR, ${duckType(t.value)})`;
    case 'struct': return `STRUCT(${t.fields.map(([k, v]) => `"${k.replaceAll('"', '""')}" ${duckType(v)}`).join(', ')})`;
  }
}

/** The structure DuckDB's from_json reads a value of this type with (as JSON text). */
export function fromJsonStructure(t: JsonType): string {
  const structure = (x: JsonType): unknown => {
    switch (x.t) {
      case 'scalar': return x.duck;
      case 'array': return [structure(x.item)];
      case 'map': return duckType(x);
      case 'struct': return Object.fromEntries(x.fields.map(([k, v]) => [k, structure(v)]));
    }
  };
  return JSON.stringify(structure(t));
}

/** The type in Databricks' spelling, for messages. */
export function describe(t: JsonType): string {
  switch (t.t) {
    case 'scalar': return ({ VARCHAR: 'STRING', JSON: 'VARIANT', INTEGER: 'INT' } as Record<string, string>)[t.duck] ?? t.duck;
    case 'array': return `ARRAY<${describe(t.item)}>`;
    case 'map': return `MAP<STRING, ${describe(t.value)}>`;
    case 'struct': return `STRUCT<${t.fields.map(([k, v]) => `${k}: ${describe(v)}`).join(', ')}>`;
  }
}

/**
 * The JSON schema an endpoint is asked to answer in (strict structured outputs: every property
 * required, no others). A map has no fixed keys, which strict schemas cannot say.
 */
export function jsonSchemaOf(t: JsonType): JsonSchema {
  switch (t.t) {
    case 'array': return { type: 'array', items: jsonSchemaOf(t.item) };
    case 'map':
      throw new SqlError('0A000', 'responseFormat cannot hold a MAP: structured outputs name every key',
        'use ARRAY<STRUCT<key: STRING, value: ...>>, or returnType => \'MAP<...>\' to read an answer without asking for a schema');
    case 'struct': {
      const keys = t.fields.map(([k]) => k);
      return { type: 'object', properties: Object.fromEntries(t.fields.map(([k, v]) => [k, jsonSchemaOf(v)])), required: keys, additionalProperties: false };
    }
    case 'scalar': {
      const s = t.duck;
      if (s === 'JSON') return { type: 'object' };
      if (/INT/.test(s)) return { type: 'integer' };
      if (/FLOAT|DOUBLE|DECIMAL/.test(s)) return { type: 'number' };
      if (s === 'BOOLEAN') return { type: 'boolean' };
      if (s === 'DATE') return { type: 'string', format: 'date' };
      if (s === 'TIMESTAMP') return { type: 'string', format: 'date-time' };
      return { type: 'string' };
    }
  }
}

const INTEGER_RANGES: Readonly<Record<string, number>> = { TINYINT: 2 ** 7, SMALLINT: 2 ** 15, INTEGER: 2 ** 31, BIGINT: 2 ** 63 };
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
  const m = /^DECIMAL\((\d+),(\d+)\)$/.exec(type);
  return Math.abs(x) < 10 ** (Number(m?.[1] ?? 18) - Number(m?.[2] ?? 0));
}

/** Whether a parsed JSON value fits a type (what from_json reads without turning a value into NULL or failing). */
export function conforms(value: unknown, t: JsonType): boolean {
  if (value === null) return true;
  switch (t.t) {
    case 'array': return Array.isArray(value) && value.every((v) => conforms(v, t.item));
    case 'map': return typeof value === 'object' && !Array.isArray(value) && Object.values(value as object).every((v) => conforms(v, t.value));
    case 'struct':
      return typeof value === 'object' && !Array.isArray(value)
        && t.fields.every(([k, v]) => conforms((value as Record<string, unknown>)[k] ?? null, v));
    case 'scalar': {
      const s = t.duck;
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
  }
}
