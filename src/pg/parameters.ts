import {
  BLOB, BOOLEAN, DuckDBBlobValue, DuckDBDateValue, DuckDBIntervalValue, DuckDBTimestampTZValue, DuckDBTimestampValue, DuckDBTimeValue, DuckDBTypeId,
  INTERVAL, LIST, VARCHAR, listValue, type DuckDBDecimalType, type DuckDBPreparedStatement, type DuckDBType, type DuckDBValue,
} from '@duckdb/node-api';
import { exactNumeric, isUnconstrained, UNCONSTRAINED_NUMERIC } from './numeric.js';
import { SqlError } from '../errors/sql-error.js';
import { ArrayOidOf, Oid } from './types/oids.js';
import { arrayTextFromBinary, dateFromBinary, intervalFromBinary, numericFromBinary, timeFromBinary, timestampFromBinary } from './types/binary-format.js';
import {
  arrayFromPgText, boolFromPgText, byteaFromPgText, datetimeFromPgText, intervalFromPgText, type PgArray,
} from './types/pg-text-input.js';
import { NUMBER_KIND_OF_TYPE, numberFromPgText } from './types/number-text.js';

/** DuckDB type names for the Postgres types a client may declare for a parameter in Parse. */
export const duckdbTypeForOid: Readonly<Record<number, string>> = {
  [Oid.bool]: 'BOOLEAN',
  [Oid.bytea]: 'BLOB',
  [Oid.int2]: 'SMALLINT',
  [Oid.int4]: 'INTEGER',
  [Oid.int8]: 'BIGINT',
  [Oid.oid]: 'UINTEGER',
  [Oid.text]: 'VARCHAR',
  [Oid.varchar]: 'VARCHAR',
  [Oid.json]: 'JSON',
  [Oid.jsonb]: 'JSON',
  [Oid.float4]: 'FLOAT',
  [Oid.float8]: 'DOUBLE',
  [Oid.numeric]: UNCONSTRAINED_NUMERIC,
  [Oid.date]: 'DATE',
  [Oid.time]: 'TIME',
  [Oid.timestamp]: 'TIMESTAMP',
  [Oid.timestamptz]: 'TIMESTAMPTZ',
  [Oid.interval]: 'INTERVAL',
  [Oid.uuid]: 'UUID',
};

/**
 * Binds one parameter received in Bind, decoding the binary formats of the common types. `type`
 * is the parameter's DuckDB type when the caller knows it already (else it is asked of `prepared`).
 */
export function bindParameter(
  prepared: DuckDBPreparedStatement,
  index: number,
  oid: number,
  format: number,
  value: Buffer | null,
  type?: DuckDBType | null,
): void {
  if (value === null) {
    prepared.bindNull(index);
    return;
  }
  if (format === 0) {
    const text = value.toString('utf8');
    const known = type === undefined ? parameterType(prepared, index) : type;
    checkNumericFits(known, index, text);
    bindText(prepared, index, oid, text, known);
    return;
  }
  try {
    bindBinary(prepared, index, oid, value, type);
  } catch (err) {
    // The decoders say what is wrong with the value; the client also needs to know which parameter.
    if (err instanceof SqlError && !err.message.includes(`parameter $${index}`)) throw new SqlError(err.code, `binary parameter $${index}: ${err.message}`, err.hint);
    throw err;
  }
}

