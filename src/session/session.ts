// Long because it is where the protocol's messages meet the session's pieces (statements, transaction,
// cursors, statement control, activity): each piece is a module of its own; this file only dispatches.
import type { DuckDBConnection } from '@duckdb/node-api';
import { ProtocolError, SqlError } from '../errors/sql-error.js';
import type { AiContext, Caller } from '../functions/context.js';
import { PrefetchedResults } from '../functions/prefetched.js';
import { commandTag } from '../pg/command-tag.js';
import { PgSettings } from '../pg/settings.js';
import * as msg from '../protocol/backend.js';
import { Frontend } from '../protocol/codes.js';
import type { FrontendMessage } from '../protocol/framer.js';
import { decodeClientMessage, type ClientMessage } from '../protocol/frontend.js';
import { splitStatements } from '../sqltext/statements.js';
import type { Inbox } from './inbox.js';
import type { SessionOutput } from './output.js';
import { isTemporary, rebuildHost, transactionIntact } from './connection-ops.js';
import { SqlCursors } from './cursors.js';
import { sendsNoRows, statementFields } from './describe.js';
import { InsertBatches } from './insert-batches.js';
import { applyStartupSettings } from './special.js';
import { startPortal, type PortalHost } from './portal-runner.js';
import { Preparer } from './prepare.js';
import { OpenResult } from './open-result.js';
import { SessionActivity } from './activity.js';
import { Notifications } from './notifications.js';
import { StatementControl } from './statement-control.js';
import { StatementStore, type Portal, type Statement } from './statements.js';
import { Transaction } from './transaction.js';

/** What a session needs from the engine that hosts it. */
export interface SessionContext {
  tmpDir: string;
  /** Where SQL may write files with `COPY ... TO`: files/ and the import directories, not the spill directory. */
  writableDirs: readonly string[];
  /** <data>/files, which data_file() names. */
  filesDir: string;
  maxConnections: number;
  ai: AiContext;
  /** The session's backend pid. */
  sid: number;
  /** This session's cancel counter, bumped by the server thread; readable while this thread is blocked in a model call. */
  cancelCounter(): number;
  /** Where the client connects from (pg_stat_activity). */
  client: { clientAddr: string | null; clientPort: number | null };
}

/** The extended-protocol messages, skipped after an error until Sync. */
const EXTENDED: ReadonlySet<number> = new Set([Frontend.Parse, Frontend.Bind, Frontend.Describe, Frontend.Execute, Frontend.Close, Frontend.FunctionCall]);

/**
 * One client session: the Postgres protocol after authentication, on its own DuckDB connection.
 * Messages are handled strictly in order; the session pulls them from its inbox and dispatches them
 * to the pieces that hold the session's state: its statements and portals (statements.ts), its
 * transaction (transaction.ts), the control of the running statement (statement-control.ts), the
 * prepare pipeline (prepare.ts) and the running of a portal (portal-runner.ts), which hands the
 * statements the session answers itself to special.ts and registry commands to command-runner.ts.
 */
export class Session {
  readonly settings: PgSettings;
  private readonly transaction: Transaction;
  private readonly control: StatementControl;
  private readonly statements: StatementStore;
  private readonly preparer: Preparer;
  private readonly cursors: SqlCursors;
  private readonly caller: Caller;
  private readonly activity: SessionActivity;
  private readonly notifications: Notifications;
  /** A client message is being handled (a notification waits until it is done). */
  private busy = false;
  /** The result being streamed; DuckDB allows one per connection, so another query parks it first. */
  private readonly open = new OpenResult();
  private readonly inserts = new InsertBatches(() => ({ ...this.portalHost(), runStatement: (sql, work) => this.runStatement(sql, work), runSimple: (sql) => this.simpleStatement(sql) }));
  /** After an error in an extended-protocol batch, messages are dropped until Sync. */
  private skipToSync = false;

