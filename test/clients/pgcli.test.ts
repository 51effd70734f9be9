import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expectSameExcept } from './expect-same.js';
import { CLIENTS_DIR, PYTHON, runJsonClient, startServerPair, type ServerPair } from './servers.js';

// pgcli's start-up, special commands and completion (test/clients/pgcli_session.py, through
// pgcli's own modules), the same program against aiduck and PostgreSQL 15 with the same schema.

const SCRIPT = join(CLIENTS_DIR, 'pgcli_session.py');
let servers: ServerPair;
let home: string;
let postgres: Record<string, unknown>;
let aiduck: Record<string, unknown>;

beforeAll(async () => {
  servers = await startServerPair();
  home = mkdtempSync(join(tmpdir(), 'aiduck-pgcli-'));
  // pgcli keeps its configuration and history under HOME; one each so the two runs do not race.
  [postgres, aiduck] = await Promise.all([servers.postgres, servers.aiduck].map((t) =>
    runJsonClient(PYTHON, [SCRIPT], t, [], { HOME: join(home, t.name) })));
}, 60_000);
afterAll(async () => {
  await servers?.stop();
  if (home) rmSync(home, { recursive: true, force: true });
});

describe('pgcli', () => {
  it('starts up against a PostgreSQL 15 server', () => {
    expectSameExcept(postgres['startup'], aiduck['startup'], [{
      path: ['search_path'], postgres: ['pg_catalog', 'public'], aiduck: ['pg_catalog', 'main'],
      why: "aiduck's default schema is DuckDB's main; tools and dumps expect public",
    }]);
  });

  it('lists tables, views, indexes and schemas, and describes a table', () => {
    for (const command of ['\\dt shop.*', '\\dv shop.*', '\\di shop.*', '\\dn shop', '\\d shop.orders']) {
      expectSameExcept(postgres[command], aiduck[command]);
    }
    const described = (aiduck['\\d shop.orders'] as Array<{ status: string }>)[0]!.status;
    expect(described).toContain('"orders_customer_id_fkey" FOREIGN KEY (customer_id) REFERENCES shop.customers(id)');
  });

  it('fills its completions without an error', () => {
    expect(aiduck['refresh_errors']).toEqual({});
    expectSameExcept(postgres['refresh_errors'], aiduck['refresh_errors']);
  });

  it('completes tables, views, functions, columns and joins along foreign keys', () => {
    for (const key of ['complete.tables', 'complete.columns', 'complete.join', 'complete.join_condition', 'complete.functions']) {
      expectSameExcept(postgres[key], aiduck[key]);
    }
    expect(aiduck['complete.join_condition']).toEqual({ 'fk join': ['c.id = o.customer_id'] });
    expect((aiduck['complete.columns'] as { column: string[] }).column).toContain('balance');
  });
});
