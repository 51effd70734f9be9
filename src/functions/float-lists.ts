import duckdb from '@duckdb/node-bindings';
import { listValue, type DuckDBVector } from '@duckdb/node-api';

/**
 * Writes one FLOAT[] per row (null for NULL) into a DuckDB LIST(FLOAT) output vector. The vectors
 * go in as one block of memory: @duckdb/node-api's setItem path boxes every float as a JS value,
 * which for 2,048 embeddings of a few hundred dimensions holds the engine thread for tens of
 * milliseconds a chunk. Falls back to that path if the vector's handle is not where it is expected.
 */
export function writeFloatLists(output: DuckDBVector, rows: Array<Float32Array | null>): void {
  const vector = (output as unknown as { vector?: duckdb.Vector }).vector;
  if (!vector) {
    rows.forEach((v, i) => output.setItem(i, v === null ? null : (listValue(Array.from(v)) as never)));
    output.flush();
    return;
  }
  let total = 0;
  for (const v of rows) total += v?.length ?? 0;
  const entries = new BigUint64Array(rows.length * 2);
  const flat = new Float32Array(total);
  const validity = new BigUint64Array(Math.ceil(rows.length / 64)).fill(0xffffffffffffffffn);
  let offset = 0;
  rows.forEach((v, i) => {
    entries[i * 2] = BigInt(offset);
    if (v === null) {
      validity[i >> 6]! &= ~(1n << BigInt(i & 63));
      return;
    }
    entries[i * 2 + 1] = BigInt(v.length);
    flat.set(v, offset);
    offset += v.length;
  });
  duckdb.list_vector_reserve(vector, total);
  duckdb.list_vector_set_size(vector, total);
  const child = duckdb.list_vector_get_child(vector);
  if (total > 0) duckdb.copy_data_to_vector(child, 0, flat.buffer, 0, flat.byteLength);
  duckdb.copy_data_to_vector(vector, 0, entries.buffer, 0, entries.byteLength);
  duckdb.vector_ensure_validity_writable(vector);
  duckdb.copy_data_to_vector_validity(vector, 0, validity.buffer, 0, validity.byteLength);
}
