import { StatementType, type DuckDBPreparedStatement, type DuckDBType } from '@duckdb/node-api';
import { SqlError } from '../errors/sql-error.js';
import { commandTag } from '../pg/command-tag.js';
import { bindParameter, parameterType } from '../pg/parameters.js';
import { readOnlyRefusal } from '../pg/read-only.js';
import * as msg from '../protocol/backend.js';
import { Frontend } from '../protocol/codes.js';
import { decodeClientMessage } from '../protocol/frontend.js';
import { literalOf, parseInsertValues, type Literal } from '../sqltext/insert-values.js';
import { rewriteParameters } from '../sqltext/statements.js';
import { bindableAs, bindLiteral } from './insert-literals.js';
import { InsertTemplates, rowsOfParameters, type InsertTemplate } from './insert-templates.js';
import type { PortalHost } from './portal-runner.js';
import type { JournalEntry } from './savepoints.js';
import type { Statement } from './statements.js';

/** What running INSERTs as batches needs of its session: what running a portal needs, and statement control. */
export interface InsertBatchHost extends PortalHost {
  /** Runs the batch as one statement under statement control (cancel, statement_timeout). */
  runStatement<T>(work: () => Promise<T>): Promise<T>;
}

/** A head's columns, from preparing one row of parameters for it; null when such rows are not run as batches. */
interface HeadColumns {
  types: DuckDBType[];
}

/** One execution's parameters, as Bind sent them. */
interface BoundRow {
  params: ReadonlyArray<Buffer | null>;
  formats: readonly number[];
}

/** An execution waiting in the inbox: its parameters, whether a Describe came with it, how many messages it is. */
interface Waiting {
  row: BoundRow;
  describe: boolean;
  messages: number;
}

/** A statement of the extended protocol that runs as batches: its head, its rows with their parameters renumbered from 1. */
interface PipelinedShape {
  head: string;
  rowsText: string;
  params: number;
  tuples: number;
  types: Array<DuckDBType | null>;
}

/** Rows of one simple-protocol batch at most (a journal entry and a statement text hold them all). */
const MAX_BATCH_ROWS = 4096;

/**
 * Many rows inserted by one DuckDB statement instead of one each: DuckDB spends a few hundred
 * microseconds on any statement, so a driver's batch of single-row INSERTs costs what a multi-row
 * INSERT costs only when it runs as one.
 *
 * - Simple protocol (psycopg2's execute_batch, execute_values, pandas.to_sql): a run of INSERTs of
 *   literal rows into the same table and columns within one Query, or one INSERT of many rows, runs
 *   as prepared multi-row INSERTs (insert-templates.ts) with the literals bound as parameters
 *   (insert-literals.ts): no rewrite, no prepare, no plan of constants per statement.
 * - Extended protocol (pgJDBC's executeBatch, with or without reWriteBatchedInserts): the Execute
 *   of an INSERT ... VALUES and the Bind/Describe/Execute messages of the same statement already
 *   waiting after it (before Sync) run as one multi-row INSERT.
 *
 * Each statement still gets its own CommandComplete (and BindComplete, NoData). Rows run together
 * only when each row's values depend on nothing but themselves (sqltext/insert-values.ts), so the
 * result is the one the statements give one by one. A batch that fails fails as a whole: its
 * statements all were in one transaction, which the failure aborts (DuckDB, as Postgres, then
 * refuses everything until ROLLBACK), so what is stored is the same; the error is reported for the
 * batch's first statement.
 */
export class InsertBatches {
  private readonly templates: InsertTemplates;
  /** Heads seen once: a head's second INSERT on prepares its one-row statement (one-off INSERTs stay on the usual path). */
  private readonly seenHeads = new Set<string>();
  private readonly heads = new Map<string, HeadColumns | null>();
  private headsVersion = '';
  private readonly shapes = new WeakMap<Statement, PipelinedShape | null>();

  private session: InsertBatchHost | null = null;

  constructor(private readonly hostOf: () => InsertBatchHost) {
    this.templates = new InsertTemplates(() => this.host.preparer.version());
  }

  private get host(): InsertBatchHost {
    return (this.session ??= this.hostOf());
  }

  // ---- simple protocol ----------------------------------------------------------------------

