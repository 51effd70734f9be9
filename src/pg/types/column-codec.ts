import {
  DuckDBArrayType, DuckDBBlobValue, DuckDBDateValue, DuckDBIntervalValue, DuckDBListType, DuckDBTimeValue,
  DuckDBTimestampTZValue, DuckDBTimestampValue, DuckDBTypeId, type DuckDBType, type DuckDBValue,
  DuckDBArrayValue, DuckDBListValue, type DuckDBDecimalType, type DuckDBStructType, type DuckDBStructValue,
} from '@duckdb/node-api';
import { SqlError } from '../../errors/sql-error.js';
import { isUnconstrained, trimDecimal } from '../numeric.js';
import { ArrayOidOf, Oid, TypeSize } from './oids.js';
import { arrayText, byteaText, dateText, intervalText, scalarText, timestampText } from './text-format.js';
import { toJsonText } from './json-value.js';
import { timestamptzText } from './time-zone.js';
import * as bin from './binary-format.js';

type TextEncoder = (v: DuckDBValue) => string;
type BinaryEncoder = (v: DuckDBValue) => Buffer;

/** How one result column goes over the wire: its Postgres type and its text and binary encoders. */
export interface ColumnCodec {
  oid: number;
  typeSize: number;
  typeModifier: number;
  text: TextEncoder;
  /** Absent where aiduck has no binary form for the type; a client asking for one gets 0A000. */
  binary?: BinaryEncoder;
}

const FLOAT4_MIN_NORMAL = 2 ** -126;

/**
 * Shortest text that reads back as the same float4, as Postgres prints it. For a normal float,
 * rounding to 6 digits and dropping trailing zeros already gives any shorter form, so the search
 * starts there (a float4 needs at most 9); subnormals search from 1.
 */
function float4Text(v: DuckDBValue): string {
  const x = v as number;
  if (!Number.isFinite(x) || x === 0) return float8Text(x);
  for (let p = Math.abs(x) >= FLOAT4_MIN_NORMAL ? 6 : 1; p < 10; p++) {
    const s = x.toPrecision(p);
    if (Math.fround(Number(s)) === x) return String(Number(s));
  }
  return String(x);
}

/** A float8 as text; negative zero keeps its sign, as Postgres prints it ("-0"). */
function float8Text(v: DuckDBValue): string {
  return Object.is(v, -0) ? '-0' : String(v);
}

const str: TextEncoder = (v) => v as string;
const any: TextEncoder = (v) => String(v);
const utf8: BinaryEncoder = (v) => Buffer.from(String(v));

interface Scalar { oid: number; text: TextEncoder; binary?: BinaryEncoder }

function scalarOf(type: DuckDBType, zone: string): Scalar {
  switch (type.typeId) {
    case DuckDBTypeId.BOOLEAN:
      return { oid: Oid.bool, text: (v) => (v ? 't' : 'f'), binary: (v) => bin.binaryBool(v as boolean) };
    case DuckDBTypeId.TINYINT:
    case DuckDBTypeId.SMALLINT:
    case DuckDBTypeId.UTINYINT:
      return { oid: Oid.int2, text: any, binary: (v) => bin.binaryInt2(v as number) };
    case DuckDBTypeId.INTEGER:
    case DuckDBTypeId.USMALLINT:
      return { oid: Oid.int4, text: any, binary: (v) => bin.binaryInt4(v as number) };
    case DuckDBTypeId.BIGINT:
    case DuckDBTypeId.UINTEGER:
      return { oid: Oid.int8, text: any, binary: (v) => bin.binaryInt8(BigInt(v as number | bigint)) };
    case DuckDBTypeId.UBIGINT:
    case DuckDBTypeId.HUGEINT:
    case DuckDBTypeId.UHUGEINT:
    case DuckDBTypeId.BIGNUM:
    case DuckDBTypeId.DECIMAL: {
      const d = type as DuckDBDecimalType;
      // aiduck's unconstrained numeric prints as Postgres' numeric does, without its fixed scale's zeros.
      if (isUnconstrained(d.width, d.scale)) return { oid: Oid.numeric, text: (v) => trimDecimal(String(v)), binary: (v) => bin.binaryNumeric(trimDecimal(String(v))) };
      return { oid: Oid.numeric, text: any, binary: (v) => bin.binaryNumeric(String(v)) };
    }
    case DuckDBTypeId.FLOAT:
      return { oid: Oid.float4, text: float4Text, binary: (v) => bin.binaryFloat4(v as number) };
    case DuckDBTypeId.DOUBLE:
      return { oid: Oid.float8, text: float8Text, binary: (v) => bin.binaryFloat8(v as number) };
    case DuckDBTypeId.VARCHAR:
      return type.alias === 'JSON'
        ? { oid: Oid.json, text: str, binary: utf8 }
        : { oid: Oid.text, text: str, binary: utf8 };
    case DuckDBTypeId.ENUM:
      return { oid: Oid.text, text: str, binary: utf8 };
    case DuckDBTypeId.BLOB:
      return {
        oid: Oid.bytea,
        text: (v) => byteaText((v as DuckDBBlobValue).bytes),
        binary: (v) => Buffer.from((v as DuckDBBlobValue).bytes),
      };
    case DuckDBTypeId.DATE:
      return { oid: Oid.date, text: dateText, binary: (v) => bin.binaryDate((v as DuckDBDateValue).days) };
    case DuckDBTypeId.TIME:
      return { oid: Oid.time, text: any, binary: (v) => bin.binaryInt8((v as DuckDBTimeValue).micros) };
    case DuckDBTypeId.TIME_NS:
      return { oid: Oid.time, text: any };
    case DuckDBTypeId.TIME_TZ:
      return { oid: Oid.timetz, text: any };
    case DuckDBTypeId.TIMESTAMP:
      return { oid: Oid.timestamp, text: timestampText, binary: (v) => bin.binaryTimestamp((v as DuckDBTimestampValue).micros) };
    case DuckDBTypeId.TIMESTAMP_S:
    case DuckDBTypeId.TIMESTAMP_MS:
    case DuckDBTypeId.TIMESTAMP_NS:
      return { oid: Oid.timestamp, text: timestampText };
    case DuckDBTypeId.TIMESTAMP_TZ:
      return {
        oid: Oid.timestamptz, text: zone === 'UTC' ? timestampText : (v) => timestamptzText(v as DuckDBTimestampTZValue, zone),
        binary: (v) => bin.binaryTimestamp((v as DuckDBTimestampTZValue).micros),
      };
    case DuckDBTypeId.INTERVAL:
      return {
        oid: Oid.interval,
        text: (v) => intervalText(v as DuckDBIntervalValue),
        binary: (v) => { const i = v as DuckDBIntervalValue; return bin.binaryInterval(i.months, i.days, i.micros); },
      };
    case DuckDBTypeId.UUID:
      return { oid: Oid.uuid, text: any, binary: (v) => bin.binaryUuid(String(v)) };
    case DuckDBTypeId.BIT:
      return { oid: Oid.varbit, text: any };
    case DuckDBTypeId.STRUCT:
      if (isInt2VectorMarker(type)) return { oid: Oid.int2vector, text: (v) => int2VectorText(v) };
      return { oid: Oid.json, text: toJsonText, binary: (v) => Buffer.from(toJsonText(v)) };
    case DuckDBTypeId.MAP:
    case DuckDBTypeId.UNION:
    case DuckDBTypeId.VARIANT:
      return { oid: Oid.json, text: toJsonText, binary: (v) => Buffer.from(toJsonText(v)) };
    case DuckDBTypeId.SQLNULL:
      return { oid: Oid.text, text: scalarText };
    default:
      return { oid: Oid.text, text: scalarText };
  }
}

