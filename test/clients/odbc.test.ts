import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { expectSameExcept, withoutKeys } from './expect-same.js';
import { CLIENTS_DIR, PYTHON, runOnBoth, startServerPair, type ServerPair } from './servers.js';

// psqlODBC's catalog functions through pyodbc (test/clients/odbc_catalog.py), the same program
// against aiduck and PostgreSQL 15 with the same schema.

const SCRIPT = join(CLIENTS_DIR, 'odbc_catalog.py');
let servers: ServerPair;
let postgres: Record<string, unknown>;
let aiduck: Record<string, unknown>;

type Row = Record<string, string | number | boolean | null>;

beforeAll(async () => {
  servers = await startServerPair();
  ({ postgres, aiduck } = await runOnBoth(servers, PYTHON, [SCRIPT]));
}, 60_000);
afterAll(async () => {
  await servers?.stop();
});

/** A table's OID differs between two servers by nature. */
const call = (output: Record<string, unknown>, name: string): unknown => withoutKeys(output[name], ['table oid']);


describe('psqlODBC catalog functions', () => {
  it('SQLTables', () => {
    expectSameExcept(call(postgres, 'tables'), call(aiduck, 'tables'));
    expect((aiduck['tables'] as Row[]).map((t) => [t['table_name'], t['table_type']])).toEqual([
      ['big_orders', 'VIEW'], ['customers', 'TABLE'], ['order_items', 'TABLE'], ['orders', 'TABLE'],
    ]);
  });

  it('SQLColumns', () => {
    expectSameExcept(call(postgres, 'customers.columns'), call(aiduck, 'customers.columns'));
    expectSameExcept(call(postgres, 'order_items.columns'), call(aiduck, 'order_items.columns'));
    expectSameExcept(call(postgres, 'orders.columns'), call(aiduck, 'orders.columns'));
    const balance = (aiduck['customers.columns'] as Row[])[3]!;
    expect([balance['type_name'], balance['column_size'], balance['decimal_digits'], balance['nullable']]).toEqual(['numeric', 18, 4, 1]);
  });

  it('SQLPrimaryKeys, SQLForeignKeys both ways', () => {
    for (const table of ['customers', 'orders', 'order_items']) {
      for (const what of ['primaryKeys', 'foreignKeys', 'referencedBy']) expectSameExcept(call(postgres, `${table}.${what}`), call(aiduck, `${table}.${what}`));
    }
    expect((aiduck['order_items.primaryKeys'] as Row[]).map((k) => [k['column_name'], k['key_seq'], k['pk_name']]))
      .toEqual([['order_id', 1, 'order_items_pkey'], ['line', 2, 'order_items_pkey']]);
    expect((aiduck['customers.foreignKeys'] as Row[]).map((k) => [k['fktable_name'], k['fkcolumn_name'], k['fk_name']]))
      .toEqual([['orders', 'customer_id', 'orders_customer_id_fkey']]);
  });

  it('SQLStatistics', () => {
    // psqlODBC reads pg_index.indkey as a vector only when RowDescription types it int2vector (OID 22).
    for (const table of ['customers', 'orders', 'order_items']) {
      expectSameExcept(call(postgres, `${table}.statistics`), call(aiduck, `${table}.statistics`));
    }
    expect((postgres['orders.statistics'] as Row[]).map((s) => s['index_name'])).toEqual(['orders_pkey', 'orders_placed_on_idx']);
  });
});

describe('queries', () => {
  it('reads the same rows, with and without parameters', () => {
    expectSameExcept((postgres['select'] as { rows: unknown }).rows, (aiduck['select'] as { rows: unknown }).rows);
    expectSameExcept(postgres['parameters'], aiduck['parameters']);
  });

  it('describes result columns', () => {
    // RowDescription names the table and column a `SELECT ... FROM one_table` reads, and numeric's
    // precision and scale: psqlODBC knows nullability and numeric(18,4).
    expectSameExcept((postgres['select'] as { description: unknown }).description, (aiduck['select'] as { description: unknown }).description);
  });
});
