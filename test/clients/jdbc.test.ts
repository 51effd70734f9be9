import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { expectSameExcept, lowerKeys, withoutKeys } from './expect-same.js';
import { CLIENTS_DIR, PGJDBC, runOnBoth, startServerPair, type ServerPair } from './servers.js';

// pgJDBC's DatabaseMetaData (as DBeaver and Metabase call it) and ResultSetMetaData
// (test/clients/JdbcMetadata.java), the same program against aiduck and PostgreSQL 15.

const PROGRAM = join(CLIENTS_DIR, 'JdbcMetadata.java');
let servers: ServerPair;
let postgres: Record<string, unknown>;
let aiduck: Record<string, unknown>;

type Row = Record<string, string | number | boolean | null>;

beforeAll(async () => {
  servers = await startServerPair();
  ({ postgres, aiduck } = await runOnBoth(servers, 'java', ['-cp', PGJDBC, PROGRAM]));
}, 60_000);
afterAll(async () => {
  await servers?.stop();
});

/** One call's rows, keys in lower case, without what differs by nature (pages on disk, OIDs in names). */
function rowsOf(output: Record<string, unknown>, call: string): unknown {
  const value = lowerKeys(output[call]);
  if (!Array.isArray(value)) return value;
  return withoutKeys(value, ['pages']).map((row) => {
    const r = row as Row;
    return typeof r['specific_name'] === 'string' ? { ...r, specific_name: r['specific_name'].replace(/_\d+$/, '_<oid>') } : r;
  });
}


describe('DatabaseMetaData', () => {
  it('getSchemas, getTables', () => {
    expectSameExcept(rowsOf(postgres, 'schemas'), rowsOf(aiduck, 'schemas'));
    expectSameExcept(rowsOf(postgres, 'tables'), rowsOf(aiduck, 'tables'));
    expect((aiduck['tables'] as Row[]).map((t) => [t['TABLE_NAME'], t['TABLE_TYPE'], t['REMARKS']])).toEqual([
      ['customers', 'TABLE', 'People who buy'], ['order_items', 'TABLE', null], ['orders', 'TABLE', null], ['big_orders', 'VIEW', null],
    ]);
  });

  it('getColumns: types, sizes, precision and scale, nullability, defaults, remarks', () => {
    expectSameExcept(rowsOf(postgres, 'customers.columns'), rowsOf(aiduck, 'customers.columns'));
    expectSameExcept(rowsOf(postgres, 'order_items.columns'), rowsOf(aiduck, 'order_items.columns'));
    expectSameExcept(rowsOf(postgres, 'orders.columns'), rowsOf(aiduck, 'orders.columns'));
    expectSameExcept(rowsOf(postgres, 'big_orders.columns'), rowsOf(aiduck, 'big_orders.columns'));
    const balance = (aiduck['customers.columns'] as Row[])[3]!;
    expect([balance['TYPE_NAME'], balance['COLUMN_SIZE'], balance['DECIMAL_DIGITS']]).toEqual(['numeric', '18', '4']);
  });

  it('getPrimaryKeys, getImportedKeys, getExportedKeys, getIndexInfo', () => {
    for (const table of ['customers', 'orders', 'order_items']) {
      for (const call of ['primaryKeys', 'importedKeys', 'exportedKeys', 'indexInfo']) {
        expectSameExcept(rowsOf(postgres, `${table}.${call}`), rowsOf(aiduck, `${table}.${call}`));
      }
    }
    expect((rowsOf(aiduck, 'order_items.primaryKeys') as Row[]).map((k) => [k['column_name'], k['key_seq'], k['pk_name']]))
      .toEqual([['order_id', '1', 'order_items_pkey'], ['line', '2', 'order_items_pkey']]);
    expect((rowsOf(aiduck, 'customers.exportedKeys') as Row[]).map((k) => [k['fktable_name'], k['fkcolumn_name'], k['fk_name'], k['pk_name']]))
      .toEqual([['orders', 'customer_id', 'orders_customer_id_fkey', 'customers_pkey']]);
    expect((rowsOf(aiduck, 'orders.indexInfo') as Row[]).map((k) => [k['index_name'], k['column_name'], k['non_unique']]))
      .toEqual([['orders_pkey', 'id', 'f'], ['orders_placed_on_idx', 'placed_on', 't']]);
  });

  it('names result columns as Postgres folds them', () => {
    // Postgres folds pgJDBC's unquoted aliases (AS TABLE_SCHEM) to lower case; DuckDB keeps them as
    // written. pgJDBC finds columns case-insensitively, but a tool that shows the labels differs.
    expectSameExcept(Object.keys((postgres['customers.primaryKeys'] as Row[])[0]!), Object.keys((aiduck['customers.primaryKeys'] as Row[])[0]!), [{
      path: [], postgres: ['table_cat', 'table_schem', 'table_name', 'column_name', 'key_seq', 'pk_name'],
      aiduck: ['TABLE_CAT', 'TABLE_SCHEM', 'TABLE_NAME', 'COLUMN_NAME', 'KEY_SEQ', 'PK_NAME'],
      why: 'DuckDB keeps the case of unquoted identifiers (its preserve_identifier_case setting); Postgres folds them to lower case',
    }]);
  });

  it('getFunctions', () => {
    expectSameExcept(rowsOf(postgres, 'functions'), rowsOf(aiduck, 'functions'));
    expect((aiduck['functions'] as Row[]).map((f) => [f['FUNCTION_NAME'], f['REMARKS'], f['FUNCTION_TYPE']])).toEqual([['add_tax', 'Price with tax', '1']]);
  });

  it('getTypeInfo lists the types aiduck has as Postgres does', () => {
    const pgTypes = new Map((rowsOf(postgres, 'typeInfo') as Row[]).map((t) => [t['type_name'], t]));
    const ours = rowsOf(aiduck, 'typeInfo') as Row[];
    for (const t of ours) expect(t, String(t['type_name'])).toEqual(pgTypes.get(t['type_name']));
    expect(ours.map((t) => t['type_name'])).toEqual(expect.arrayContaining(
      ['bool', 'bytea', 'int2', 'int4', 'int8', 'numeric', 'float4', 'float8', 'text', 'varchar', 'date', 'timestamp', 'timestamptz',
        'interval', 'uuid', 'json', 'jsonb', '_int4', '_text']));
  });
});

describe('ResultSetMetaData', () => {
  it('reports the same values', () => {
    expectSameExcept(postgres['values'], aiduck['values']);
  });

  it('describes result columns', () => {
    // RowDescription names the table and column a `SELECT ... FROM one_table` reads, and numeric's
    // precision and scale, so pgJDBC knows the table, nullability and numeric(18,4).
    expectSameExcept(postgres['resultSetMetaData'], aiduck['resultSetMetaData']);
  });
});
