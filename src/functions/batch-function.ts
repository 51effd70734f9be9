import { DuckDBScalarFunction, type DuckDBConnection, type DuckDBDataChunk, type DuckDBScalarFunctionInfo, type DuckDBType, type DuckDBVector } from '@duckdb/node-api';
import { toDuckDBText } from '../errors/wire.js';
import type { AiContext, Caller } from './context.js';

/** A scalar SQL function that sees whole DuckDB chunks (2,048 rows) and the session calling it. */
export interface BatchFunction {
  name: string;
  parameterTypes: DuckDBType[];
  returnType: DuckDBType;
  /** Reads the chunk's columns and writes one value per row into `output`. */
  run(input: DuckDBDataChunk, output: DuckDBVector, caller: Caller): void;
}

/** Registers a batch function; NULL handling is the function's own (special handling). */
export function registerBatchFunction(conn: DuckDBConnection, ai: AiContext, fn: BatchFunction): void {
  conn.registerScalarFunction(DuckDBScalarFunction.create({
    name: fn.name,
    parameterTypes: fn.parameterTypes,
    returnType: fn.returnType,
    specialHandling: true,
    volatile: true,
    bindFunction: (info) => info.setBindData({ connectionId: info.clientContext.connectionId }),
    mainFunction: (info: DuckDBScalarFunctionInfo, input, output) => {
      try {
        const { connectionId } = info.bindData as { connectionId: number };
        fn.run(input, output, ai.caller(connectionId));
      } catch (err) {
        info.setError(toDuckDBText(err));
      }
    },
  }));
}

/** Column `index` of a chunk as JS values (strings, numbers, booleans, lists, or null). */
export function columnValues(input: DuckDBDataChunk, index: number): unknown[] {
  const v = input.getColumnVector(index);
  const out = new Array<unknown>(input.rowCount);
  for (let i = 0; i < input.rowCount; i++) out[i] = v.getItem(i);
  return out;
}