function isListLike(type: DuckDBType): type is DuckDBListType | DuckDBArrayType {
  return type.typeId === DuckDBTypeId.LIST || type.typeId === DuckDBTypeId.ARRAY;
}

/** The innermost element type of nested lists; Postgres arrays are typed by it. */
function innermost(type: DuckDBListType | DuckDBArrayType): DuckDBType {
  let t: DuckDBType = type.valueType;
  while (isListLike(t)) t = t.valueType;
  return t;
}

/** How values of a DuckDB type go to a client; timestamptz text at the session's TimeZone (`zone`). */
export function columnCodec(type: DuckDBType, zone = 'UTC'): ColumnCodec {
  if (isListLike(type)) {
    const inner = innermost(type);
    const element = scalarOf(inner, zone);
    const arrayOid = ArrayOidOf[element.oid] ?? 1009;
    const nested = isListLike(type.valueType);
    const codec: ColumnCodec = {
      oid: arrayOid,
      typeSize: -1,
      typeModifier: typeModifierOf(inner),
      text: (v) => arrayText(v as DuckDBListValue | DuckDBArrayValue, element.text),
    };
    const enc = element.binary;
    if (enc && !nested && ArrayOidOf[element.oid]) {
      codec.binary = (v) =>
        bin.binaryArray(element.oid, (v as DuckDBListValue).items.map((x) => (x === null ? null : enc(x))));
    }
    return codec;
  }
  const s = scalarOf(type, zone);
  return {
    oid: s.oid,
    typeSize: TypeSize[s.oid] ?? -1,
    typeModifier: typeModifierOf(type),
    text: s.text,
    ...(s.binary ? { binary: s.binary } : {}),
  };
}

/**
 * `{aiduck_int2vector: [1, 2]}`: how the Postgres catalog (sql/pg-catalog.sql, aiduck_int2vector_out)
 * marks pg_index.indkey selected as it is, to go out as Postgres' int2vector (OID 22, `1 2`) — the
 * only type psqlODBC's SQLStatistics reads it as.
 */
function isInt2VectorMarker(type: DuckDBType): boolean {
  const s = type as DuckDBStructType;
  return s.entryCount === 1 && s.entryNames[0] === 'aiduck_int2vector';
}

function int2VectorText(v: DuckDBValue): string {
  const items = (v as DuckDBStructValue).entries['aiduck_int2vector'] as DuckDBListValue | null;
  return items ? items.items.map(String).join(' ') : '';
}

/** Postgres' type modifier: numeric(p,s) is ((p << 16) | s) + 4; the other types DuckDB keeps carry none. */
function typeModifierOf(type: DuckDBType): number {
  if (type.typeId !== DuckDBTypeId.DECIMAL) return -1;
  const d = type as DuckDBDecimalType;
  return isUnconstrained(d.width, d.scale) ? -1 : ((d.width << 16) | d.scale) + 4;
}

export function requireBinary(codec: ColumnCodec, column: string): BinaryEncoder {
  if (!codec.binary) {
    throw new SqlError('0A000', `binary result format is not supported for column "${column}" (type oid ${codec.oid})`,
      'request text format for this column');
  }
  return codec.binary;
}
