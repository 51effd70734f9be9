import {
  DuckDBArrayValue, DuckDBBlobValue, DuckDBListValue, DuckDBMapValue, DuckDBStructValue, DuckDBUnionValue,
  DuckDBDecimalValue, type DuckDBValue,
} from '@duckdb/node-api';

/** JSON text of a DuckDB value: how structs, maps and unions travel to Postgres clients (as the json type). */
export function toJsonText(v: DuckDBValue): string {
  return JSON.stringify(toJsonValue(v));
}

type JsonValue = null | boolean | number | string | JsonValue[] | { [k: string]: JsonValue };

function toJsonValue(v: DuckDBValue): JsonValue {
  if (v === null) return null;
  switch (typeof v) {
    case 'boolean':
    case 'string':
      return v;
    case 'number':
      return Number.isFinite(v) ? v : String(v);
    case 'bigint':
      return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  }
  if (v instanceof DuckDBListValue || v instanceof DuckDBArrayValue) return v.items.map(toJsonValue);
  if (v instanceof DuckDBStructValue) {
    const out: Record<string, JsonValue> = {};
    for (const [k, x] of Object.entries(v.entries)) out[k] = toJsonValue(x);
    return out;
  }
  if (v instanceof DuckDBMapValue) {
    const out: Record<string, JsonValue> = {};
    for (const e of v.entries) out[e.key === null ? 'null' : String(textOfKey(e.key))] = toJsonValue(e.value);
    return out;
  }
  if (v instanceof DuckDBUnionValue) return toJsonValue(v.value);
  if (v instanceof DuckDBDecimalValue) return Number(v.toString());
  if (v instanceof DuckDBBlobValue) return '\\x' + Buffer.from(v.bytes).toString('hex');
  return String(v);
}

function textOfKey(k: DuckDBValue): string {
  return typeof k === 'string' ? k : toJsonText(k);
}
