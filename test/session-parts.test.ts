import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { Transaction } from '../src/session/transaction.js';
import type { RebuildHost } from '../src/session/savepoints.js';
import { rebuildHost } from '../src/session/connection-ops.js';
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
  await conn.run("CREATE SEQUENCE serial_ids; CREATE TABLE serials (id INTEGER DEFAULT nextval('serial_ids'), label TEXT)");
});
afterAll(() => {
  conn.closeSync();
  instance.closeSync();
});

const count = async (): Promise<number> => Number((await conn.runAndReadAll('SELECT count(*) FROM t')).getRows()[0]![0]);

describe('the transaction state machine', () => {
  const make = (readOnlyByDefault = false): { tx: Transaction; warnings: string[] } => {
    const warnings: string[] = [];
    return { tx: new Transaction((sql) => conn.run(sql).then(() => undefined), (code) => warnings.push(code), () => readOnlyByDefault), warnings };
  };
  let rebuild: RebuildHost;
  beforeAll(() => {
    rebuild = rebuildHost(conn, (sql) => conn.run(sql).then(() => undefined));
  });
  const intact = async (): Promise<boolean> => conn.run('SELECT 1').then(() => true, () => false);
  /** Runs a write as the session does: on the connection, then into the transaction's journal. */
  const write = async (tx: Transaction, sql: string): Promise<void> => {
    await conn.run(sql);
    tx.journal({ sql, params: [], paramFormats: [], paramOids: [] });
  };
  const values = async (): Promise<number[]> => (await conn.runAndReadAll('SELECT i FROM t ORDER BY i')).getRows().map((r) => Number(r[0]));

  it('rolls back to a savepoint by running the transaction again up to it, after a failure that ended the DuckDB transaction', async () => {
    await conn.run('DELETE FROM t');
    const { tx } = make();
    await tx.begin();
    await write(tx, 'INSERT INTO t VALUES (1)');
    expect(tx.savepoint('a')).toBe('SAVEPOINT');
    await write(tx, 'INSERT INTO t VALUES (2)');
    await expect(conn.run("SELECT 'x'::INTEGER")).rejects.toThrow(); // ends DuckDB's transaction
    tx.failed();
    expect(await intact()).toBe(false);
    expect(await tx.rollbackTo('a', intact, rebuild)).toBe('ROLLBACK');
    expect([tx.status, await values()]).toEqual(['T', [1]]);
    // The savepoint stays; RELEASE forgets it and the ones after it.
    tx.savepoint('b');
    await write(tx, 'INSERT INTO t VALUES (3)');
    await tx.rollbackTo('a', intact, rebuild);
    expect(await values()).toEqual([1]);
    tx.release('a');
    await expect(tx.rollbackTo('a', intact, rebuild)).rejects.toMatchObject({ code: '3B001' });
    tx.failed();
    expect(await tx.rollback()).toBe('ROLLBACK');
    expect(await values()).toEqual([]);
  });

  it('replays nothing when nothing changed since the savepoint and DuckDB\'s transaction is intact', async () => {
    const { tx } = make();
    await tx.begin();
    await write(tx, 'INSERT INTO t VALUES (7)');
    tx.savepoint('s');
    tx.failed(); // a statement refused before it ran (a binder error leaves DuckDB's transaction intact)
    const counted = { ...rebuild, run: async (): Promise<void> => { throw new Error('rolled back DuckDB\'s transaction'); } };
    await tx.rollbackTo('s', intact, counted);
    expect(await values()).toEqual([7]);
    await tx.rollback();
  });

  it('refuses a rollback to a savepoint that would replay a value that differs each time, or rows of COPY FROM STDIN', async () => {
    for (const [what, journal] of [
      ['random()', (tx: Transaction) => write(tx, 'INSERT INTO t SELECT random() * 100')],
      ['COPY FROM STDIN', async (tx: Transaction) => tx.journalLoss('COPY FROM STDIN, whose rows are not kept')],
      ['serials.id', (tx: Transaction) => write(tx, 'INSERT INTO serials (label) VALUES (\'a\')')],
    ] as const) {
      const { tx } = make();
      await tx.begin();
      await journal(tx);
      tx.savepoint('s');
      await write(tx, 'INSERT INTO t VALUES (9)');
      await expect(tx.rollbackTo('s', intact, rebuild), what).rejects.toMatchObject({ code: '0A000', message: expect.stringContaining(what) });
      tx.failed();
      await tx.rollback();
    }
  });

  it('has savepoints only in a transaction block', async () => {
    const { tx } = make();
    expect(() => tx.savepoint('s')).toThrow(expect.objectContaining({ code: '25P01' }));
    await tx.beginImplicit();
    expect(() => tx.release('s')).toThrow(expect.objectContaining({ code: '25P01' }));
    await tx.endImplicit();
  });

  it('is read only as BEGIN asks, else as the session\'s default says', async () => {
    const { tx } = make(true);
    expect(tx.readOnly).toBe(true);
    await tx.begin(false);
    expect(tx.readOnly).toBe(false);
    tx.setMode(true);
    expect(tx.readOnly).toBe(true);
    await tx.commit();
    await tx.begin();
    expect(tx.readOnly).toBe(true);
    await tx.rollback();
    const plain = make();
    await plain.tx.begin(true);
    expect(plain.tx.readOnly).toBe(true);
    await plain.tx.rollback();
    expect(plain.tx.readOnly).toBe(false);
  });

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
  it('reuses a SELECT or a statement with parameters for the same text and declared types, under the version it was prepared under', async () => {
    let version = 'v1';
    const store = new StatementStore(() => undefined, () => version);
    let prepares = 0;
    const prepare = (sql: string) => (): Promise<Statement> => conn.prepare(sql).then((prepared) => {
      prepares++;
      return { sql, special: null, prepared, paramOids: [], reusable: true };
    });
    const select = await store.reuseOrPrepare('SELECT 1', [], prepare('SELECT 1'));
    store.release(select);
    expect(await store.reuseOrPrepare('SELECT 1', [], prepare('SELECT 1'))).toBe(select);
    store.release(select);
    // other declared parameter types make another statement
    const typed = await store.reuseOrPrepare('SELECT 1', [23], prepare('SELECT 1'));
    expect(typed).not.toBe(select);
    store.release(typed);
    const insert = await store.reuseOrPrepare('INSERT INTO t VALUES ($1)', [], prepare('INSERT INTO t VALUES ($1)'));
    store.release(insert);
    expect(await store.reuseOrPrepare('INSERT INTO t VALUES ($1)', [], prepare('INSERT INTO t VALUES ($1)'))).toBe(insert);
    store.release(insert);
    // a statement with neither rows nor parameters is not kept; nor is one whose preparing ran something
    const plain = await store.reuseOrPrepare('INSERT INTO t VALUES (1)', [], prepare('INSERT INTO t VALUES (1)'));
    store.release(plain);
    expect(await store.reuseOrPrepare('INSERT INTO t VALUES (1)', [], prepare('INSERT INTO t VALUES (1)'))).not.toBe(plain);
    const recorded = await store.reuseOrPrepare('SELECT 3', [], async () => ({ ...(await prepare('SELECT 3')()), reusable: false }));
    store.release(recorded);
    expect(await store.reuseOrPrepare('SELECT 3', [], prepare('SELECT 3'))).not.toBe(recorded);
    expect(prepares).toBe(7);
    // after a change of the catalog or the registry, nothing prepared before is reused
    version = 'v2';
    expect(await store.reuseOrPrepare('SELECT 1', [], prepare('SELECT 1'))).not.toBe(select);
    const before = await store.reuseOrPrepare('SELECT 4', [], prepare('SELECT 4'));
    version = 'v3';
    store.release(before);
    expect(await store.reuseOrPrepare('SELECT 4', [], prepare('SELECT 4'))).not.toBe(before);
  });

  it('refuses a second statement of a name and closes the portals of a dropped statement', async () => {
    const closed: string[] = [];
    const store = new StatementStore((p) => closed.push(p.statement.sql), () => 'v');
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
      sid: 1, out, jobs: new Map(), cancelCounter: () => counter, statementTimeoutMs: () => 50, sendsNotices: () => true,
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