  /**
   * Runs the INSERTs of literal rows starting at parts[from] that go to the same table and
   * columns, as one batch; returns how many statements it ran (0: parts[from] is not such an INSERT).
   */
  async runStatements(parts: readonly string[], from: number): Promise<number> {
    const first = parseInsertValues(parts[from]!);
    if (!first) return 0;
    const width = first.rows[0]!.length;
    const statements = [first];
    let total = first.rows.length;
    for (let j = from + 1; j < parts.length && total < MAX_BATCH_ROWS; j++) {
      const next = parseInsertValues(parts[j]!);
      if (!next || next.head !== first.head) break;
      statements.push(next);
      total += next.rows.length;
    }
    if (total === 1 && !this.seenHeads.has(first.head)) {
      this.seenHeads.add(first.head);
      if (this.seenHeads.size > 1000) this.seenHeads.clear();
      return 0;
    }
    const columns = await this.headColumns(first.head, width);
    if (!columns) return 0;
    // The statements whose every value binds for its column; the first that has another runs on its own.
    const rows: Literal[][] = [];
    const texts: string[] = [];
    const counts: number[] = [];
    for (const statement of statements) {
      const literals = statement.rows.map((row) => (row.length === width ? row.map(literalOf) : null));
      if (!literals.every((row): row is Literal[] => row !== null && row.every((v, c) => v !== null && bindableAs(v, columns.types[c]!)))) break;
      rows.push(...literals);
      for (const row of statement.rows) texts.push(`(${row.map((v) => v.text).join(', ')})`);
      counts.push(statement.rows.length);
    }
    if (counts.length === 0) return 0;
    const shape = `${first.head}\u0000${width}`;
    const chunks = this.templates.chunks(shape, rows.length, width);
    const templates: InsertTemplate[] = [];
    for (const size of new Set(chunks)) {
      const t = await this.templates.get(shape, size, () => this.literalTemplate(first.head, width, size, columns));
      if (!t) return 0;
      templates[size] = t;
    }
    await this.run(first.head, chunks.length > 1, async () => {
      let at = 0;
      for (const size of chunks) {
        const t = templates[size]!;
        await this.execute(t, (p) => {
          for (let r = 0; r < size; r++) rows[at + r]!.forEach((v, c) => bindLiteral(p, r * width + c + 1, v));
        }, () => ({
          // the rows as written: the text the statements would have run as
          sql: `${t.sql.slice(0, t.rowsStart)}${texts.slice(at, at + size).join(', ')}`, params: [], paramFormats: [], paramOids: [], plain: true,
        }));
        at += size;
      }
    });
    for (const n of counts) msg.commandComplete(this.host.out.w, commandTag(StatementType.INSERT, '', n));
    return counts.length;
  }

  /** The types of a head's columns, from its one-row template (a row of parameters DuckDB types by their columns). */
  private async headColumns(head: string, width: number): Promise<HeadColumns | null> {
    const version = this.host.preparer.version();
    if (version !== this.headsVersion) {
      this.heads.clear();
      this.headsVersion = version;
    }
    const key = `${head}\u0000${width}`;
    if (this.heads.has(key)) return this.heads.get(key)!;
    const one = await this.templates.get(key, 1, () => this.literalTemplate(head, width, 1, null));
    const columns = one ? { types: Array.from({ length: width }, (_, i) => parameterType(one.prepared, i + 1)!) } : null;
    this.heads.set(key, columns);
    return columns;
  }

  /**
   * `rows` rows of parameters for a head, through the session's prepare (rewrite pipeline, checks):
   * null unless DuckDB prepares it as a plain INSERT whose every parameter takes its column's type.
   */
  private async literalTemplate(head: string, width: number, rows: number, columns: HeadColumns | null): Promise<InsertTemplate | null> {
    const rowsText = rowsOfParameters(width, rows);
    const sql = `${head} ${rowsText}`;
    let statement: Statement;
    try {
      statement = await this.host.preparer.prepare(sql, []);
    } catch {
      // The statements run one by one then, and report the error themselves.
      return null;
    }
    const p = statement.prepared;
    const fits = p !== null && !statement.special && !statement.command && !statement.prefetchQuery && statement.preparedSql === statement.duckSql &&
      statement.preparedSql?.endsWith(rowsText) === true &&
      p.statementType === StatementType.INSERT && p.parameterCount === width * rows &&
      Array.from({ length: width * rows }, (_, i) => parameterType(p, i + 1)).every((t, i) =>
        t !== null && (columns === null || sameType(t, columns.types[i % width]!)));
    if (!fits) {
      p?.destroySync();
      return null;
    }
    return { prepared: p, sql: statement.preparedSql!, rowsStart: statement.preparedSql!.length - rowsText.length };
  }

