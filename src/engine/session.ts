import { ResultReturnType, StatementType, type DuckDBConnection, type DuckDBPreparedStatement } from '@duckdb/node-api';
import * as msg from '../protocol/backend.js';
import type { FieldDescription, PgNotice, TransactionStatus } from '../protocol/backend.js';
import { ProtocolError, SqlError } from '../protocol/errors.js';
import { MessageReader, type FrontendMessage } from '../protocol/reader.js';
import { columnCodec } from '../types/column-codec.js';
import { Oid } from '../types/oids.js';
import { commandTag } from './command-tag.js';
import { runCopy } from './copy.js';
import type { Inbox } from './inbox.js';
import type { SessionOutput } from './output.js';
import { bindParameter, duckdbTypeForOid, parameterType } from './parameters.js';
import { needsPgCatalog, rewriteForDuckDB } from './pg-compat.js';
import { rewritePgLiterals } from './pg-literals.js';
import { refusalOfStatement } from './instance-guard.js';
import { loadPgCatalog } from './bootstrap.js';
import { PgSettings } from './pg-settings.js';
import { describeColumns, formatOf, ResultCursor } from './result-cursor.js';
import { classifySpecial, type SpecialStatement } from './special-statements.js';
import { hasCodeKeyword, rewriteParameters, splitStatements } from './sql-text.js';
import { toPgError } from './sqlstate.js';
import type { AiContext, Caller } from './ai-context.js';
import { prefetch, prefetchQuery } from './ai-prefetch.js';
import { PrefetchedResults } from './prefetched.js';
import { rewriteAiCalls } from './ai-rewrite.js';
import { findQueryCommands, parseModelCommand } from './model-command-parse.js';
import type { ModelCommand } from './model-command.js';

/** What a session needs from the engine that hosts it. */
export interface SessionContext {
  tmpDir: string;
  maxConnections: number;
  ai: AiContext;
  /** The session's backend pid. */
  sid: number;
  /** Bumped by the server thread on a cancel request, readable while this thread is blocked in a model call. */
  cancelFlags: Int32Array;
}

/** Words that may follow a table function in FROM without being its alias. */
const CLAUSE_WORDS = new Set(['WHERE', 'ORDER', 'GROUP', 'LIMIT', 'OFFSET', 'JOIN', 'LEFT', 'RIGHT', 'INNER', 'FULL', 'CROSS', 'NATURAL',
  'POSITIONAL', 'ASOF', 'ANTI', 'SEMI', 'ON', 'USING', 'UNION', 'EXCEPT', 'INTERSECT', 'HAVING', 'QUALIFY', 'WINDOW']);

const PROGRESS_INTERVAL_MS = Number(process.env['AIDUCK_PROGRESS_INTERVAL_MS'] ?? 5000);

/** A statement from Parse (or from one statement of a simple query). */
interface Statement {
  sql: string;
  special: SpecialStatement | null;
  prepared: DuckDBPreparedStatement | null;
  /** The text DuckDB prepared (after the Postgres and AI rewrites). */
  duckSql?: string;
  /** The query part the prefetch pass runs before the statement (null: no pass). */
  prefetchQuery?: string | null;
  /** The registry generation the AI rewrites were made under (ai_embed's FLOAT[n]). */
  generation?: number;
  paramOids: number[];
  /** A registry command: its arguments statement takes the parameters, `prepared` gives the answer. */
  command?: { def: ModelCommand; args: DuckDBPreparedStatement; resultSql: string };
  /** Column types a Describe of the statement promised; a later result of another shape is refused. */
  describedOids?: number[];
}

interface Portal {
  statement: Statement;
  params: Array<Buffer | null>;
  paramFormats: number[];
  resultFormats: number[];
  cursor: ResultCursor | null;
  /** Set once a special statement or a row-less DuckDB statement has run. */
  finishedTag: string | null;
}

const MAX_CACHED_STATEMENTS = 64;

/** A text column in a RowDescription. */
const textField = (name: string): FieldDescription => ({ name, typeOid: Oid.text, typeSize: -1, typeModifier: -1, format: 0 });

/**
 * One client session: the Postgres protocol after authentication, on its own DuckDB connection.
 * Messages are handled strictly in order; the session pulls them from its inbox.
 */
