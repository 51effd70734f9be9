import { SqlError } from '../errors/sql-error.js';
import { codeTokens, nameOf } from '../sqltext/lexer.js';

/** A statement that changed the transaction, as it can be run again. */
export interface JournalEntry {
  /** The text DuckDB prepared. */
  sql: string;
  params: Array<Buffer | null>;
  paramFormats: number[];
  paramOids: number[];
  /** It calls no function (rows of constants): nothing in it differs when it runs again. */
  plain?: boolean;
}

/** What undoing part of a transaction needs of the session. */
export interface RebuildHost {
  /** Runs a transaction verb on the session's connection. */
  run(sql: 'BEGIN TRANSACTION' | 'ROLLBACK'): Promise<void>;
  /** Runs a journaled statement again. */
  replay(entry: JournalEntry): Promise<void>;
  /** A column among these tables' whose default differs each time it is computed (nextval, now, random), or null. */
  volatileDefault(tables: readonly string[]): Promise<string | null>;
}

/** Functions whose value differs when a statement runs again, so it cannot be replayed faithfully. */
const VOLATILE = new Set([
  'random', 'setseed', 'uuid', 'gen_random_uuid', 'uuidv4', 'uuidv7', 'nextval', 'currval', 'now', 'get_current_timestamp',
  'transaction_timestamp', 'statement_timestamp', 'current_timestamp', 'current_date', 'current_time', 'localtime',
  'localtimestamp', 'today', 'clock_timestamp', 'timeofday',
]);

/** More than this many statements, or bytes of them, and the journal stops: ROLLBACK TO before that point is refused. */
const MAX_ENTRIES = 100_000;
const MAX_BYTES = 256 * 1024 * 1024;

interface Savepoint {
  name: string;
  /** The journal's length when it was defined. */
  at: number;
}

/**
 * SAVEPOINT, RELEASE and ROLLBACK TO over DuckDB, which has no nested transactions. The
 * transaction keeps a journal of the statements that changed it; rolling back to a savepoint rolls
 * the DuckDB transaction back and runs the journal up to the savepoint again, in a new one. What
 * cannot be run again to the same effect — a statement whose value differs each time (random(),
 * now(), nextval() itself or through a column default), rows sent by COPY FROM STDIN — is marked in
 * the journal, and a rollback that would have to replay it is refused (the whole transaction can
 * still roll back). When nothing changed since the savepoint and the DuckDB transaction is intact
 * (the statement that failed was refused before it ran), nothing is replayed.
 */
export class Savepoints {
  private readonly journal: Array<JournalEntry | { cannotReplay: string }> = [];
  private journalBytes = 0;
  /** The journal outgrew its limits and was dropped. */
  private overflowed = false;
  private count = 0;
  private stack: Savepoint[] = [];
  /** A rebuild failed: the DuckDB transaction no longer holds what the client did, so only ROLLBACK may end it. */
  private broken = false;

  /** The transaction ended: nothing to keep. */
  clear(): void {
    this.journal.length = 0;
    this.journalBytes = 0;
    this.overflowed = false;
    this.count = 0;
    this.stack = [];
    this.broken = false;
  }

  /** A statement that changed the transaction. */
  record(entry: JournalEntry): void {
    if (entry.plain) return this.push(entry);
    const tokens = codeTokens(entry.sql);
    const volatile = tokens.find((t, i) => t.kind === 'word' && VOLATILE.has(t.text.toLowerCase()) &&
      (tokens[i + 1]?.text === '(' || /^(current_|local)/i.test(t.text)));
    if (volatile) return this.cannotReplay(`${volatile.text.toLowerCase()}(), whose value differs each time`);
    this.push(entry);
  }

  /** A change the journal cannot hold (e.g. the rows of a COPY FROM STDIN). */
  cannotReplay(what: string): void {
    this.push({ cannotReplay: what });
  }

  define(name: string): void {
    this.stack.push({ name, at: this.count });
  }

  /** RELEASE: the savepoint and every later one are forgotten; what they covered stays. */
  release(name: string): void {
    this.stack.length = this.find(name);
  }

  /**
   * ROLLBACK TO: undoes what ran since the savepoint, which stays defined (later ones are
   * forgotten). `intact` says whether the DuckDB transaction can still run statements.
   */
  async rollbackTo(name: string, intact: boolean, host: RebuildHost): Promise<void> {
    const i = this.find(name);
    const sp = this.stack[i]!;
    this.stack.length = i + 1;
    if (this.broken) throw cannotRollBack('an earlier ROLLBACK TO SAVEPOINT could not rebuild the transaction');
    if (sp.at === this.count && intact) return;
    await this.rewind(sp.at, host);
  }

  /** Where the journal is now: a point rewind() can return to. */
  get position(): number {
    return this.count;
  }

  /**
   * Undoes what ran since `position` was `at`: the DuckDB transaction is rolled back and what the
   * journal holds before that point runs again in a new one (savepoints defined since are forgotten).
   */
  async rewind(at: number, host: RebuildHost): Promise<void> {
    if (this.broken) throw cannotRollBack('an earlier ROLLBACK TO SAVEPOINT could not rebuild the transaction');
    this.stack = this.stack.filter((s) => s.at <= at);
    const sp = { at };
    if (this.overflowed && sp.at > 0) {
      throw cannotRollBack(`more than ${MAX_ENTRIES.toLocaleString('en-US')} statements or ${MAX_BYTES >> 20} MB of them ran before the savepoint`);
    }
    const before = this.journal.slice(0, sp.at);
    const lost = before.find((e): e is { cannotReplay: string } => 'cannotReplay' in e);
    if (lost) throw cannotRollBack(`before the savepoint, the transaction ran ${lost.cannotReplay}`);
    const entries = before as JournalEntry[];
    this.broken = true;
    await host.run('ROLLBACK');
    await host.run('BEGIN TRANSACTION');
    const tables = [...new Set(entries.flatMap((e) => codeTokens(e.sql).map(nameOf).filter((n): n is string => n !== null)))];
    const volatile = entries.length ? await host.volatileDefault(tables) : null;
    if (volatile) throw cannotRollBack(`before the savepoint, the transaction filled ${volatile}, whose default differs each time`);
    for (const e of entries) await host.replay(e);
    this.journal.length = sp.at;
    this.journalBytes = this.journal.reduce((n, e) => n + sizeOf(e), 0);
    this.count = sp.at;
    this.overflowed = false;
    this.broken = false;
  }

  private push(entry: JournalEntry | { cannotReplay: string }): void {
    const bytes = sizeOf(entry);
    this.count++;
    if (this.overflowed) return;
    if (this.journal.length >= MAX_ENTRIES || this.journalBytes + bytes > MAX_BYTES) {
      this.overflowed = true;
      this.journal.length = 0;
      this.journalBytes = 0;
      return;
    }
    this.journal.push(entry);
    this.journalBytes += bytes;
  }

  private find(name: string): number {
    for (let i = this.stack.length - 1; i >= 0; i--) if (this.stack[i]!.name === name) return i;
    throw new SqlError('3B001', `savepoint "${name}" does not exist`);
  }
}

const sizeOf = (e: JournalEntry | { cannotReplay: string }): number =>
  'sql' in e ? e.sql.length + e.params.reduce((n, p) => n + (p?.length ?? 0), 0) : e.cannotReplay.length;

function cannotRollBack(why: string): SqlError {
  return new SqlError('0A000', `ROLLBACK TO SAVEPOINT cannot undo part of this transaction: ${why}`,
    'aiduck rolls back to a savepoint by running the transaction again up to it; ROLLBACK the whole transaction instead');
}
