import { StatementType } from '@duckdb/node-api';
import { SqlError } from '../errors/sql-error.js';
import type { TransactionStatus } from '../protocol/backend.js';
import { Savepoints, type JournalEntry, type RebuildHost } from './savepoints.js';

/**
 * The transaction a session is in, as one state machine:
 * - `idle`: none; each statement commits on its own;
 * - `block`: opened by BEGIN; `failed-block`: a statement in it failed, and statements are refused
 *   until ROLLBACK (COMMIT of it rolls back), as in Postgres;
 * - `implicit`: opened by aiduck for the statements of one multi-statement Query, or of a pipelined
 *   extended-protocol batch, and ended at the end of the Query or at Sync (as Postgres runs them:
 *   pgJDBC's executeBatch relies on it); `failed-implicit`: one of them failed, so it rolls back.
 * A BEGIN inside an implicit transaction takes it over as a block. A block may be read only, and
 * holds savepoints (savepoints.ts).
 */
type State = 'idle' | 'block' | 'failed-block' | 'implicit' | 'failed-implicit';

export class Transaction {
  private _state: State = 'idle';
  /** The block's access mode (outside a block, the session's default applies). */
  private blockReadOnly = false;
  private readonly savepoints = new Savepoints();

  constructor(
    /** Runs a transaction verb on the session's DuckDB connection. */
    private readonly run: (sql: 'BEGIN TRANSACTION' | 'COMMIT' | 'ROLLBACK') => Promise<void>,
    /** Warns the client (Postgres answers a BEGIN inside a block with a WARNING, not an error). */
    private readonly warn: (code: string, message: string) => void,
    /** default_transaction_read_only. */
    private readonly defaultReadOnly: () => boolean,
  ) {}

  private get state(): State {
    return this._state;
  }

  private set state(next: State) {
    if (next === 'idle') {
      this.savepoints.clear();
      this.blockReadOnly = false;
    }
    this._state = next;
  }

  /** Whether statements that write are refused now (25006). */
  get readOnly(): boolean {
    return this.state === 'block' || this.state === 'failed-block' ? this.blockReadOnly : this.defaultReadOnly();
  }

  /** SET TRANSACTION: the block's access mode. */
  setMode(readOnly: boolean | null): void {
    if (this.state !== 'block') {
      this.warn('25P01', 'SET TRANSACTION can only be used in transaction blocks');
      return;
    }
    if (readOnly !== null) this.blockReadOnly = readOnly;
  }

  /** A statement that changed the transaction, kept so that a ROLLBACK TO SAVEPOINT can rebuild it. */
  journal(entry: JournalEntry): void {
    if (this.state !== 'idle') this.savepoints.record(entry);
  }

  /** A change a ROLLBACK TO SAVEPOINT cannot replay (see savepoints.ts). */
  journalLoss(what: string): void {
    if (this.state !== 'idle') this.savepoints.cannotReplay(what);
  }

  savepoint(name: string): string {
    this.requireBlock('SAVEPOINT');
    this.savepoints.define(name);
    return 'SAVEPOINT';
  }

  release(name: string): string {
    this.requireBlock('RELEASE SAVEPOINT');
    this.savepoints.release(name);
    return 'RELEASE';
  }

  /** ROLLBACK TO SAVEPOINT; `intact` tells whether the DuckDB transaction can still run statements. */
  async rollbackTo(name: string, intact: () => Promise<boolean>, host: RebuildHost): Promise<string> {
    if (this.state !== 'failed-block') this.requireBlock('ROLLBACK TO SAVEPOINT');
    await this.savepoints.rollbackTo(name, await intact(), host);
    this.state = 'block';
    return 'ROLLBACK';
  }

  /** A point of the transaction rewind() can return to; null outside a transaction or in a failed one. */
  mark(): number | null {
    return this.state === 'block' || this.state === 'implicit' ? this.savepoints.position : null;
  }