export class Session {
  private tx: TransactionStatus = 'I';
  private statements = new Map<string, Statement>();
  private portals = new Map<string, Portal>();
  /**
   * Prepared parameterless SELECTs not in use, by text: a simple query that comes again skips
   * DuckDB's prepare. It is described from its actual result, so metadata that DuckDB left stale
   * after DDL does no harm; Parse, whose Describe reads that metadata, always prepares afresh.
   */
  private statementCache = new Map<string, Statement>();
  private openCursor: ResultCursor | null = null;
  private skipToSync = false;
  private timedOut = false;
  /** Set by a cancel request or the statement timeout while a statement runs. */
  private interrupted = false;
  private catalogLoaded = false;
  /** A pipelined extended-protocol batch runs in a transaction of its own, ended at Sync. */
  private implicitTx: 'none' | 'open' | 'failed' = 'none';
  readonly settings: PgSettings;
  /** The cancel counter's value when the running statement started, and its deadline. */
  private cancelEpoch = 0;
  private deadline = Infinity;
  private lastProgressNotice = 0;
  /** The registry generation the statement cache was filled under. */
  private cacheGeneration = 0;
  private readonly caller: Caller;

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
    this.caller = {
      sid: ctx.sid,
      prefetched: new PrefetchedResults(),
      collector: null,
      stopReason: () => this.stopReason(),
      progress: (fn, model, rows, cached, note) => this.progress(fn, model, rows, cached, note),
    };
    ctx.ai.attach(conn, this.caller);
  }

  /** A registry command has committed: the statement no longer stops for a cancel or a timeout. */
  private committed = false;

  private get cancelCounter(): number {
    return Atomics.load(this.ctx.cancelFlags, this.ctx.sid % this.ctx.cancelFlags.length);
  }

  /** Asked by model calls, which block this thread: the server thread's counter still moves. */
  private stopReason(): string | null {
    if (this.committed) return null;
    if (this.cancelCounter !== this.cancelEpoch || this.out.closed) {
      this.interrupted = true;
      return 'canceling statement due to user request';
    }
    if (Date.now() > this.deadline) {
      this.timedOut = true;
      return 'canceling statement due to statement timeout';
    }
    return null;
  }

  /** Records a chunk of AI work and, every few seconds of a long job or at once for a note, tells the client. */
  private progress(fn: string, model: string, rows: number, cached: number, note?: string): void {
    const now = new Date();
    const jobs = this.ctx.ai.jobs;
    let job = jobs.get(this.ctx.sid);
    if (!job || job.fn !== fn || job.model !== model) {
      job = { sid: this.ctx.sid, fn, model, rows: 0, cached: 0, startedAt: now, updatedAt: now };
      jobs.set(this.ctx.sid, job);
      this.lastProgressNotice = now.getTime();
    }
    job.rows += rows;
    job.cached += cached;
    job.updatedAt = now;
    if (note !== undefined || now.getTime() - this.lastProgressNotice >= PROGRESS_INTERVAL_MS) {
      this.lastProgressNotice = now.getTime();
      const seconds = (now.getTime() - job.startedAt.getTime()) / 1000;
      msg.noticeResponse(this.out.w, {
        severity: 'NOTICE', code: '00000',
        message: note !== undefined ? `${fn}(${model}): ${note}`
          : `${fn}(${model}): ${job.rows} rows done (${job.cached} from cache), ${Math.round(job.rows / Math.max(seconds, 0.001))} rows/s`,
      });
      this.out.flush();
    }
  }

  /** Serves messages until the client terminates or the connection closes. */
  async run(): Promise<void> {
    for (let m = await this.inbox.next(); m; m = await this.inbox.next()) {
      try {
        await this.handle(m);
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

  cancel(): void {
    if (this.committed) return;
    this.interrupted = true;
    this.conn.interrupt();
    this.ctx.ai.runtime.cancel(this.ctx.sid);
  }

  close(): void {
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

  private async handle(m: FrontendMessage): Promise<void> {
    const code = String.fromCharCode(m.code);
    const r = new MessageReader(m.body);
    if (code === 'X') {
      this.out.flush();
      this.inbox.close();
      return;
    }
    if (code === 'Q') {
      await this.simpleQuery(r.cstring());
      return;
    }
    if (code === 'S') {
      this.skipToSync = false;
      await this.endImplicitTransaction();
      msg.readyForQuery(this.out.w, this.tx);
      this.out.flush();
      return;
    }
    if (code === 'H') {
      this.out.flush();
      return;
    }
    if (code === 'd' || code === 'c' || code === 'f') return; // copy messages outside COPY are ignored
    if (!'PBDECF'.includes(code)) throw new ProtocolError(`unexpected message type "${code}" (0x${m.code.toString(16)})`);
    if (this.skipToSync) return;
    try {
      switch (code) {
        case 'P': await this.parse(r); break;
        case 'B': await this.bind(r); break;
        case 'D': await this.describe(r); break;
        case 'E': await this.execute(r); break;
        case 'C': this.closeTarget(r); break;
        case 'F': throw new SqlError('0A000', 'the function call protocol is not supported');
      }
    } catch (err) {
      if (err instanceof ProtocolError) throw err;
      this.fail(err);
      this.skipToSync = true;
    }
  }

  /**
   * Postgres runs the statements between two Syncs as one transaction when no transaction is
   * open (pgJDBC's executeBatch relies on it). aiduck does so for batches the client pipelined,
   * so a lone Parse/Bind/Execute/Sync pays no extra BEGIN and COMMIT.
   */
  private async beginImplicitTransactionIfBatch(executesNeeded: number): Promise<void> {
    if (this.inbox.executesQueuedBeforeSync() >= executesNeeded) await this.beginImplicitTransaction();
  }

  /** Opens a transaction that ends at Sync or at the end of a Query (or an explicit COMMIT/ROLLBACK). */
  private async beginImplicitTransaction(): Promise<void> {
    if (this.tx !== 'I' || this.implicitTx !== 'none') return;
    await this.runDuck('BEGIN TRANSACTION');
    this.implicitTx = 'open';
  }

  private async endImplicitTransaction(): Promise<void> {
    const state = this.implicitTx;
    if (state === 'none') return;
    this.implicitTx = 'none';
    try {
      await this.runDuck(state === 'open' ? 'COMMIT' : 'ROLLBACK');
    } catch (err) {
      if (state === 'open') this.fail(err);
    }
  }

  private fail(err: unknown): void {
    const stopped = err instanceof Error && /^Interrupt|canceling statement/i.test(err.message.replace(/^[A-Za-z ]+Error: /, ''));
    const timedOut = this.timedOut && stopped;
    this.timedOut = false;
    const notice = timedOut
      ? { severity: 'ERROR' as const, code: '57014', message: 'canceling statement due to statement timeout' }
      : stopped && this.interrupted
        ? { severity: 'ERROR' as const, code: '57014', message: 'canceling statement due to user request' }
        : toPgError(err);
    if (this.tx === 'T') this.tx = 'E';
    if (this.implicitTx === 'open') this.implicitTx = 'failed';
    msg.errorResponse(this.out.w, notice);
  }

  private notice(n: Omit<PgNotice, 'severity'> & { severity?: PgNotice['severity'] }): void {
    msg.noticeResponse(this.out.w, { severity: 'WARNING', ...n });
  }

  // ---- simple query -------------------------------------------------------------------------

  private async simpleQuery(sql: string): Promise<void> {
    const parts = splitStatements(sql);
    if (parts.length === 0) msg.emptyQueryResponse(this.out.w);
    // Like Postgres, several statements in one Query outside a transaction run as one transaction;
    // a BEGIN among them takes it over, a COMMIT or ROLLBACK ends it and the next one opens another.
    for (const part of parts) {
      try {
        if (parts.length > 1) await this.beginImplicitTransaction();
        await this.simpleStatement(part);
      } catch (err) {
        if (err instanceof ProtocolError) throw err;
        this.fail(err);
        break;
      }
      if (this.out.closed) return;
    }
    await this.endImplicitTransaction();
    msg.readyForQuery(this.out.w, this.tx);
    this.out.flush();
  }

  private async simpleStatement(sql: string): Promise<void> {
    const statement = this.takeCached(sql) ?? (await this.prepare(sql, []));
    try {
      const takesParams = statement.command?.args ?? statement.prepared;
      if (takesParams && takesParams.parameterCount > 0) {
        throw new SqlError('08P01', `the query has ${takesParams.parameterCount} parameters but the simple query protocol sends none`,
          'use the extended protocol to send parameters');
      }
      const portal: Portal = { statement, params: [], paramFormats: [], resultFormats: [], cursor: null, finishedTag: null };
      await this.withTimeout(async () => {
        await this.start(portal, true);
        if (portal.cursor) {
          await portal.cursor.send(this.out, 0);
          this.openCursor = null;
        }
      });
      msg.commandComplete(this.out.w, this.tagOf(portal));
    } finally {
      this.release(statement);
    }
  }

  private takeCached(sql: string): Statement | undefined {
    // A cached statement may hold a registry-dependent rewrite (ai_embed's FLOAT[n]) that a new
    // version or a moved alias has made stale.
    const generation = this.ctx.ai.registry.generation;
    if (generation !== this.cacheGeneration) {
      for (const old of this.statementCache.values()) old.prepared?.destroySync();
      this.statementCache.clear();
      this.cacheGeneration = generation;
    }
    const s = this.statementCache.get(sql);
    if (s) this.statementCache.delete(sql);
    return s;
  }

  /** Returns a statement no longer in use to the cache, or frees it. */
  private release(statement: Statement): void {
    const p = statement.prepared;
    if (!p) return;
    delete statement.describedOids;
    if (p.statementType !== StatementType.SELECT || p.parameterCount > 0 || this.statementCache.has(statement.sql)) {
      p.destroySync();
      return;
    }
    this.statementCache.set(statement.sql, statement);
    if (this.statementCache.size > MAX_CACHED_STATEMENTS) {
      const [oldest, old] = this.statementCache.entries().next().value as [string, Statement];
      this.statementCache.delete(oldest);
      old.prepared?.destroySync();
    }
  }

  // ---- preparing ----------------------------------------------------------------------------

  /**
   * Prepares a statement in DuckDB. Parameters whose type neither the client declared nor DuckDB
   * could infer are typed the way Postgres types an unknown parameter: as text.
   */
  private async prepare(sql: string, declaredOids: number[]): Promise<Statement> {
    const special = classifySpecial(sql);
    if (special) return { sql, special, prepared: null, paramOids: [] };
    await this.parkOpenCursor();
    if (!this.catalogLoaded && needsPgCatalog(sql)) {
      await loadPgCatalog(this.conn);
      this.catalogLoaded = true;
    }
    const queries = findQueryCommands(sql);
    if (queries.length) {
      // Each call becomes the query it stands for, written from its evaluated arguments.
      let generated = sql;
      for (const q of queries.reverse()) {
        const args = await this.conn.prepare(`SELECT __${q.def.name}_args(${q.args})`);
        try {
          if (args.parameterCount > 0) throw new SqlError('0A000', `${q.def.name} takes its arguments as literals, not parameters`);
          const json = String((await args.runAndReadAll()).getRows()[0]?.[0]);
          const rest = generated.slice(q.end);
          const word = /^\s*([A-Za-z_]+|")/.exec(rest)?.[1]?.toUpperCase();
          const aliased = word !== undefined && !CLAUSE_WORDS.has(word);
          generated = `${generated.slice(0, q.start)}(${q.def.toSql(JSON.parse(json) as Record<string, unknown>)})${aliased ? '' : ` AS ${q.def.name}`}${rest}`;
        } finally {
          args.destroySync();
        }
      }
      return { ...(await this.prepare(generated, declaredOids)), sql };
    }
    const command = parseModelCommand(sql);
    if (command) {
      const args = await this.prepare(`SELECT __${command.def.name}_args(${command.args})`, declaredOids).catch((err: unknown) => {
        // DuckDB names the internal macro; the user wrote the command.
        if (err instanceof Error && /does not support the supplied arguments|named argument repeated/.test(err.message)) {
          throw new SqlError('42883', `${command.def.name} does not take these arguments`, `its arguments are: ${command.def.signature.replaceAll(':=', '=>')}`);
        }
        throw err;
      });
      const resultSql = `SELECT ${command.columns} FROM (${command.def.resultSql}) AS ${command.def.name}`;
      const prepared = await this.conn.prepare(resultSql);
      return { sql, special: null, prepared, paramOids: args.paramOids, command: { def: command.def, args: args.prepared!, resultSql } };
    }
    const duckSql = rewriteAiCalls(rewriteForDuckDB(rewritePgLiterals(sql)), (m) => this.ctx.ai.registry.dimensionOf(m));
    let prepared = await this.conn.prepare(duckSql);
    const refusal = refusalOfStatement(prepared.statementType, duckSql);
    if (refusal) {
      prepared.destroySync();
      throw refusal;
    }
    const count = prepared.parameterCount;
    const needsCast = new Set<number>();
    for (let i = 1; i <= count; i++) {
      const declared = declaredOids[i - 1] ?? 0;
      if (parameterType(prepared, i) === null || (declared !== 0 && duckdbTypeForOid[declared])) needsCast.add(i);
    }
    if (!needsCast.size && !columnTypesKnown(prepared) && count > 0) for (let i = 1; i <= count; i++) needsCast.add(i);
    if (needsCast.size) {
      prepared.destroySync();
      // Unknown parameters are text, as in Postgres; where text does not fit (`c * $1`), numbers.
      const typed = (fallback: string): string => rewriteParameters(duckSql, (i, tok) =>
        needsCast.has(i) ? `CAST(${tok} AS ${duckdbTypeForOid[declaredOids[i - 1] ?? 0] ?? fallback})` : tok);
      prepared = await this.conn.prepare(typed('VARCHAR')).catch(async (err: unknown) => {
        try {
          return await this.conn.prepare(typed('DOUBLE'));
        } catch {
          throw err;
        }
      });
    }
    const paramOids: number[] = [];
    for (let i = 1; i <= prepared.parameterCount; i++) {
      const declared = declaredOids[i - 1] ?? 0;
      const t = parameterType(prepared, i);
      paramOids.push(declared || (t ? columnCodec(t).oid : Oid.text));
    }
    return { sql, duckSql, prefetchQuery: prefetchQuery(duckSql), generation: this.ctx.ai.registry.generation, special: null, prepared, paramOids };
  }

  // ---- extended query -----------------------------------------------------------------------

  private async parse(r: MessageReader): Promise<void> {
    const name = r.cstring();
    const sql = r.cstring();
    const n = r.int16();
    const oids: number[] = [];
    for (let i = 0; i < n; i++) oids.push(r.int32());
    if (name && this.statements.has(name)) throw new SqlError('42P05', `prepared statement "${name}" already exists`);
    const parts = splitStatements(sql);
    if (parts.length > 1) throw new SqlError('42601', 'cannot insert multiple commands into a prepared statement');
    if (!name) this.dropStatement('');
    const statement: Statement = parts.length === 0
      ? { sql: '', special: null, prepared: null, paramOids: oids }
      : await this.prepare(parts[0]!, oids);
    this.statements.set(name, statement);
    msg.parseComplete(this.out.w);
  }

  private async bind(r: MessageReader): Promise<void> {
    const portalName = r.cstring();
    const statementName = r.cstring();
    const formatCount = r.int16();
    const paramFormats: number[] = [];
    for (let i = 0; i < formatCount; i++) paramFormats.push(r.int16());
    const paramCount = r.int16();
    const params: Array<Buffer | null> = [];
    for (let i = 0; i < paramCount; i++) {
      const len = r.int32();
      params.push(len < 0 ? null : Buffer.from(r.bytes(len)));
    }
    const resultCount = r.int16();
    const resultFormats: number[] = [];
    for (let i = 0; i < resultCount; i++) resultFormats.push(r.int16());
    const statement = this.statements.get(statementName);
    if (!statement) throw new SqlError('26000', `prepared statement "${statementName}" does not exist`);
    const expected = (statement.command?.args ?? statement.prepared)?.parameterCount ?? 0;
    if (paramCount !== expected) {
      throw new SqlError('08P01', `bind message supplies ${paramCount} parameters, but prepared statement "${statementName}" requires ${expected}`);
    }
    if (portalName && this.portals.has(portalName)) throw new SqlError('42P03', `cursor "${portalName}" already exists`);
    this.closePortal(portalName);
    this.portals.set(portalName, { statement, params, paramFormats, resultFormats, cursor: null, finishedTag: null });
    msg.bindComplete(this.out.w);
  }

  private async describe(r: MessageReader): Promise<void> {
    const kind = String.fromCharCode(r.byte());
    const name = r.cstring();
    if (kind === 'S') {
      const statement = this.statements.get(name);
      if (!statement) throw new SqlError('26000', `prepared statement "${name}" does not exist`);
      msg.parameterDescription(this.out.w, statement.paramOids);
      this.describeRows(statement, []);
    } else if (kind === 'P') {
      const portal = this.portals.get(name);
      if (!portal) throw new SqlError('34000', `portal "${name}" does not exist`);
      // The portal runs now and is described from its actual result: DuckDB's prepared-statement
      // metadata can be stale after DDL, or unresolved until the parameters are bound.
      if (portal.statement.prepared && !portal.cursor && portal.finishedTag === null) {
        // The portal's own Execute and at least one more before Sync make a batch.
        await this.beginImplicitTransactionIfBatch(2);
        await this.withTimeout(() => this.start(portal, false));
      }
      if (portal.cursor) {
        msg.rowDescription(this.out.w, portal.cursor.fields);
      } else if (portal.statement.special) this.describeRows(portal.statement, []);
      else msg.noData(this.out.w);
    } else throw new ProtocolError(`invalid Describe target "${kind}"`);
  }

  private describeRows(statement: Statement, formats: readonly number[]): void {
    const p = statement.prepared;
    if (statement.special?.kind === 'show' || statement.special?.kind === 'show-duckdb') {
      msg.rowDescription(this.out.w, [textField(statement.special.name)]);
      return;
    }
    if (!p || !returnsRows(p, statement.sql)) {
      msg.noData(this.out.w);
      return;
    }
    const fields = [];
    for (let i = 0; i < p.columnCount; i++) {
      const name = p.columnName(i);
      let field;
      try {
        field = describeColumns([name], [p.columnType(i)], [formatOf(formats, i)])[0]!;
      } catch (err) {
        if (err instanceof SqlError) throw err;
        // DuckDB resolves some result types only once it sees the parameter values.
        field = textField(name);
      }
      fields.push(field);
    }
    statement.describedOids = fields.map((f) => f.typeOid);
    msg.rowDescription(this.out.w, fields);
  }

  private async execute(r: MessageReader): Promise<void> {
    const name = r.cstring();
    const maxRows = r.int32();
    const portal = this.portals.get(name);
    if (!portal) throw new SqlError('34000', `portal "${name}" does not exist`);
    if (!portal.statement.prepared && !portal.statement.special) {
      msg.emptyQueryResponse(this.out.w);
      return;
    }
    // This Execute and at least one more before Sync make a batch.
    if (!portal.cursor && portal.finishedTag === null) await this.beginImplicitTransactionIfBatch(1);
    let sentBefore = portal.cursor?.rowsSent ?? 0;
    const suspended = await this.withTimeout(async () => {
      if (!portal.cursor && portal.finishedTag === null) {
        await this.start(portal, false);
        sentBefore = 0;
      }
      if (!portal.cursor) return false;
      if (this.openCursor !== portal.cursor) await this.parkOpenCursor();
      this.openCursor = portal.cursor;
      const done = portal.cursor.done || (await portal.cursor.send(this.out, maxRows > 0 ? maxRows : 0));
      if (done) this.openCursor = null;
      return !done;
    });
    if (suspended) {
      msg.portalSuspended(this.out.w);
      return;
    }
    // Postgres counts the rows of this Execute, not of the portal's earlier ones.
    msg.commandComplete(this.out.w, this.tagOf(portal, (portal.cursor?.rowsSent ?? 0) - sentBefore));
  }

  private closeTarget(r: MessageReader): void {
    const kind = String.fromCharCode(r.byte());
    const name = r.cstring();
    if (kind === 'S') this.dropStatement(name);
    else if (kind === 'P') this.closePortal(name);
    else throw new ProtocolError(`invalid Close target "${kind}"`);
    msg.closeComplete(this.out.w);
  }

  private dropStatement(name: string): void {
    const s = this.statements.get(name);
    if (!s) return;
    this.statements.delete(name);
    for (const [pname, p] of this.portals) if (p.statement === s) this.closePortal(pname);
    this.release(s);
  }

  private closePortal(name: string): void {
    const p = this.portals.get(name);
    if (!p) return;
    if (p.cursor && this.openCursor === p.cursor) this.openCursor = null;
    this.portals.delete(name);
  }

  // ---- running ------------------------------------------------------------------------------

  private async parkOpenCursor(): Promise<void> {
    const c = this.openCursor;
    this.openCursor = null;
    if (c && !c.done) await c.park();
  }

  /** Runs a portal's statement; a row-returning result is left open in portal.cursor. */
  private async start(portal: Portal, describe: boolean): Promise<void> {
    const { statement } = portal;
    if (this.tx === 'E' && statement.special?.kind !== 'commit' && statement.special?.kind !== 'rollback') {
      throw new SqlError('25P02', 'current transaction is aborted, commands ignored until end of transaction block',
        'run ROLLBACK to end the failed transaction');
    }
    if (statement.special) {
      portal.finishedTag = await this.runSpecial(statement.special, describe);
      return;
    }
    await this.parkOpenCursor();
    await this.reprepareIfRegistryChanged(statement);
    let p = statement.prepared!;
    this.bindPortal(statement.command?.args ?? p, portal);
    if (statement.command) {
      await this.runCommand(statement.command.def, statement.command.args);
      // The answer reads session variables the command just set: DuckDB fixes them at prepare.
      p = await this.conn.prepare(statement.command.resultSql);
    }
    if (statement.prefetchQuery) await this.prefetch(statement.prefetchQuery, portal);
    const result = await p.stream();
    this.trackTransaction(p.statementType, statement.sql);
    if (result.returnType === ResultReturnType.QUERY_RESULT) {
      const cursor = new ResultCursor(result, portal.resultFormats);
      const described = statement.describedOids;
      if (described) {
        const actual = cursor.fields.map((f) => f.typeOid);
        if (actual.length !== described.length || actual.some((o, i) => o !== described[i] && described[i] !== Oid.text)) {
          throw new SqlError('0A000', 'cached plan must not change result type', 'prepare the statement again (its tables changed)');
        }
      }
      if (describe) msg.rowDescription(this.out.w, cursor.fields);
      portal.cursor = cursor;
      this.openCursor = cursor;
      return;
    }
    let changed = 0;
    if (result.returnType === ResultReturnType.CHANGED_ROWS) {
      const chunk = await result.fetchChunk();
      const v = chunk && chunk.rowCount > 0 ? chunk.getColumns()[0]?.[0] : 0;
      changed = Number(v ?? 0);
    }
    // CREATE TABLE ... AS reports its row count the way Postgres does: "SELECT n".
    portal.finishedTag = p.statementType === StatementType.CREATE && result.returnType === ResultReturnType.CHANGED_ROWS
      ? `SELECT ${changed}`
      : commandTag(p.statementType, statement.sql, changed);
  }

  /**
   * A statement prepared before a registry change may cast ai_embed to another model version's
   * FLOAT[n]: it is prepared again (a result of a new shape then fails the Describe check, as a
   * stale plan does in Postgres).
   */
  private async reprepareIfRegistryChanged(statement: Statement): Promise<void> {
    const generation = this.ctx.ai.registry.generation;
    if (statement.generation === undefined || statement.generation === generation || !statement.duckSql?.includes('ai_embed')) return;
    const fresh = await this.prepare(statement.sql, statement.paramOids);
    statement.generation = generation;
    if (fresh.duckSql === statement.duckSql) return fresh.prepared?.destroySync();
    statement.prepared?.destroySync();
    statement.prepared = fresh.prepared;
    statement.duckSql = fresh.duckSql!;
    statement.prefetchQuery = fresh.prefetchQuery ?? null;
  }

  private bindPortal(target: DuckDBPreparedStatement, portal: Portal): void {
    target.clearBindings();
    for (let i = 0; i < portal.params.length; i++) {
      const format = portal.paramFormats.length === 1 ? portal.paramFormats[0]! : (portal.paramFormats[i] ?? 0);
      bindParameter(target, i + 1, portal.statement.paramOids[i] ?? 0, format, portal.params[i] ?? null);
    }
  }

  /** Computes the statement's AI calls before it runs, without holding the engine thread (see ai-prefetch). */
  private async prefetch(query: string, portal: Portal): Promise<void> {
    // Inside a transaction a failing pass would abort it: the functions compute during the statement.
    if (this.tx !== 'I' || this.implicitTx !== 'none') return;
    const bind = portal.params.length === 0 ? null : (query: DuckDBPreparedStatement): boolean => {
      if (query.parameterCount !== portal.params.length) return false;
      this.bindPortal(query, portal);
      return true;
    };
    try {
      await prefetch(this.conn, this.ctx.ai, this.caller, query, () => this.interrupted || this.timedOut || this.out.closed, bind);
    } catch {
      // The statement itself reports whatever made the prefetch fail.
    }
    if (this.timedOut) throw new SqlError('57014', 'canceling statement due to statement timeout');
    if (this.interrupted) throw new SqlError('57014', 'canceling statement due to user request');
  }

  /**
   * Runs a registry command in a transaction of its own, one command at a time across sessions,
   * then reloads the shared registry from what was committed. Inside a transaction block it is
   * refused (as Postgres refuses CREATE DATABASE there): every session resolves models from the
   * one shared registry, which must only ever hold committed versions.
   */
  private async runCommand(def: ModelCommand, args: DuckDBPreparedStatement): Promise<void> {
    if (this.tx !== 'I' || this.implicitTx !== 'none') {
      throw new SqlError('25001', `${def.name} cannot run inside a transaction block`,
        'run it as a statement of its own, outside BEGIN ... COMMIT and not in a multi-statement query');
    }
    const json = (await args.runAndReadAll()).getRows()[0]?.[0];
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(String(json)) as Record<string, unknown>;
    } catch {
      throw new SqlError('22023', `${def.name}: every number argument must be finite (not infinity or NaN)`);
    }
    const ai = this.ctx.ai;
    await def.run(this.conn, ai, parsed, (work) => ai.registryWrite(async () => {
      await this.runDuck('BEGIN TRANSACTION');
      try {
        await work();
        const stop = this.stopReason();
        if (stop) throw new SqlError('57014', stop);
        // From here the change stands: a cancel that comes now is too late, as after a COMMIT in Postgres.
        this.committed = true;
        await this.runDuck('COMMIT');
      } catch (err) {
        await this.runDuck('ROLLBACK').catch(() => undefined);
        throw err;
      }
      // Not through this session's connection: a client that goes away now interrupts it, and every
      // other session would keep resolving models from the registry as it was.
      await ai.reloadRegistry();
    }), {
      sid: this.ctx.sid,
      stopReason: () => this.stopReason(),
      notice: (message) => {
        msg.noticeResponse(this.out.w, { severity: 'NOTICE', code: '00000', message });
        this.out.flush();
      },
      progress: (fn, model, rows, cached) => this.progress(fn, model, rows, cached),
    });
  }

  private tagOf(portal: Portal, rows = portal.cursor?.rowsSent ?? 0): string {
    if (portal.cursor) return commandTag(portal.statement.prepared!.statementType, portal.statement.sql, rows);
    return portal.finishedTag ?? 'OK';
  }

  /** Runs a statement (execution and sending its rows) under the session's statement_timeout. */
  private async withTimeout<T>(work: () => Promise<T>): Promise<T> {
    const ms = this.settings.statementTimeoutMs;
    this.timedOut = false;
    this.interrupted = false;
    this.cancelEpoch = this.cancelCounter;
    this.deadline = ms > 0 ? Date.now() + ms : Infinity;
    const timer = ms > 0
      ? setTimeout(() => {
        if (this.committed) return;
        this.timedOut = true;
        this.cancel();
      }, ms)
      : null;
    try {
      const result = await work();
      // An interrupt can end a streaming result early without an error; the client must not
      // mistake the rows it got for the whole result.
      if (this.interrupted) throw new SqlError('57014', 'canceling statement due to user request');
      return result;
    } finally {
      if (timer) clearTimeout(timer);
      this.committed = false;
      this.ctx.ai.jobs.delete(this.ctx.sid);
      this.caller.prefetched.clear();
    }
  }

  private trackTransaction(type: StatementType, sql: string): void {
    if (type !== StatementType.TRANSACTION) return;
    const w = /^\s*(\w+)/.exec(sql)?.[1]?.toUpperCase();
    this.tx = w === 'BEGIN' || w === 'START' ? 'T' : 'I';
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

  private async runSpecial(s: SpecialStatement, describe: boolean): Promise<string> {
    switch (s.kind) {
      case 'begin':
        if (this.implicitTx !== 'none') {
          this.implicitTx = 'none';
          this.tx = 'T';
          return 'BEGIN';
        }
        if (this.tx !== 'I') {
          this.notice({ code: '25001', message: 'there is already a transaction in progress' });
          return 'BEGIN';
        }
        await this.runDuck('BEGIN TRANSACTION');
        this.tx = 'T';
        return 'BEGIN';
      case 'commit':
        if (this.implicitTx !== 'none') {
          await this.endImplicitTransaction();
          return 'COMMIT';
        }
        if (this.tx === 'I') {
          this.notice({ code: '25P01', message: 'there is no transaction in progress' });
          return 'COMMIT';
        }
        if (this.tx === 'E') {
          await this.runDuck('ROLLBACK');
          this.tx = 'I';
          return 'ROLLBACK';
        }
        this.tx = 'I';
        await this.runDuck('COMMIT');
        return 'COMMIT';
      case 'rollback':
        if (this.implicitTx !== 'none') {
          this.implicitTx = 'failed';
          await this.endImplicitTransaction();
          return 'ROLLBACK';
        }
        if (this.tx === 'I') {
          this.notice({ code: '25P01', message: 'there is no transaction in progress' });
          return 'ROLLBACK';
        }
        this.tx = 'I';
        await this.runDuck('ROLLBACK');
        return 'ROLLBACK';
      case 'set': {
        const status = this.settings.set(s.name, s.value);
        if (status) msg.parameterStatus(this.out.w, status[0], status[1]);
        return 'SET';
      }
      case 'reset': {
        if (s.name.toUpperCase() === 'ALL') {
          this.settings.resetAll();
          await this.runDuck('RESET ALL').catch(() => undefined);
          return 'RESET';
        }
        const status = this.settings.reset(s.name);
        if (status) msg.parameterStatus(this.out.w, status[0], status[1]);
        return 'RESET';
      }
      case 'show':
      case 'show-duckdb': {
        if (describe) {
          msg.rowDescription(this.out.w, [textField(s.name)]);
        }
        const value = s.kind === 'show' ? this.settings.get(s.name) : await this.duckdbSetting(s.name);
        this.out.w.begin('D').int16(1).lengthPrefixedString(value).end();
        return 'SHOW';
      }
      case 'noop':
        return s.tag;
      case 'discard':
        if (this.tx !== 'I') throw new SqlError('25001', 'DISCARD ALL cannot run inside a transaction block');
        for (const name of [...this.statements.keys()]) this.dropStatement(name);
        this.portals.clear();
        this.settings.resetAll();
        return 'DISCARD ALL';
      case 'copy': {
        await this.parkOpenCursor();
        const rows = await runCopy(this, s.copy);
        return `COPY ${rows}`;
      }
      case 'forbidden':
        throw s.error;
    }
  }
}

const dml = new Set([StatementType.INSERT, StatementType.UPDATE, StatementType.DELETE, StatementType.MERGE_INTO]);

/** Whether Execute will send rows: DML only with RETURNING (otherwise DuckDB's one "Count" column is the tag). */
function returnsRows(p: DuckDBPreparedStatement, sql: string): boolean {
  if (p.columnCount === 0) return false;
  if (dml.has(p.statementType)) return hasCodeKeyword(sql, 'RETURNING');
  return p.statementType !== StatementType.CREATE && p.statementType !== StatementType.DROP &&
    p.statementType !== StatementType.ALTER && p.statementType !== StatementType.TRANSACTION &&
    p.statementType !== StatementType.COPY;
}

/** False when DuckDB cannot tell the result columns before it knows the parameters' types. */
function columnTypesKnown(p: DuckDBPreparedStatement): boolean {
  try {
    for (let i = 0; i < p.columnCount; i++) p.columnTypeId(i);
    return true;
  } catch {
    return false;
  }
}