  constructor(
    readonly conn: DuckDBConnection,
    readonly out: SessionOutput,
    readonly inbox: Inbox,
    readonly ctx: SessionContext,
    user: string,
    applicationName: string,
  ) {
    this.settings = new PgSettings(user, ctx.maxConnections);
    if (applicationName) this.settings.set('application_name', applicationName);
    this.transaction = new Transaction((sql) => this.runTransactionVerb(sql), (code, message) => {
      if (this.settings.sends('WARNING')) msg.noticeResponse(out.w, { severity: 'WARNING', code, message });
    },
      () => this.settings.get('default_transaction_read_only') === 'on');
    this.control = new StatementControl({
      sid: ctx.sid, out, jobs: ctx.ai.jobs, cancelCounter: ctx.cancelCounter, statementTimeoutMs: () => this.settings.statementTimeoutMs,
      sendsNotices: () => this.settings.sends('NOTICE'),
      interrupt: () => conn.interrupt(), cancelModelWork: () => ctx.ai.runtime.cancel(ctx.sid),
    });
    this.statements = new StatementStore((portal) => this.open.drop(portal.cursor), () => this.preparer.version());
    this.preparer = new Preparer({ conn, ai: ctx.ai, parkOpenCursor: () => this.parkOpenCursor(), inTransaction: () => this.transaction.open, writableDirs: ctx.writableDirs, filesDir: ctx.filesDir });
    this.cursors = new SqlCursors({
      conn, out, inTransaction: () => this.transaction.open, parkOpenCursor: () => this.parkOpenCursor(),
      use: (cursor) => this.open.use(cursor), drop: (cursor) => this.open.drop(cursor), journal: (entry) => this.transaction.journal(entry),
    });
    this.caller = {
      sid: ctx.sid,
      prefetched: new PrefetchedResults(),
      collector: null,
      stopReason: () => this.control.stopReason(),
      progress: (fn, model, rows, cached, note) => this.control.progress(fn, model, rows, cached, note),
    };
    ctx.ai.attach(conn, this.caller);
    this.activity = new SessionActivity({ pid: ctx.sid, user, ...ctx.client }, () => this.settings.get('application_name'), () => this.transaction.status);
    this.notifications = new Notifications(ctx.sid, (n) => {
      msg.notificationResponse(out.w, n.pid, n.channel, n.payload);
      out.flush();
    }, () => !this.busy && !this.transaction.open);
    ctx.ai.backends.set(ctx.sid, {
      activity: () => this.activity.snapshot(), cancel: () => this.cancel(), terminate: () => this.terminate(),
      notify: (channel, payload) => this.notifications.notify(channel, payload), listensTo: (channel) => this.notifications.listensTo(channel),
      receive: (n) => this.notifications.receive(n),
    });
  }

  /** pg_terminate_backend: the client is told (FATAL 57P01, as Postgres says it) and the session ends. */
  terminate(): void {
    msg.errorResponse(this.out.w, { severity: 'FATAL', code: '57P01', message: 'terminating connection due to administrator command' });
    this.out.flush();
    this.close();
  }

  /** Serves messages until the client terminates or the connection closes. */
  async run(): Promise<void> {
    for (let m = await this.inbox.next(); m; m = await this.inbox.next()) {
      try {
        this.busy = true;
        await this.handle(m);
        this.busy = false;
        if (!this.transaction.open) this.notifications.deliverPending();
      } catch (err) {
        if (err instanceof ProtocolError) {
          msg.errorResponse(this.out.w, { severity: 'FATAL', code: err.code, message: err.message });
          this.out.flush();
          return;
        }
        throw err;
      }
      if (this.out.closed) return;
    }
  }

  /**
   * The settings the client asked for at startup, applied as its SET would be; one that fails ends
   * the login, as in Postgres.
   */
  applyStartupSettings(settings: ReadonlyArray<[string, string]>): Promise<void> {
    return applyStartupSettings(settings, this.settings, (sql) => this.runDuck(sql), this.out);
  }

  cancel(): void {
    this.control.cancel();
  }

  close(): void {
    this.ctx.ai.backends.delete(this.ctx.sid);
    this.out.close();
    this.inbox.close();
    // Model work already handed to the runtime stops too: nobody is left to read it.
    this.ctx.ai.runtime.cancel(this.ctx.sid);
    try {
      this.conn.interrupt();
    } catch {
      /* already closed */
    }
  }