  // ---- extended protocol --------------------------------------------------------------------

  /**
   * The Execute of the unnamed portal, run together with the Bind, Describe and Execute messages
   * of the same statement already waiting after it; false when there are none, the portal ran
   * already, or its statement is not an INSERT of rows (the Execute then runs as usual).
   */
  async executePipelined(name: string): Promise<boolean> {
    if (name !== '') return false;
    const portal = this.host.special.statements.portal(name);
    if (portal.cursor || portal.finishedTag !== null) return false;
    const shape = this.pipelinedShape(portal.statement);
    if (!shape) return false;
    const waiting = await this.waitingExecutions(portal.statement, shape.params);
    if (waiting.length === 0) return false;
    const rows: BoundRow[] = [{ params: portal.params, formats: portal.paramFormats }, ...waiting.map((w) => w.row)];
    const key = `${shape.head}\u0000${shape.rowsText}`;
    const chunks = this.templates.chunks(key, rows.length, shape.params);
    const templates: InsertTemplate[] = [];
    for (const size of new Set(chunks)) {
      const t = await this.templates.get(key, size, () => this.pipelinedTemplate(shape, size));
      if (!t) return false;
      templates[size] = t;
    }
    this.host.special.inbox.take(waiting.reduce((n, w) => n + w.messages, 0));
    const statement = portal.statement;
    const oids = statement.paramOids;
    const tag = commandTag(StatementType.INSERT, '', shape.tuples);
    try {
      await this.run(statement.preparedSql ?? statement.sql, true, async () => {
        let at = 0;
        for (const size of chunks) {
          const t = templates[size]!;
          const batch = rows.slice(at, at + size);
          await this.execute(t, (p) => {
            batch.forEach((row, r) => row.params.forEach((v, i) => bindParameter(p, r * shape.params + i + 1, oids[i] ?? 0, formatOf(row.formats, i), v, shape.types[i]!)));
          }, () => ({
            sql: t.sql, plain: true, params: batch.flatMap((row) => row.params), paramOids: batch.flatMap(() => oids),
            paramFormats: batch.flatMap((row) => row.params.map((_, i) => formatOf(row.formats, i))),
          }));
          at += size;
        }
      });
    } finally {
      // The unnamed portal is the last one bound, finished or failed.
      const last = waiting[waiting.length - 1]!;
      this.host.special.statements.addPortal('', { statement, params: last.row.params.slice(), paramFormats: last.row.formats.slice(), resultFormats: [], cursor: null, finishedTag: tag });
    }
    portal.finishedTag = tag;
    const w = this.host.out.w;
    msg.commandComplete(w, tag);
    for (const { describe } of waiting) {
      msg.bindComplete(w);
      if (describe) msg.noData(w);
      msg.commandComplete(w, tag);
    }
    return true;
  }

  /** The statement as an INSERT of rows of parameters, or null (cached per statement). */
  private pipelinedShape(statement: Statement): PipelinedShape | null {
    if (this.shapes.has(statement)) return this.shapes.get(statement)!;
    let shape: PipelinedShape | null = null;
    const p = statement.prepared;
    const sql = statement.preparedSql;
    if (p && sql && !statement.special && !statement.command && !statement.prefetchQuery && p.statementType === StatementType.INSERT && p.parameterCount > 0) {
      const insert = parseInsertValues(sql);
      const rowsText = insert ? sql.slice(insert.head.length).trim().replace(/;$/, '') : '';
      const used = new Set<number>();
      rewriteParameters(rowsText, (i, tok) => {
        used.add(i);
        return tok;
      });
      // every parameter used, and by number: the rows' text renumbered is the next execution's rows
      if (insert && used.size === p.parameterCount && Math.max(...used) === p.parameterCount) {
        shape = {
          head: insert.head, rowsText, params: p.parameterCount, tuples: insert.rows.length,
          types: Array.from({ length: p.parameterCount }, (_, i) => parameterType(p, i + 1)),
        };
      }
    }
    this.shapes.set(statement, shape);
    return shape;
  }

