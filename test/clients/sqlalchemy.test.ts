import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { expectSameExcept } from './expect-same.js';
import { CLIENTS_DIR, PYTHON, runJsonClient, startServerPair, type ServerPair } from './servers.js';

// SQLAlchemy's Inspector and pandas' read_sql_table / to_sql (test/clients/sqlalchemy_reflect.py),
// the same program against aiduck and PostgreSQL 15 with the same schema.

const SCRIPT = join(CLIENTS_DIR, 'sqlalchemy_reflect.py');
let servers: ServerPair;
let postgres: Record<string, unknown>;
let aiduck: Record<string, unknown>;

beforeAll(async () => {
  servers = await startServerPair();
  [postgres, aiduck] = await Promise.all([
    runJsonClient(PYTHON, [SCRIPT], servers.postgres),
    runJsonClient(PYTHON, [SCRIPT], servers.aiduck),
  ]);
}, 60_000);
afterAll(async () => {
  await servers?.stop();
});

describe('SQLAlchemy Inspector', () => {
  it('finds the schema, its tables and views', () => {
    for (const key of ['schemas', 'tables', 'views', 'has_table', 'default_schema.tables']) expectSameExcept(postgres[key], aiduck[key]);
    expect(aiduck['tables']).toEqual(['customers', 'order_items', 'orders']);
    expect(aiduck['views']).toEqual(['big_orders']);
  });

  it('reflects columns with the same types, precision, nullability, defaults and comments', () => {
    for (const table of ['customers', 'orders', 'order_items', 'big_orders']) {
      expectSameExcept(postgres[`${table}.columns`], aiduck[`${table}.columns`]);
    }
    expect(aiduck['customers.columns']).toContainEqual(expect.objectContaining({ name: 'balance', type: 'NUMERIC(precision=18, scale=4)' }));
    expect(aiduck['customers.columns']).toContainEqual(expect.objectContaining({ name: 'active', default: 'true' }));
    expect(aiduck['customers.columns']).toContainEqual(expect.objectContaining({ name: 'email', comment: 'Login address', nullable: false }));
  });

  it('reflects primary keys, foreign keys, indexes, unique and check constraints and comments', () => {
    for (const table of ['customers', 'orders', 'order_items']) {
      for (const what of ['pk', 'fks', 'indexes', 'unique', 'checks', 'comment']) {
        expectSameExcept(postgres[`${table}.${what}`], aiduck[`${table}.${what}`]);
      }
    }
    expect(aiduck['order_items.pk']).toEqual({ constrained_columns: ['order_id', 'line'], name: 'order_items_pkey' });
    expect(aiduck['orders.fks']).toEqual([expect.objectContaining({
      name: 'orders_customer_id_fkey', constrained_columns: ['customer_id'], referred_schema: 'shop',
      referred_table: 'customers', referred_columns: ['id'],
    })]);
    expect(aiduck['orders.indexes']).toEqual([expect.objectContaining({ name: 'orders_placed_on_idx', column_names: ['placed_on'], unique: false })]);
    expect(aiduck['order_items.checks']).toEqual([{ name: 'order_items_qty_check', sqltext: 'qty > 0' }]);
    expect(aiduck['customers.comment']).toEqual({ text: 'People who buy' });
  });

  it('reflects a view and the default schema', () => {
    expectSameExcept(postgres['big_orders.definition'], aiduck['big_orders.definition']);
    expectSameExcept(postgres['default_schema.pk'], aiduck['default_schema.pk']);
    expectSameExcept(postgres['default_schema'], aiduck['default_schema']);
  });
});

describe('pandas', () => {
  it('read_sql_table reads the same values and dtypes', () => {
    expectSameExcept(postgres['read_sql_table.customers'], aiduck['read_sql_table.customers']);
    expectSameExcept(postgres['read_sql_table.order_items'], aiduck['read_sql_table.order_items']);
    expect((aiduck['read_sql_table.customers'] as { dtypes: string[] }).dtypes).toContain('datetime64[ns, UTC]');
  });

  it('to_sql writes a frame that reads back the same, with the same column types', () => {
    expectSameExcept(postgres['to_sql'], aiduck['to_sql']);
    expectSameExcept(postgres['to_sql.replace_again'], aiduck['to_sql.replace_again']);
    expect((aiduck['to_sql'] as { written: number }).written).toBe(3);
  });

  it('to_sql of a column named at', () => {
    expectSameExcept(postgres['to_sql.column_at'], aiduck['to_sql.column_at'], [{
      path: [], postgres: 2, aiduck: { error: 'ProgrammingError: (psycopg2.errors.SyntaxError) syntax error at or near "at"' },
      why: 'AT is a reserved word in DuckDB\'s grammar but not in Postgres\'s, and SQLAlchemy quotes only Postgres\'s reserved words',
    }]);
  });
});