  private async handle(raw: FrontendMessage): Promise<void> {
    if (this.skipToSync && EXTENDED.has(raw.code)) return;
    const m = decodeClientMessage(raw);
    switch (m.type) {
      case 'terminate':
        this.out.flush();
        this.inbox.close();
        return;
      case 'query':
        await this.simpleQuery(m.sql);
        return;
      case 'sync':
        this.skipToSync = false;
        await this.endImplicitTransaction();
        msg.readyForQuery(this.out.w, this.transaction.status);
        this.out.flush();
        return;
      case 'flush':
        this.out.flush();
        return;
      case 'copy-data':
      case 'copy-done':
      case 'copy-fail':
        return; // copy messages outside COPY are ignored, as Postgres does
      default:
    }
    try {
      switch (m.type) {
        case 'parse': await this.parse(m); break;
        case 'bind': this.bind(m); break;
        case 'describe': await this.describe(m); break;
        case 'execute': if (!(await this.inserts.executePipelined(m.portal))) await this.execute(m); break;
        case 'close':
          if (m.target === 'statement') this.statements.dropStatement(m.name);
          else this.statements.closePortal(m.name);
          msg.closeComplete(this.out.w);
          break;
        case 'function-call': throw new SqlError('0A000', 'the function call protocol is not supported');
      }
    } catch (err) {
      if (err instanceof ProtocolError) throw err;
      this.fail(err);
      this.skipToSync = true;
    }
  }

  /** Reports a failed statement; the transaction it ran in can now only roll back. */
  private fail(err: unknown): void {
    this.transaction.failed();
    msg.errorResponse(this.out.w, msg.noticeOf(this.control.errorOf(err)));
  }

  /**
   * A pipelined extended-protocol batch (at least `executesNeeded` Executes already waiting before
   * Sync) runs in an implicit transaction, so a lone Parse/Bind/Execute/Sync pays no extra BEGIN and COMMIT.
   */
  private async beginImplicitTransactionIfBatch(executesNeeded: number): Promise<void> {
    if (this.inbox.executesQueuedBeforeSync() >= executesNeeded) await this.beginImplicitTransaction();
  }

  private async beginImplicitTransaction(): Promise<void> {
    if (!this.transaction.open) await this.transaction.beginImplicit();
  }

  private async endImplicitTransaction(): Promise<void> {
    try {
      await this.transaction.endImplicit();
    } catch (err) {
      this.fail(err);
    }
  }

  // ---- simple query -------------------------------------------------------------------------

  private async simpleQuery(sql: string): Promise<void> {
    const parts = splitStatements(sql);
    if (parts.length === 0) msg.emptyQueryResponse(this.out.w);
    // Like Postgres, several statements in one Query outside a transaction run as one transaction;
    // a BEGIN among them takes it over, a COMMIT or ROLLBACK ends it and the next one opens another.
    for (let i = 0; i < parts.length;) {
      try {
        if (parts.length > 1) await this.beginImplicitTransaction();
        i += (await this.inserts.runStatements(parts, i)) || (await this.simpleStatement(parts[i]!), 1);
      } catch (err) {
        if (err instanceof ProtocolError) throw err;
        this.fail(err);
        break;
      }
      if (this.out.closed) return;
    }
    await this.endImplicitTransaction();
    msg.readyForQuery(this.out.w, this.transaction.status);
    this.out.flush();
  }

  private async simpleStatement(sql: string): Promise<void> {
    const statement = await this.statements.reuseOrPrepare(sql, [], () => this.preparer.prepare(sql, []));
    try {
      const takesParams = statement.command?.args ?? statement.prepared;
      if (takesParams && takesParams.parameterCount > 0) {
        throw new SqlError('08P01', `the query has ${takesParams.parameterCount} parameters but the simple query protocol sends none`,
          'use the extended protocol to send parameters');
      }
      const portal: Portal = { statement, params: [], paramFormats: [], resultFormats: [], cursor: null, finishedTag: null };
      await this.runStatement(sql, async () => {
        await startPortal(this.portalHost(), portal, true);
        if (portal.cursor) {
          await portal.cursor.send(this.out, 0);
          this.open.drop(portal.cursor);
        }
      });
      msg.commandComplete(this.out.w, tagOf(portal));
    } finally {
      this.statements.release(statement);
    }
  }

