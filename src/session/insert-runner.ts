import { StatementType, type DuckDBPreparedStatement, type DuckDBType } from '@duckdb/node-api';
import { SqlError } from '../errors/sql-error.js';
import { readOnlyRefusal } from '../pg/read-only.js';
import { InsertTemplates, type InsertTemplate } from './insert-templates.js';
import { withConstraintFields, type PortalHost } from './portal-runner.js';
import type { JournalEntry } from './savepoints.js';

/** What running INSERTs as batches needs of its session: what running a portal needs, and statement control. */
export interface InsertBatchHost extends PortalHost {
  /** Runs the batch as one statement (`sql`, as pg_stat_activity shows it) under statement control (cancel, statement_timeout). */
  runStatement<T>(sql: string, work: () => Promise<T>): Promise<T>;
  /** Runs one statement of a simple query the usual way, its CommandComplete included. */
  runSimple(sql: string): Promise<void>;
}

/** A batch that DuckDB refused while running it: the transaction may be rewound to `mark` and its statements run one by one. */
class BatchFailed extends Error {
  constructor(readonly failure: unknown, readonly mark: number | 'autocommit' | null, readonly sql: string) {
    super('a batch of INSERTs failed');
  }
}

/** Rows of one batch at most (a journal entry and a statement text hold them all). */
export const MAX_BATCH_ROWS = 4096;

/**
 * What the simple and the extended protocol's batches of INSERTs (insert-batches.ts,
 * pipelined-inserts.ts) share: the session, its prepared multi-row INSERTs, and the running of a
 * batch as one statement of the session.
 *
 * A batch that fails fails as a whole; its statements are then run again one by one from where the
 * transaction stood before it (rewound as ROLLBACK TO SAVEPOINT rewinds it), so that the one that
 * fails reports its error after the answers of those before it, as in Postgres. Where the
 * transaction cannot be rewound (see savepoints.ts), the batch's error is reported for its first
 * statement: the statements were all in one transaction, which the failure aborts, so what is
 * stored is the same.
 */
export class BatchRunner {
  readonly templates: InsertTemplates;
  private session: InsertBatchHost | null = null;

  constructor(private readonly hostOf: () => InsertBatchHost) {
    this.templates = new InsertTemplates(() => this.host.preparer.version());
  }

  /** The session (asked for once it runs: the batches are made while it is being made). */
  get host(): InsertBatchHost {
    return (this.session ??= this.hostOf());
  }

  /**
   * Runs a batch as one statement of the session (`sql`: the client's text of its first statement):
   * refused where its first statement would be; a failure of DuckDB's while it runs is a BatchFailed.
   */
  async run(sql: string, needsTransaction: boolean, work: () => Promise<void>): Promise<void> {
    const { transaction, control } = this.host;
    if (transaction.aborted) throw new SqlError('25P02', 'current transaction is aborted, commands ignored until end of transaction block');
    await this.host.runStatement(sql, async () => {
      await this.host.parkOpenCursor();
      if (transaction.readOnly) {
        const refusal = await readOnlyRefusal(StatementType.INSERT, sql, this.host.isTemporary);
        if (refusal) throw refusal;
      }
      // Statements of a batch that DuckDB runs as several are one transaction, as the client's statement or statements are.
      if (needsTransaction && !transaction.open) await transaction.beginImplicit();
      const mark = transaction.open ? transaction.mark() : 'autocommit';
      try {
        await work();
      } catch (err) {
        throw control.stopping ? err : new BatchFailed(err, mark, sql);
      }
      control.markCompleted();
    });
  }

  /**
   * After a batch failed: the transaction as it was before the batch (nothing to undo when it ran
   * on its own, in autocommit), so that its statements can run one by one and the one that fails
   * reports its error, as Postgres reports it; where the transaction cannot be run again to there
   * (see savepoints.ts), the batch's error, for its first statement.
   */
  async rewindOrThrow(err: unknown): Promise<void> {
    if (!(err instanceof BatchFailed)) throw err;
    if (err.mark === 'autocommit') return;
    const failure = withConstraintFields(err.failure, err.sql);
    if (err.mark === null) throw failure;
    try {
      await this.host.parkOpenCursor();
      await this.host.transaction.rewind(err.mark, this.host.special.rebuild);
    } catch {
      throw failure;
    }
  }

  /** Runs a template with its parameters bound; what it did goes to the transaction's journal. */
  async execute(t: InsertTemplate, bind: (p: DuckDBPreparedStatement) => void, entry: () => JournalEntry): Promise<void> {
    t.prepared.clearBindings();
    bind(t.prepared);
    await t.prepared.run();
    if (this.host.transaction.open) this.host.transaction.journal(entry());
  }
}

export const formatOf = (formats: readonly number[], i: number): number => (formats.length === 1 ? formats[0]! : (formats[i] ?? 0));

export const sameType = (a: DuckDBType, b: DuckDBType): boolean => a.typeId === b.typeId && a.toString() === b.toString();
