import { DuckDBScalarFunction, VARCHAR, type DuckDBConnection } from '@duckdb/node-api';
import { toDuckDBText } from '../../errors/wire.js';
import { exactNumeric } from '../../pg/numeric.js';
import { duckListText } from './format.js';

/**
 * Scalar functions the load of a csv COPY FROM STDIN calls on a column's text, where DuckDB's own
 * cast would store another value than Postgres: `__pg_array_text` reads Postgres' array text (an
 * element may hold braces, commas or quotes) as DuckDB's list text, and `__pg_numeric_exact`
 * refuses with 22003 a value an unconstrained numeric column would round. (Text-format data is
 * rewritten the same way in JS as it is staged; csv's quoting is left to DuckDB's reader.)
 */
export function registerCopyTextFunctions(conn: DuckDBConnection): void {
  for (const [name, convert] of [['__pg_array_text', duckListText], ['__pg_numeric_exact', exactNumeric]] as const) {
    conn.registerScalarFunction(DuckDBScalarFunction.create({
      name,
      parameterTypes: [VARCHAR],
      returnType: VARCHAR,
      mainFunction: (info, input, output) => {
        try {
          const v = input.getColumnVector(0);
          for (let i = 0; i < input.rowCount; i++) {
            const text = v.getItem(i) as string | null;
            output.setItem(i, text === null ? null : convert(text));
          }
          output.flush();
        } catch (err) {
          info.setError(toDuckDBText(err));
        }
      },
    }));
  }
}
