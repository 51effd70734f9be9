import type { DuckDBConnection } from '@duckdb/node-api';
import { SqlError } from '../errors/sql-error.js';
import { dropList, type DropList } from '../sqltext/drop-list.js';

/** The catalog query that finds an object of each kind DROP names, by schema and name. */
const LOOKUP: Readonly<Record<string, string>> = {
  table: 'SELECT 1 FROM duckdb_tables() WHERE schema_name = $1 AND table_name = $2',
  view: 'SELECT 1 FROM duckdb_views() WHERE NOT internal AND schema_name = $1 AND view_name = $2',
  index: 'SELECT 1 FROM duckdb_indexes() WHERE schema_name = $1 AND index_name = $2',
  sequence: 'SELECT 1 FROM duckdb_sequences() WHERE schema_name = $1 AND sequence_name = $2',
  type: 'SELECT 1 FROM duckdb_types() WHERE NOT internal AND schema_name = $1 AND type_name = $2',
  function: 'SELECT 1 FROM duckdb_functions() WHERE schema_name = $1 AND function_name = $2',
  macro: 'SELECT 1 FROM duckdb_functions() WHERE schema_name = $1 AND function_name = $2',
};

/** The SQLSTATE Postgres reports for a DROP (without IF EXISTS) of a missing object of each kind. */
const MISSING_CODE: Readonly<Record<string, string>> = {
  table: '42P01', view: '42P01', sequence: '42P01', index: '42704', type: '42704', function: '42883', macro: '42883', schema: '3F000',
};

/**
 * An object a DROP names that does not exist: the NOTICE IF EXISTS sends for it, and the error
 * otherwise; or (`wrongKind`) a relation of another kind by that name, an error with IF EXISTS too.
 */
export interface MissingObject {
  notice: string;
  error: SqlError;
  wrongKind?: boolean;
}

/** Tables, views, sequences and indexes share one namespace in Postgres: DROP TABLE of a view is an error, not a missing table. */
const RELATION_KINDS = ['table', 'view', 'sequence', 'index'] as const;

/**
 * The NOTICEs Postgres sends for `DROP <kind> IF EXISTS a, b` naming objects that do not exist
 * (`table "a" does not exist, skipping`; for a schema that does not exist, that schema), found
 * before DuckDB drops the rest.
 */
export async function dropIfExistsNotices(conn: DuckDBConnection, sql: string): Promise<string[]> {
  const list = dropList(sql);
  return list?.ifExists ? (await missingObjects(conn, list)).filter((m) => !m.wrongKind).map((m) => m.notice) : [];
}

/**
 * The objects of a DROP that do not exist, in the order it names them, as Postgres words them.
 * Unqualified names are looked up along the session's search path.
 */
export async function missingObjects(conn: DuckDBConnection, list: DropList): Promise<MissingObject[]> {
  const { kind } = list;
  const lookup = LOOKUP[kind];
  if (kind !== 'schema' && !lookup) return [];
  const path = (await conn.runAndReadAll("SELECT current_setting('search_path'), current_schema()")).getRows()[0]!.map(String);
  const searched = [...path[0]!.split(',').map((s) => s.trim().replace(/^"(.*)"$/, '$1')).filter(Boolean), path[1]!];
  const missing: MissingObject[] = [];
  const schemaMissing = (schema: string): MissingObject => ({
    notice: `schema "${schema}" does not exist, skipping`,
    error: new SqlError('3F000', `schema "${schema}" does not exist`),
  });
  for (const { schema, name } of list.items) {
    if (kind === 'schema') {
      if (!(await exists(conn, SCHEMA, [name]))) missing.push(schemaMissing(name));
      continue;
    }
    if (schema !== null && !(await exists(conn, SCHEMA, [schema]))) {
      missing.push(schemaMissing(schema));
      continue;
    }
    const schemas = schema === null ? searched : [schema];
    if (await existsIn(conn, lookup!, schemas, name)) continue;
    const other = (RELATION_KINDS as readonly string[]).includes(kind) ? await otherRelationKind(conn, kind, schemas, name) : null;
    if (other) {
      const error = new SqlError('42809', `"${name}" is not a${kind === 'index' ? 'n' : ''} ${kind}`, `Use DROP ${other.toUpperCase()} to remove a${other === 'index' ? 'n' : ''} ${other}.`);
      missing.push({ notice: error.message, error, wrongKind: true });
      continue;
    }
    const isFunction = kind === 'function' || kind === 'macro';
    missing.push({
      notice: isFunction ? `function ${name}() does not exist, skipping` : `${kind} "${name}" does not exist, skipping`,
      error: new SqlError(MISSING_CODE[kind]!, isFunction ? `could not find a function named "${name}"` : `${kind} "${name}" does not exist`),
    });
  }
  return missing;
}

const SCHEMA = 'SELECT 1 FROM duckdb_schemas() WHERE schema_name = $1';

/** Whether `lookup` finds `name` in the first of `schemas` that holds one. */
async function existsIn(conn: DuckDBConnection, lookup: string, schemas: readonly string[], name: string): Promise<boolean> {
  for (const s of schemas) if (await exists(conn, lookup, [s, name])) return true;
  return false;
}

/** The kind of relation other than `kind` that `name` is, or null. */
async function otherRelationKind(conn: DuckDBConnection, kind: string, schemas: readonly string[], name: string): Promise<string | null> {
  for (const other of RELATION_KINDS) if (other !== kind && await existsIn(conn, LOOKUP[other]!, schemas, name)) return other;
  return null;
}

async function exists(conn: DuckDBConnection, sql: string, params: string[]): Promise<boolean> {
  return (await conn.runAndReadAll(sql, params)).currentRowCount > 0;
}
