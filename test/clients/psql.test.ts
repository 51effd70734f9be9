import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectSameExcept } from './expect-same.js';
import { psql, startServerPair, type ServerPair, type Target } from './servers.js';

// psql's describe commands (\d+, \df+, \sf, \dt, \di, \dv, \dn) against aiduck and PostgreSQL 15
// with the same schema, compared line by line in unaligned output.

let servers: ServerPair;

beforeAll(async () => {
  servers = await startServerPair();
}, 60_000);
afterAll(async () => {
  await servers?.stop();
});

async function lines(target: Target, command: string): Promise<string[]> {
  const r = await psql(target, ['-A', '-v', 'ON_ERROR_STOP=1', '-c', command]);
  expect(r.stderr, `${command} on ${target.name}`).toBe('');
  expect(r.status, `${command} on ${target.name}`).toBe(0);
  return r.stdout.trimEnd().split('\n');
}

async function both(command: string): Promise<{ postgres: string[]; aiduck: string[] }> {
  const [postgres, aiduck] = await Promise.all([lines(servers.postgres, command), lines(servers.aiduck, command)]);
  return { postgres, aiduck };
}

describe('psql \\d+', () => {
  it('a table with a primary key, a unique constraint, a comment and a foreign key referencing it', async () => {
    const { postgres, aiduck } = await both('\\d+ shop.customers');
    expectSameExcept(postgres, aiduck);
    expect(aiduck.slice(10)).toEqual([
      'Indexes:',
      '    "customers_pkey" PRIMARY KEY, btree (id)',
      '    "customers_email_key" UNIQUE CONSTRAINT, btree (email)',
      'Referenced by:',
      '    TABLE "shop.orders" CONSTRAINT "orders_customer_id_fkey" FOREIGN KEY (customer_id) REFERENCES shop.customers(id)',
      'Access method: heap',
    ]);
    expect(aiduck[6]).toBe('active|boolean|||true|plain|||');
  });

  it('a table with a foreign key, an index and a reference to it', async () => {
    const { postgres, aiduck } = await both('\\d+ shop.orders');
    expectSameExcept(postgres, aiduck);
    expect(aiduck).toContain('    "orders_placed_on_idx" btree (placed_on)');
    expect(aiduck).toContain('    "orders_customer_id_fkey" FOREIGN KEY (customer_id) REFERENCES shop.customers(id)');
  });

  it('a table with a composite primary key and a check constraint', async () => {
    const { postgres, aiduck } = await both('\\d+ shop.order_items');
    expectSameExcept(postgres, aiduck);
    expect(aiduck).toContain('    "order_items_pkey" PRIMARY KEY, btree (order_id, line)');
    expect(aiduck).toContain('    "order_items_qty_check" CHECK (qty > 0)');
  });

  it('a view', async () => {
    const { postgres, aiduck } = await both('\\d+ shop.big_orders');
    expectSameExcept(postgres, aiduck, [
      { path: [5], postgres: ' SELECT orders.id,', aiduck: 'SELECT id, total FROM shop.orders WHERE (total > 100);',
        why: 'the view definition is the SQL DuckDB keeps, not a Postgres deparse' },
      ...['    orders.total', '   FROM shop.orders', '  WHERE orders.total > 100::numeric;'].map((line, i) => ({
        path: [6 + i], postgres: line, aiduck: undefined, why: 'the view definition is the SQL DuckDB keeps, not a Postgres deparse',
      })),
    ]);
  });
});

describe('psql lists', () => {
  it('\\dt, \\di, \\dv, \\dn', async () => {
    for (const command of ['\\dt shop.*', '\\di shop.*', '\\dv shop.*', '\\dn shop']) {
      const { postgres, aiduck } = await both(command);
      expectSameExcept(postgres, aiduck);
    }
    expect((await lines(servers.aiduck, '\\di shop.*')).slice(2, -1)).toEqual([
      'shop|customers_email_key|index|aiduck|customers', 'shop|customers_pkey|index|aiduck|customers',
      'shop|order_items_pkey|index|aiduck|order_items', 'shop|orders_pkey|index|aiduck|orders',
      'shop|orders_placed_on_idx|index|aiduck|orders',
    ]);
  });
});

describe('psql functions', () => {
  it('\\df+ lists the function with its language, owner and comment', async () => {
    const { postgres, aiduck } = await both('\\df+ shop.*');
    // A DuckDB macro declares no types and its body is an expression, not a query.
    expectSameExcept(postgres, aiduck, [{
      path: [2], postgres: 'shop|add_tax|numeric|price numeric, rate numeric|func|volatile|unsafe|aiduck|invoker||sql| SELECT price * (1 + rate) |Price with tax',
      aiduck: 'shop|add_tax|"any"|price "any", rate "any"|func|volatile|unsafe|aiduck|invoker||sql|(price * (1 + rate))|Price with tax',
      why: 'a macro has untyped parameters and an expression for a body',
    }]);
  });

  it('\\sf prints a definition that recreates the function', async () => {
    for (const target of [servers.postgres, servers.aiduck]) {
      const definition = (await lines(target, '\\sf shop.add_tax')).join('\n');
      expect(definition).toMatch(/^CREATE OR REPLACE (FUNCTION|MACRO) shop\.add_tax\(price/);
      const replay = await psql(target, ['-v', 'ON_ERROR_STOP=1', '-q'], `${definition};\n`);
      expect(replay.stderr, target.name).toBe('');
      expect((await lines(target, 'SELECT shop.add_tax(100, 0.2) AS taxed')).slice(0, 2)).toEqual(['taxed', '120.0']);
    }
    expect(await lines(servers.aiduck, '\\sf shop.add_tax')).toEqual(['CREATE OR REPLACE MACRO shop.add_tax(price, rate) AS (price * (1 + rate))']);
  });
});