  // ---- extended query -----------------------------------------------------------------------

  private async parse({ name, sql, paramOids }: ClientMessage & { type: 'parse' }): Promise<void> {
    this.statements.checkNewStatement(name);
    const parts = splitStatements(sql);
    if (parts.length > 1) throw new SqlError('42601', 'cannot insert multiple commands into a prepared statement');
    if (!name) this.statements.dropStatement('');
    const statement: Statement = parts.length === 0
      ? { sql: '', special: null, prepared: null, paramOids }
      : await this.statements.reuseOrPrepare(parts[0]!, paramOids, () => this.preparer.prepare(parts[0]!, paramOids));
    this.statements.addStatement(name, statement);
    msg.parseComplete(this.out.w);
  }

  private bind({ portal, statement: name, paramFormats, params, resultFormats }: ClientMessage & { type: 'bind' }): void {
    const statement = this.statements.statement(name);
    const expected = (statement.command?.args ?? statement.prepared)?.parameterCount ?? 0;
    if (params.length !== expected) {
      throw new SqlError('08P01', `bind message supplies ${params.length} parameters, but prepared statement "${name}" requires ${expected}`);
    }
    this.statements.addPortal(portal, { statement, params, paramFormats, resultFormats, cursor: null, finishedTag: null });
    msg.bindComplete(this.out.w);
  }

  private async describe({ target, name }: ClientMessage & { type: 'describe' }): Promise<void> {
    if (target === 'statement') {
      const statement = this.statements.statement(name);
      msg.parameterDescription(this.out.w, statement.paramOids);
      this.describeRows(statement);
      return;
    }
    const portal = this.statements.portal(name);
    // The portal runs now and is described from its actual result: DuckDB's prepared-statement
    // metadata can be stale after DDL, or unresolved until the parameters are bound.
    if (portal.statement.prepared && !portal.cursor && portal.finishedTag === null && !sendsNoRows(portal.statement)) {
      // The portal's own Execute and at least one more before Sync make a batch.
      await this.beginImplicitTransactionIfBatch(2);
      await this.runStatement(portal.statement.sql, () => startPortal(this.portalHost(), portal, false));
    }
    if (portal.cursor) msg.rowDescription(this.out.w, portal.cursor.fields);
    else if (portal.statement.special) this.describeRows(portal.statement);
    else msg.noData(this.out.w);
  }

  /** A statement's RowDescription (Describe of a statement), or NoData. */
  private describeRows(statement: Statement): void {
    const fields = statementFields(statement, (name) => this.cursors.fieldsOf(name));
    if (!fields) {
      msg.noData(this.out.w);
      return;
    }
    if (statement.prepared && !statement.special) statement.describedOids = fields.map((f) => f.typeOid);
    msg.rowDescription(this.out.w, fields);
  }

  private async execute({ portal: name, maxRows }: ClientMessage & { type: 'execute' }): Promise<void> {
    const portal = this.statements.portal(name);
    if (!portal.statement.prepared && !portal.statement.special) {
      msg.emptyQueryResponse(this.out.w);
      return;
    }
    // This Execute and at least one more before Sync make a batch.
    if (!portal.cursor && portal.finishedTag === null) await this.beginImplicitTransactionIfBatch(1);
    let sentBefore = portal.cursor?.rowsSent ?? 0;
    const suspended = await this.runStatement(portal.statement.sql, async () => {
      if (!portal.cursor && portal.finishedTag === null) {
        await startPortal(this.portalHost(), portal, false);
        sentBefore = 0;
      }
      if (!portal.cursor) return false;
      await this.open.use(portal.cursor);
      const done = portal.cursor.done || (await portal.cursor.send(this.out, maxRows > 0 ? maxRows : 0));
      if (done) this.open.drop(portal.cursor);
      return !done;
    });
    if (suspended) {
      msg.portalSuspended(this.out.w);
      return;
    }
    // Postgres counts the rows of this Execute, not of the portal's earlier ones.
    msg.commandComplete(this.out.w, tagOf(portal, (portal.cursor?.rowsSent ?? 0) - sentBefore));
  }

  // ---- running ------------------------------------------------------------------------------

