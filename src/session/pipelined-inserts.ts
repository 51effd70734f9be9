import { StatementType, type DuckDBType } from '@duckdb/node-api';
import { commandTag } from '../pg/command-tag.js';
import { bindParameter, parameterType } from '../pg/parameters.js';
import * as msg from '../protocol/backend.js';
import { Frontend } from '../protocol/codes.js';
import { decodeClientMessage } from '../protocol/frontend.js';
import { parseInsertValues } from '../sqltext/insert-values.js';
import { rewriteParameters } from '../sqltext/statements.js';
import { formatOf, MAX_BATCH_ROWS, sameType, type BatchRunner, type InsertBatchHost } from './insert-runner.js';
import type { InsertTemplate } from './insert-templates.js';
import { startPortal } from './portal-runner.js';
import type { Portal, Statement } from './statements.js';

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

/**
 * The extended protocol's batches (pgJDBC's executeBatch, with or without reWriteBatchedInserts):
 * the Execute of an INSERT ... VALUES of parameters and the Bind/Describe/Execute messages of the
 * same statement waiting after it, before Sync, run as one multi-row INSERT (insert-batches.ts
 * says why); each still gets its BindComplete, NoData and CommandComplete.
 */
export class PipelinedInserts {
  private readonly shapes = new WeakMap<Statement, PipelinedShape | null>();

  constructor(private readonly runner: BatchRunner) {}

  private get host(): InsertBatchHost {
    return this.runner.host;
  }

  /**
   * The Execute of the unnamed portal, run together with the Bind, Describe and Execute messages
   * of the same statement already waiting after it; false when there are none, the portal ran
   * already, or its statement is not an INSERT of rows (the Execute then runs as usual).
   */
  async execute(name: string): Promise<boolean> {
    if (name !== '') return false;
    const portal = this.host.special.statements.portal(name);
    if (portal.cursor || portal.finishedTag !== null) return false;
    const shape = this.pipelinedShape(portal.statement);
    if (!shape) return false;
    const waiting = await this.waitingExecutions(portal.statement, shape.params);
    if (waiting.length === 0) return false;
    const rows: BoundRow[] = [{ params: portal.params, formats: portal.paramFormats }, ...waiting.map((w) => w.row)];
    const key = `${shape.head}\u0000${shape.rowsText}`;
    const chunks = this.runner.templates.chunks(key, rows.length, shape.params, false);
    const templates: InsertTemplate[] = [];
    for (const size of new Set(chunks)) {
      const t = await this.runner.templates.get(key, size, () => this.pipelinedTemplate(shape, size));
      if (!t) return false;
      templates[size] = t;
    }
    this.host.special.inbox.take(waiting.reduce((n, w) => n + w.messages, 0));
    const statement = portal.statement;
    const oids = statement.paramOids;
    const tag = commandTag(StatementType.INSERT, '', shape.tuples);
    const w = this.host.out.w;
    try {
      await this.runner.run(statement.sql, true, async () => {
        let at = 0;
        for (const size of chunks) {
          const t = templates[size]!;
          const batch = rows.slice(at, at + size);
          await this.runner.execute(t, (p) => {
            batch.forEach((row, r) => row.params.forEach((v, i) => bindParameter(p, r * shape.params + i + 1, oids[i] ?? 0, formatOf(row.formats, i), v, shape.types[i]!)));
          }, () => ({
            sql: t.sql, plain: true, params: batch.flatMap((row) => row.params), paramOids: batch.flatMap(() => oids),
            paramFormats: batch.flatMap((row) => row.params.map((_, i) => formatOf(row.formats, i))),
          }));
          at += size;
        }
      });
    } catch (err) {
      await this.runner.rewindOrThrow(err);
      // One by one, each with its own answers, up to the one that fails as it would have.
      for (let k = 0; k < rows.length; k++) {
        const one: Portal = { statement, params: rows[k]!.params.slice(), paramFormats: rows[k]!.formats.slice(), resultFormats: [], cursor: null, finishedTag: null };
        if (k > 0) {
          msg.bindComplete(w);
          if (waiting[k - 1]!.describe) msg.noData(w);
          this.host.special.statements.addPortal('', one);
        }
        await this.host.runStatement(statement.sql, () => startPortal(this.host, one, false));
        msg.commandComplete(w, one.finishedTag ?? tag);
      }
      return true;
    }
    // The unnamed portal is the last one bound, and ran.
    const last = waiting[waiting.length - 1]!;
    this.host.special.statements.addPortal('', { statement, params: last.row.params.slice(), paramFormats: last.row.formats.slice(), resultFormats: [], cursor: null, finishedTag: tag });
    portal.finishedTag = tag;
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
}