function bindBinary(prepared: DuckDBPreparedStatement, index: number, oid: number, value: Buffer, type?: DuckDBType | null): void {
  const need = (n: number): void => {
    if (value.length !== n) throw new SqlError('22P03', `binary parameter $${index} has ${value.length} bytes, expected ${n}`);
  };
  switch (oid) {
    case Oid.bool: need(1); prepared.bindBoolean(index, value[0] !== 0); return;
    case Oid.int2: need(2); prepared.bindSmallInt(index, value.readInt16BE(0)); return;
    case Oid.int4: need(4); prepared.bindInteger(index, value.readInt32BE(0)); return;
    case Oid.oid: need(4); prepared.bindUInteger(index, value.readUInt32BE(0)); return;
    case Oid.int8: need(8); prepared.bindBigInt(index, value.readBigInt64BE(0)); return;
    case Oid.float4: need(4); prepared.bindFloat(index, value.readFloatBE(0)); return;
    case Oid.float8: need(8); prepared.bindDouble(index, value.readDoubleBE(0)); return;
    case Oid.bytea: prepared.bindBlob(index, new DuckDBBlobValue(new Uint8Array(value)).bytes); return;
    case Oid.date: need(4); prepared.bindDate(index, new DuckDBDateValue(dateFromBinary(value))); return;
    case Oid.timestamp: need(8); prepared.bindTimestamp(index, new DuckDBTimestampValue(timestampFromBinary(value))); return;
    case Oid.timestamptz: need(8); prepared.bindTimestampTZ(index, new DuckDBTimestampTZValue(timestampFromBinary(value))); return;
    case Oid.numeric: {
      const text = numericFromBinary(value);
      checkNumericFits(type === undefined ? parameterType(prepared, index) : type, index, text);
      prepared.bindVarchar(index, text);
      return;
    }
    case Oid.time: need(8); prepared.bindTime(index, new DuckDBTimeValue(timeFromBinary(value))); return;
    case Oid.interval: {
      need(16);
      const i = intervalFromBinary(value);
      prepared.bindInterval(index, new DuckDBIntervalValue(i.months, i.days, i.micros));
      return;
    }
    case Oid.uuid: {
      need(16);
      const h = value.toString('hex');
      prepared.bindVarchar(index, `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`);
      return;
    }
    case Oid.text:
    case Oid.varchar:
    case Oid.json:
    case Oid.unknown:
    case 0:
      prepared.bindVarchar(index, value.toString('utf8'));
      return;
    case Oid.jsonb:
      prepared.bindVarchar(index, value.subarray(1).toString('utf8'));
      return;
    default: {
      const text = ELEMENT_OF_ARRAY[oid] !== undefined ? arrayTextFromBinary(value) : null;
      if (text === null) {
        throw new SqlError('0A000', `binary format is not supported for parameter $${index} of type oid ${oid}`,
          'send this parameter in text format');
      }
      bindText(prepared, index, oid, text, type === undefined ? parameterType(prepared, index) : type);
      return;
    }
  }
}

/** A number bound where the statement takes an unconstrained numeric (pg/numeric.ts) must fit it exactly, not be rounded. */
function checkNumericFits(type: DuckDBType | null, index: number, text: string): void {
  if (type?.typeId !== DuckDBTypeId.DECIMAL) return;
  const d = type as DuckDBDecimalType;
  if (!isUnconstrained(d.width, d.scale)) return;
  exactNumeric(text, `parameter $${index}`);
}

type TextKind = 'bytea' | 'bool' | 'interval' | 'date' | 'timestamp' | 'timestamptz' | 'real' | 'double' | 'smallint' | 'integer' | 'bigint' | 'other';

const ELEMENT_OF_ARRAY: Readonly<Record<number, number>> = Object.fromEntries(Object.entries(ArrayOidOf).map(([e, a]) => [a, Number(e)]));

const KIND_OF_OID: Readonly<Record<number, TextKind>> = {
  [Oid.bytea]: 'bytea', [Oid.bool]: 'bool', [Oid.interval]: 'interval', [Oid.date]: 'date', [Oid.timestamp]: 'timestamp', [Oid.timestamptz]: 'timestamptz',
  [Oid.float4]: 'real', [Oid.float8]: 'double', [Oid.int2]: 'smallint', [Oid.int4]: 'integer', [Oid.int8]: 'bigint',
};
const KIND_OF_TYPE: Partial<Record<DuckDBTypeId, TextKind>> = {
  [DuckDBTypeId.BLOB]: 'bytea', [DuckDBTypeId.BOOLEAN]: 'bool', [DuckDBTypeId.INTERVAL]: 'interval', [DuckDBTypeId.DATE]: 'date',
  [DuckDBTypeId.TIMESTAMP]: 'timestamp', [DuckDBTypeId.TIMESTAMP_S]: 'timestamp', [DuckDBTypeId.TIMESTAMP_MS]: 'timestamp',
  [DuckDBTypeId.TIMESTAMP_NS]: 'timestamp', [DuckDBTypeId.TIMESTAMP_TZ]: 'timestamptz', ...NUMBER_KIND_OF_TYPE,
};
const kindOfOid = (oid: number): TextKind => KIND_OF_OID[oid] ?? 'other';
const kindOfType = (type: DuckDBType): TextKind => KIND_OF_TYPE[type.typeId] ?? 'other';