  /** Runs one statement under statement control; what the prefetch pass brought back is dropped after it. */
  private async runStatement<T>(sql: string, work: () => Promise<T>): Promise<T> {
    this.activity.started(sql);
    let ok = false;
    try {
      const result = await this.control.run(work, this.inbox.cancelsAtArrival);
      ok = true;
      return result;
    } finally {
      this.caller.prefetched.clear();
      this.activity.finished();
      // Outside a transaction the statement committed on its own (or failed): its notifications go, or not.
      if (!this.transaction.open) this.transactionEnded(ok);
    }
  }

  /** What a transaction's end means beyond DuckDB: its NOTIFYs are sent or dropped. */
  private transactionEnded(committed: boolean): void {
    if (committed) this.notifications.committed((n) => {
      for (const b of this.ctx.ai.backends.values()) if (b.listensTo(n.channel)) b.receive(n);
    });
    else this.notifications.rolledBack();
  }

  private parkOpenCursor(): Promise<void> {
    return this.open.park();
  }

  private portalHost(): PortalHost {
    return {
      conn: this.conn, ai: this.ctx.ai, sid: this.ctx.sid, out: this.out, caller: this.caller, transaction: this.transaction,
      control: this.control, preparer: this.preparer, catalog: this.preparer.catalogWatch,
      special: {
        conn: this.conn, out: this.out, inbox: this.inbox, tmpDir: this.ctx.tmpDir, transaction: this.transaction,
        settings: this.settings, statements: this.statements, run: (sql) => this.runDuck(sql),
        duckdbSetting: (name) => this.duckdbSetting(name), parkOpenCursor: () => this.parkOpenCursor(),
        transactionIntact: () => this.parkOpenCursor().then(() => transactionIntact(this.conn)), rebuild: rebuildHost(this.conn, (sql) => this.runTransactionVerb(sql, true)),
        isTemporary: (t) => isTemporary(this.conn, t), cursors: this.cursors, notifications: this.notifications, notice: (message, code) => this.notice(message, code),
        runChecked: (sql) => this.preparer.runChecked(sql), statementPrepares: () => this.preparer.prepares,
      },
      opened: (cursor) => this.open.opened(cursor),
      parkOpenCursor: () => this.parkOpenCursor(),
      run: (sql) => this.runDuck(sql),
      notice: (message) => this.notice(message),
      isTemporary: (t) => isTemporary(this.conn, t),
    };
  }

  private notice(message: string, code = '00000'): void {
    if (!this.settings.sends('NOTICE')) return;
    msg.noticeResponse(this.out.w, { severity: 'NOTICE', code, message });
    this.out.flush();
  }

  /**
   * BEGIN, COMMIT or ROLLBACK on the session's connection. What the transaction made goes with a
   * rollback (the catalog views if it created them, its cursors); a rollback that rebuilds the
   * transaction for ROLLBACK TO SAVEPOINT keeps the cursors (savepoints.ts).
   */
  private async runTransactionVerb(sql: 'BEGIN TRANSACTION' | 'COMMIT' | 'ROLLBACK', rebuilding = false): Promise<void> {
    let done = false;
    try {
      await this.runDuck(sql);
      done = true;
    } finally {
      if (sql !== 'BEGIN TRANSACTION') {
        const committed = sql === 'COMMIT' && done;
        this.preparer.transactionEnded(committed);
        if (!rebuilding) {
          this.cursors.transactionEnded(committed);
          this.transactionEnded(committed);
        }
      }
    }
  }

  private async runDuck(sql: string): Promise<void> {
    await this.parkOpenCursor();
    await this.conn.run(sql);
  }

  private async duckdbSetting(name: string): Promise<string> {
    await this.parkOpenCursor();
    const reader = await this.conn.runAndReadAll('SELECT current_setting($1)::VARCHAR', [name]);
    return String(reader.getRows()[0]?.[0] ?? '');
  }
}

function tagOf(portal: Portal, rows = portal.cursor?.rowsSent ?? 0): string {
  if (portal.cursor) return commandTag(portal.statement.prepared!.statementType, portal.statement.sql, rows);
  return portal.finishedTag ?? 'OK';
}