  /** `executions` executions of the statement's rows as one statement, if DuckDB types its parameters as the statement's. */
  private async pipelinedTemplate(shape: PipelinedShape, executions: number): Promise<InsertTemplate | null> {
    const rows = Array.from({ length: executions }, (_, e) => rewriteParameters(shape.rowsText, (i) => `$${e * shape.params + i}`));
    const sql = `${shape.head} ${rows.join(', ')}`;
    const p = await this.host.preparer.prepareDuckDB(sql).catch(() => null);
    if (!p) return null;
    const fits = p.statementType === StatementType.INSERT && p.parameterCount === executions * shape.params &&
      Array.from({ length: p.parameterCount }, (_, i) => parameterType(p, i + 1)).every((t, i) => {
        const want = shape.types[i % shape.params];
        return want ? t !== null && sameType(t, want) : t === null;
      });
    if (!fits) {
      p.destroySync();
      return null;
    }
    return { prepared: p, sql, rowsStart: shape.head.length + 1 };
  }

  /**
   * The Bind (of `statement` into the unnamed portal), optional Describe of that portal, and
   * Execute of it that wait in the inbox, in order, up to the first message that is anything else.
   * Once there is one, messages still on their way are waited for (a driver writes a batch in
   * pieces of its buffer's size, and ends it with Sync): a client gets no answer before it sends
   * Flush or Sync anyway, from Postgres neither.
   */
  private async waitingExecutions(statement: Statement, params: number): Promise<Waiting[]> {
    const out: Waiting[] = [];
    for (let i = 0; out.length < MAX_BATCH_ROWS;) {
      const next = this.executionAt(i, statement, params);
      if (next === 'incomplete' && out.length > 0 && (await this.host.special.inbox.moreArrived())) continue;
      if (next === 'incomplete' || next === null) break;
      out.push(next);
      i += next.messages;
    }
    return out;
  }

  /** The Bind, Describe, Execute of the statement waiting from message `i` on; 'incomplete' when they have not all arrived yet. */
  private executionAt(i: number, statement: Statement, params: number): Waiting | 'incomplete' | null {
    const inbox = this.host.special.inbox;
    const bind = inbox.peek(i);
    if (!bind) return 'incomplete';
    if (bind.code !== Frontend.Bind) return null;
    const b = decodeClientMessage(bind);
    if (b.type !== 'bind' || b.portal !== '' || !this.host.special.statements.has(b.statement) || this.host.special.statements.statement(b.statement) !== statement ||
      b.params.length !== params) return null;
    let next = i + 1;
    let describe = false;
    const d = inbox.peek(next);
    if (!d) return 'incomplete';
    if (d.code === Frontend.Describe) {
      const m = decodeClientMessage(d);
      if (m.type !== 'describe' || m.target !== 'portal' || m.name !== '') return null;
      describe = true;
      next++;
    }
    const e = inbox.peek(next);
    if (!e) return 'incomplete';
    if (e.code !== Frontend.Execute) return null;
    const m = decodeClientMessage(e);
    if (m.type !== 'execute' || m.portal !== '') return null;
    return { row: { params: b.params, formats: b.paramFormats }, describe, messages: next + 1 - i };
  }

  // ---- running ------------------------------------------------------------------------------

  /** Runs a batch as one statement of the session: refused where its first statement would be. */
  private async run(sql: string, needsTransaction: boolean, work: () => Promise<void>): Promise<void> {
    const { transaction } = this.host;
    if (transaction.aborted) throw new SqlError('25P02', 'current transaction is aborted, commands ignored until end of transaction block');
    await this.host.runStatement(async () => {
      await this.host.parkOpenCursor();
      if (transaction.readOnly) {
        const refusal = await readOnlyRefusal(StatementType.INSERT, sql, this.host.isTemporary);
        if (refusal) throw refusal;
      }
      // Statements of a batch that DuckDB runs as several are one transaction, as the client's statement or statements are.
      if (needsTransaction && !transaction.open) await transaction.beginImplicit();
      await work();
    });
  }

  /** Runs a template with its parameters bound; what it did goes to the transaction's journal. */
  private async execute(t: InsertTemplate, bind: (p: DuckDBPreparedStatement) => void,
    entry: () => JournalEntry): Promise<void> {
    t.prepared.clearBindings();
    bind(t.prepared);
    await t.prepared.run();
    if (this.host.transaction.open) this.host.transaction.journal(entry());
  }
}

const formatOf = (formats: readonly number[], i: number): number => (formats.length === 1 ? formats[0]! : (formats[i] ?? 0));

const sameType = (a: DuckDBType, b: DuckDBType): boolean => a.typeId === b.typeId && a.toString() === b.toString();
