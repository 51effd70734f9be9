import { StatementType, type DuckDBType } from '@duckdb/node-api';
import { commandTag } from '../pg/command-tag.js';
import { parameterType } from '../pg/parameters.js';
import * as msg from '../protocol/backend.js';
import { literalOf, parseInsertValues, type Literal } from '../sqltext/insert-values.js';
import { bindableAs, bindLiteral } from './insert-literals.js';
import { BatchRunner, MAX_BATCH_ROWS, sameType, type InsertBatchHost } from './insert-runner.js';
import { rowsOfParameters, type InsertTemplate } from './insert-templates.js';
import { PipelinedInserts } from './pipelined-inserts.js';
import type { Statement } from './statements.js';

/** A head's columns, from preparing one row of parameters for it; null when such rows are not run as batches. */
interface HeadColumns {
  types: DuckDBType[];
}

/**
 * Many rows inserted by one DuckDB statement instead of one each: DuckDB spends a few hundred
 * microseconds on any statement, so a driver's batch of single-row INSERTs costs what a multi-row
 * INSERT costs only when it runs as one.
 *
 * - Simple protocol (psycopg2's execute_batch, execute_values, pandas.to_sql), here: a run of
 *   INSERTs of literal rows into the same table and columns within one Query, or one INSERT of many
 *   rows, runs as prepared multi-row INSERTs (insert-templates.ts) with the literals bound as
 *   parameters (insert-literals.ts): no rewrite, no prepare, no plan of constants per statement.
 * - Extended protocol (pgJDBC's executeBatch, with or without reWriteBatchedInserts), in
 *   pipelined-inserts.ts: the Execute of an INSERT ... VALUES and the Bind/Describe/Execute messages
 *   of the same statement waiting after it (before Sync) run as one multi-row INSERT.
 *
 * Each statement still gets its own CommandComplete (and BindComplete, NoData). Rows run together
 * only when each row's values depend on nothing but themselves (sqltext/insert-values.ts), so the
 * result is the one the statements give one by one; a batch that fails is reported as its
 * statements would have been (insert-runner.ts).
 */
export class InsertBatches {
  private readonly runner: BatchRunner;
  private readonly pipelined: PipelinedInserts;
  /** Heads seen once: a head's second INSERT on prepares its one-row statement (one-off INSERTs stay on the usual path). */
  private readonly seenHeads = new Set<string>();
  private readonly heads = new Map<string, HeadColumns | null>();
  private headsVersion = '';

  constructor(hostOf: () => InsertBatchHost) {
    this.runner = new BatchRunner(hostOf);
    this.pipelined = new PipelinedInserts(this.runner);
  }

  private get host(): InsertBatchHost {
    return this.runner.host;
  }

  /** See PipelinedInserts.execute. */
  executePipelined(name: string): Promise<boolean> {
    return this.pipelined.execute(name);
  }

  /**
   * Runs the INSERTs of literal rows starting at parts[from] that go to the same table and
   * columns, as one batch; returns how many statements it ran (0: parts[from] is not such an INSERT).
   */
  async runStatements(parts: readonly string[], from: number): Promise<number> {
    const first = parseInsertValues(parts[from]!);
    if (!first) return 0;
    const { head } = first;
    const width = first.rows[0]!.length;
    if (first.rows.length === 1 && !parts[from + 1]?.startsWith(head) && !this.seenHeads.has(head)) {
      this.seenHeads.add(head);
      if (this.seenHeads.size > 1000) this.seenHeads.clear();
      return 0;
    }
    const columns = await this.headColumns(head, width);
    if (!columns) return 0;
    // The statements with this head whose every value binds for its column; the first that has
    // another runs on its own.
    const rows: Literal[][] = [];
    const texts: string[] = [];
    const counts: number[] = [];
    for (let j = from; j < parts.length && rows.length < MAX_BATCH_ROWS; j++) {
      const statement = j === from ? first : parts[j]!.startsWith(head) ? parseInsertValues(parts[j]!) : null;
      if (!statement || statement.head !== head) break;
      const literals = statement.rows.map((row) => (row.length === width ? row.map(literalOf) : null));
      if (!literals.every((row): row is Literal[] => row !== null && row.every((v, c) => v !== null && bindableAs(v, columns.types[c]!)))) break;
      rows.push(...literals);
      for (const row of statement.rows) texts.push(`(${row.map((v) => v.text).join(', ')})`);
      counts.push(statement.rows.length);
    }
    if (counts.length === 0) return 0;
    const shape = `${head}\u0000${width}`;
    const chunks = this.runner.templates.chunks(shape, rows.length, width, true);
    const templates: InsertTemplate[] = [];
    for (const size of new Set(chunks)) {
      const t = await this.runner.templates.get(shape, size, () => this.literalTemplate(head, width, size, columns));
      if (!t) return 0;
      templates[size] = t;
    }
    try {
      await this.runner.run(parts[from]!, chunks.length > 1, async () => {
        let at = 0;
        for (const size of chunks) {
          const t = templates[size]!;
          await this.runner.execute(t, (p) => {
            for (let r = 0; r < size; r++) rows[at + r]!.forEach((v, c) => bindLiteral(p, r * width + c + 1, v));
          }, () => ({
            // the rows as written: the text the statements would have run as
            sql: `${t.sql.slice(0, t.rowsStart)}${texts.slice(at, at + size).join(', ')}`, params: [], paramFormats: [], paramOids: [], plain: true,
          }));
          at += size;
        }
      });
    } catch (err) {
      await this.runner.rewindOrThrow(err);
      // One by one, each with its own answer, up to the one that fails as it would have.
      for (let k = 0; k < counts.length; k++) await this.host.runSimple(parts[from + k]!);
      return counts.length;
    }
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
    const one = await this.runner.templates.get(key, 1, () => this.literalTemplate(head, width, 1, null));
    const columns = one ? { types: Array.from({ length: width }, (_, i) => parameterType(one.prepared, i + 1)!) } : null;
    if (this.heads.size >= 1000) this.heads.clear();
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
}
