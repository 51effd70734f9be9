import {
  DuckDBBlobValue, DuckDBDateValue, DuckDBTimestampTZValue, DuckDBTimestampValue, DuckDBTypeId,
  type DuckDBPreparedStatement, type DuckDBType,
} from '@duckdb/node-api';
import { SqlError } from '../protocol/errors.js';
import { Oid } from '../types/oids.js';
import { dateFromBinary, numericFromBinary, timestampFromBinary } from '../types/binary-format.js';

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
  [Oid.numeric]: 'DECIMAL(38,10)',
  [Oid.date]: 'DATE',
  [Oid.time]: 'TIME',
  [Oid.timestamp]: 'TIMESTAMP',
  [Oid.timestamptz]: 'TIMESTAMPTZ',
  [Oid.interval]: 'INTERVAL',
  [Oid.uuid]: 'UUID',
};

/** Binds one parameter received in Bind, decoding the binary formats of the common types. */
export function bindParameter(
  prepared: DuckDBPreparedStatement,
  index: number,
  oid: number,
  format: number,
  value: Buffer | null,
): void {
  if (value === null) {
    prepared.bindNull(index);
    return;
  }
  if (format === 0) {
    bindText(prepared, index, value.toString('utf8'));
    return;
  }
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
    case Oid.numeric: bindText(prepared, index, numericFromBinary(value)); return;
    case Oid.uuid: {
      need(16);
      const h = value.toString('hex');
      bindText(prepared, index, `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`);
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
    default:
      throw new SqlError('0A000', `binary format is not supported for parameter $${index} of type oid ${oid}`,
        'send this parameter in text format');
  }
}

/** Text parameters are bound as VARCHAR and cast by DuckDB to the type the statement needs. */
function bindText(prepared: DuckDBPreparedStatement, index: number, text: string): void {
  prepared.bindVarchar(index, text);
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