/** What a text parameter is read as: the type DuckDB inferred for it, else the type the client declared. */
function textTarget(inferred: DuckDBType | null, oid: number): { kind: TextKind; arrayDepth: number } {
  let type = inferred;
  if (!type) {
    const element = ELEMENT_OF_ARRAY[oid];
    return element !== undefined ? { kind: kindOfOid(element), arrayDepth: 1 } : { kind: kindOfOid(oid), arrayDepth: 0 };
  }
  let arrayDepth = 0;
  while (type.typeId === DuckDBTypeId.LIST || type.typeId === DuckDBTypeId.ARRAY) {
    arrayDepth++;
    type = (type as { valueType: DuckDBType }).valueType;
  }
  return { kind: kindOfType(type), arrayDepth };
}

function scalarFromText(kind: TextKind, text: string): DuckDBValue {
  switch (kind) {
    case 'bytea': return new DuckDBBlobValue(byteaFromPgText(text));
    case 'bool': return boolFromPgText(text);
    case 'interval': {
      const i = intervalFromPgText(text);
      return new DuckDBIntervalValue(i.months, i.days, i.micros);
    }
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

/**
 * Text parameters are read as Postgres reads their type's text form (bytea hex and escape forms,
 * array literals, intervals, booleans) where DuckDB's cast from VARCHAR would read them otherwise;
 * the rest are bound as VARCHAR and cast by DuckDB to the type the statement needs.
 */
function bindText(prepared: DuckDBPreparedStatement, index: number, oid: number, text: string, type: DuckDBType | null): void {
  const { kind, arrayDepth } = textTarget(type, oid);
  if (arrayDepth > 0 && !text.trimStart().startsWith('[')) {
    const element = kind === 'bytea' ? BLOB : kind === 'bool' ? BOOLEAN : kind === 'interval' ? INTERVAL : VARCHAR;
    const convert = (a: PgArray): DuckDBValue[] => a.map((x) => (x === null ? null : Array.isArray(x) ? listValue(convert(x)) : scalarFromText(kind, x)));
    const parsed = arrayFromPgText(text);
    if (depthOf(parsed) > arrayDepth) {
      throw new SqlError('22P02', `parameter $${index} is an array of ${depthOf(parsed)} dimensions where the statement takes ${arrayDepth}`,
        `cast the parameter to as many dimensions, e.g. $${index}::int${'[]'.repeat(depthOf(parsed))}`);
    }
    let listType = LIST(element);
    for (let d = 1; d < depthOf(parsed); d++) listType = LIST(listType);
    prepared.bindList(index, convert(parsed), listType);
    return;
  }
  const v = scalarFromText(kind, text);
  if (typeof v === 'string') prepared.bindVarchar(index, v);
  else if (v instanceof DuckDBBlobValue) prepared.bindBlob(index, v.bytes);
  else if (v instanceof DuckDBIntervalValue) prepared.bindInterval(index, v);
  else prepared.bindBoolean(index, v as boolean);
}

function depthOf(a: PgArray): number {
  return a.length && Array.isArray(a[0]) ? 1 + depthOf(a[0]) : 1;
}

/** The DuckDB type of parameter i, or null when DuckDB could not infer one. */
export function parameterType(prepared: DuckDBPreparedStatement, index: number): DuckDBType | null {
  try {
    const t = prepared.parameterType(index);
    return t.typeId === DuckDBTypeId.ANY ? null : t;
  } catch {
    return null;
  }
}
