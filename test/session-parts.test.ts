import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { Transaction } from '../src/session/transaction.js';
import { StatementStore, type Statement } from '../src/session/statements.js';
import { SessionOutput } from '../src/session/output.js';
import { StatementControl } from '../src/session/statement-control.js';

// The session's pieces, each on a real DuckDB connection.
let instance: DuckDBInstance;
let conn: DuckDBConnection;

beforeAll(async () => {
  instance = await DuckDBInstance.create(':memory:');
  conn = await instance.connect();
  await conn.run('CREATE TABLE t (i INTEGER)');
});
afterAll(() => {
  conn.closeSync();
  instance.closeSync();
});

const count = async (): Promise<number> => Number((await conn.runAndReadAll('SELECT count(*) FROM t')).getRows()[0]![0]);

describe('the transaction state machine', () => {
  const make = (): { tx: Transaction; warnings: string[] } => {
    const warnings: string[] = [];
    return { tx: new Transaction((sql) => conn.run(sql).then(() => undefined), (code) => warnings.push(code)), warnings };
  };

  it('keeps a block open until COMMIT, and reports T, then E after a failure, then rolls back on COMMIT', async () => {
    const { tx } = make();
    expect(await tx.begin()).toBe('BEGIN');
    expect(tx.status).toBe('T');
    await conn.run('INSERT INTO t VALUES (1)');
    tx.failed();
    expect([tx.status, tx.aborted, tx.open]).toEqual(['E', true, true]);
    expect(await tx.commit()).toBe('ROLLBACK');
    expect(tx.status).toBe('I');
    expect(await count()).toBe(0);
  });

  it('runs an implicit transaction that the client does not see, committed at its end, rolled back after a failure', async () => {
    const { tx } = make();
    await tx.beginImplicit();
    expect([tx.status, tx.open]).toEqual(['I', true]);
    await conn.run('INSERT INTO t VALUES (1)');
    await tx.endImplicit();
    expect(await count()).toBe(1);
    await tx.beginImplicit();
    await conn.run('INSERT INTO t VALUES (2)');
    tx.failed();
    await tx.endImplicit();
    expect([await count(), tx.open]).toEqual([1, false]);
  });

  it('lets a BEGIN take an implicit transaction over, and warns as Postgres does', async () => {
    const { tx, warnings } = make();
    await tx.beginImplicit();
    await tx.begin();
    expect(tx.status).toBe('T');
    await tx.begin();
    expect(await tx.rollback()).toBe('ROLLBACK');
    await tx.commit();
    expect(warnings).toEqual(['25001', '25P01']);
  });
});

describe('the statement store', () => {
  it('caches parameterless SELECTs by text and drops the cache when the registry changes', async () => {
    const store = new StatementStore(() => undefined);
    const stmt = (sql: string): Promise<Statement> => conn.prepare(sql).then((prepared) => ({ sql, special: null, prepared, paramOids: [] }));
    const select = await stmt('SELECT 1');
    store.release(select);
    expect(store.takeCached('SELECT 1', 0)).toBe(select);
    store.release(select);
    expect(store.takeCached('SELECT 1', 1)).toBeUndefined();
    store.release(await stmt('SELECT $1::INT'));
    expect(store.takeCached('SELECT $1::INT', 1)).toBeUndefined();
  });

  it('refuses a second statement of a name and closes the portals of a dropped statement', async () => {
    const closed: string[] = [];
    const store = new StatementStore((p) => closed.push(p.statement.sql));
    const s: Statement = { sql: 'SELECT 2', special: null, prepared: await conn.prepare('SELECT 2'), paramOids: [] };
    store.addStatement('s1', s);
    expect(() => store.addStatement('s1', s)).toThrow(expect.objectContaining({ code: '42P05' }));
    store.addPortal('p1', { statement: s, params: [], paramFormats: [], resultFormats: [], cursor: null, finishedTag: null });
    store.dropStatement('s1');
    expect(closed).toEqual(['SELECT 2']);
    expect(() => store.portal('p1')).toThrow(expect.objectContaining({ code: '34000' }));
  });
});

describe('statement control', () => {
  it('stops a statement at its deadline with 57014, and a cancel only while it runs', async () => {
    let counter = 0;
    const out = new SessionOutput(() => undefined);
    const interrupts: string[] = [];
    const control = new StatementControl({
      sid: 1, out, jobs: new Map(), cancelCounter: () => counter, statementTimeoutMs: () => 50,
      interrupt: () => interrupts.push('duckdb'), cancelModelWork: () => interrupts.push('runtime'),
    });
    await expect(control.run(async () => {
      while (!control.stopReason()) await new Promise((r) => setTimeout(r, 5));
      control.throwIfStopped();
    })).rejects.toMatchObject({ code: '57014', message: 'canceling statement due to statement timeout' });
    await expect(control.run(async () => {
      counter++;
      return control.stopReason();
    })).rejects.toMatchObject({ code: '57014', message: 'canceling statement due to user request' });
    interrupts.length = 0;
    await expect(control.run(async () => control.cancel())).rejects.toMatchObject({ code: '57014' });
    expect(interrupts).toEqual(['duckdb', 'runtime']);
    expect(await control.run(async () => control.stopReason())).toBeNull();
  });
});
