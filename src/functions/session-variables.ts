import type { DuckDBConnection } from '@duckdb/node-api';
import { sqlString } from '../sqltext/quote.js';

/** Sets a DuckDB session variable (read back with getvariable). */
export async function setVariable(conn: DuckDBConnection, name: string, value: string | number): Promise<void> {
  await conn.run(`SET VARIABLE ${name} = ${typeof value === 'number' ? value : sqlString(value)}`);
}