  /**
   * Undoes what ran since mark() gave `at` (a failed batch of statements, to run them one by one),
   * as ROLLBACK TO SAVEPOINT does; refused (0A000) when the transaction cannot be run again to there.
   */
  async rewind(at: number, host: RebuildHost): Promise<void> {
    await this.savepoints.rewind(at, host);
  }

  private requireBlock(verb: string): void {
    if (this.state !== 'block') throw new SqlError('25P01', `${verb} can only be used in transaction blocks`);
  }

  /** What ReadyForQuery reports: an implicit transaction is invisible to the client. */
  get status(): TransactionStatus {
    return this.state === 'block' ? 'T' : this.state === 'failed-block' ? 'E' : 'I';
  }

  /** Inside any transaction (a block or an implicit one): registry commands and the prefetch pass stay out. */
  get open(): boolean {
    return this.state !== 'idle';
  }

  /** A failed block: only COMMIT and ROLLBACK may run. */
  get aborted(): boolean {
    return this.state === 'failed-block';
  }

  /** A statement failed: the transaction it ran in (if any) can only roll back. */
  failed(): void {
    if (this.state === 'block') this.state = 'failed-block';
    else if (this.state === 'implicit') this.state = 'failed-implicit';
  }

  async beginImplicit(): Promise<void> {
    if (this.state !== 'idle') return;
    await this.run('BEGIN TRANSACTION');
    this.state = 'implicit';
  }

  /** Ends an implicit transaction: COMMIT, or ROLLBACK after a failure. A failed COMMIT is thrown. */
  async endImplicit(): Promise<void> {
    const state = this.state;
    if (state !== 'implicit' && state !== 'failed-implicit') return;
    this.state = 'idle';
    if (state === 'implicit') await this.run('COMMIT');
    else await this.run('ROLLBACK').catch(() => undefined);
  }

  /** BEGIN [READ ONLY | READ WRITE]: returns the command tag. */
  async begin(readOnly: boolean | null = null): Promise<string> {
    if (this.state === 'implicit' || this.state === 'failed-implicit') {
      this.state = 'block';
    } else if (this.state !== 'idle') {
      this.warn('25001', 'there is already a transaction in progress');
      return 'BEGIN';
    } else {
      await this.run('BEGIN TRANSACTION');
      this.state = 'block';
    }
    this.blockReadOnly = readOnly ?? this.defaultReadOnly();
    return 'BEGIN';
  }

  /** COMMIT (or END): returns the command tag, ROLLBACK when the block had failed. */
  async commit(): Promise<string> {
    switch (this.state) {
      case 'implicit':
      case 'failed-implicit':
        await this.endImplicit();
        return 'COMMIT';
      case 'idle':
        this.warn('25P01', 'there is no transaction in progress');
        return 'COMMIT';
      case 'failed-block':
        await this.run('ROLLBACK');
        this.state = 'idle';
        return 'ROLLBACK';
      case 'block':
        this.state = 'idle';
        await this.run('COMMIT');
        return 'COMMIT';
    }
  }

  /** ROLLBACK (or ABORT): returns the command tag. */
  async rollback(): Promise<string> {
    if (this.state === 'implicit' || this.state === 'failed-implicit') {
      this.state = 'failed-implicit';
      await this.endImplicit();
    } else if (this.state === 'idle') {
      this.warn('25P01', 'there is no transaction in progress');
    } else {
      this.state = 'idle';
      await this.run('ROLLBACK');
    }
    return 'ROLLBACK';
  }

  /** A transaction verb DuckDB ran itself (one the session does not answer): its effect on the state. */
  ranByDuckDB(type: StatementType, sql: string): void {
    if (type !== StatementType.TRANSACTION) return;
    const w = /^\s*(\w+)/.exec(sql)?.[1]?.toUpperCase();
    this.state = w === 'BEGIN' || w === 'START' ? 'block' : 'idle';
  }
}
