import { ResultReturnType, StatementType, type DuckDBConnection, type DuckDBPreparedStatement } from '@duckdb/node-api';
import { SqlError } from '../errors/sql-error.js';
import type { DeclareCursor, FetchCommand, FetchDirection } from '../pg/cursor-statements.js';
import * as msg from '../protocol/backend.js';
import type { FieldDescription } from '../protocol/backend.js';
import { quoteIdent } from '../sqltext/quote.js';
import type { SessionOutput } from './output.js';
import { describeColumns, ResultCursor } from './result-cursor.js';
import type { JournalEntry } from './savepoints.js';

/** What SQL cursors need of their session. */
export interface CursorHost {
  conn: DuckDBConnection;
  out: SessionOutput;
  /** Whether the session is inside a transaction (a block, or the implicit one of a multi-statement query). */
  inTransaction(): boolean;
  /** Makes a streaming result the connection's open one, parking the one open before (DuckDB streams one at a time). */
  use(cursor: ResultCursor): Promise<void>;
  /** Forgets a streaming result that was the open one. */
  drop(cursor: ResultCursor): void;
  parkOpenCursor(): Promise<void>;
  /** Keeps a statement that changed the transaction, for ROLLBACK TO SAVEPOINT. */
  journal(entry: JournalEntry): void;
}

/** The statement a DECLARE runs, prepared by the session's preparer and bound to the DECLARE's parameters. */
export interface CursorQuery {
  prepared: DuckDBPreparedStatement;
  /** The text DuckDB prepared. */
  sql: string;
  bind(target: DuckDBPreparedStatement): void;
  journal: Omit<JournalEntry, 'sql'>;
}

/** A forward-only cursor reads DuckDB's result as it streams: nothing is held beyond the rows being sent. */
interface StreamCursor {
  kind: 'stream';
  result: ResultCursor;
}

/**
 * A SCROLL or WITH HOLD cursor is materialized in a temporary table at DECLARE (Postgres
 * materializes a holdable one at COMMIT): it can move anywhere, and outlive its transaction.
 */
interface TableCursor {
  kind: 'table';
  table: string;
  rows: number;
  formats: number[];
}

type Cursor = (StreamCursor | TableCursor) & {
  name: string;
  fields: FieldDescription[];
  hold: boolean;
  scroll: boolean;
  /** Declared in the transaction now open: a rollback closes it even if it holds. */
  fresh: boolean;
  /** Postgres' position: 0 before the first row, n on row n, rows + 1 after the last. */
  position: number;
  /** The row count once known (a stream's end was reached). */
  total: number | null;
};

let tableSeq = 0;
const ROW_NUMBER = '__aiduck_row';

/**
 * A session's SQL cursors: DECLARE, FETCH, MOVE and CLOSE, as psycopg2's named cursors, psql's
 * FETCH_COUNT and psqlODBC's UseDeclareFetch use them.
 */
export class SqlCursors {
  private readonly cursors = new Map<string, Cursor>();

  constructor(private readonly host: CursorHost) {}

  /** The RowDescription fields of a cursor a FETCH reads (null when there is none by that name). */
  fieldsOf(name: string): FieldDescription[] | null {
    return this.cursors.get(name)?.fields ?? null;
  }

  async declare(spec: DeclareCursor, query: CursorQuery): Promise<string> {
    if (this.cursors.has(spec.name)) throw new SqlError('42P03', `cursor "${spec.name}" already exists`);
    if (!spec.hold && !this.host.inTransaction()) throw new SqlError('25P01', 'DECLARE CURSOR can only be used in transaction blocks');
    const p = query.prepared;
    if (p.statementType !== StatementType.SELECT) throw new SqlError('42601', 'a cursor\'s query must be a SELECT or VALUES');
    const formats = spec.binary ? [1] : [];
    const base = { name: spec.name, hold: spec.hold, scroll: spec.scroll === true, fresh: this.host.inTransaction(), position: 0 };
    if (spec.scroll === true || spec.hold) {
      await this.host.parkOpenCursor();
      const table = `__aiduck_cursor_${++tableSeq}`;
      const names: string[] = [];
      for (let i = 0; i < p.columnCount; i++) names.push(p.columnName(i));
      const columns = names.map((_, i) => quoteIdent(`c${i}`)).join(', ');
      // Rows are numbered as the query returns them (a streaming window keeps that order); DuckDB's
      // rowid is no row number in a table its transaction has not committed.
      const ctasSql = `CREATE TEMP TABLE ${quoteIdent(table)} AS SELECT row_number() OVER () AS ${ROW_NUMBER}, * FROM (${query.sql}) AS q(${columns})`;
      const ctas = await this.host.conn.prepare(ctasSql);
      try {
        query.bind(ctas);
        await ctas.run();
      } finally {
        ctas.destroySync();
      }
      this.host.journal({ sql: ctasSql, ...query.journal });
      const shape = await this.host.conn.runAndReadAll(`SELECT count(*) FROM ${quoteIdent(table)}`);
      const rows = Number(shape.getRows()[0]?.[0] ?? 0);
      const types = (await this.host.conn.run(`SELECT * EXCLUDE (${ROW_NUMBER}) FROM ${quoteIdent(table)} LIMIT 0`)).columnTypes();
      const fields = describeColumns(names, types, formats);
      this.cursors.set(spec.name, { ...base, kind: 'table', table, rows, formats, fields, total: rows });
    } else {
      query.bind(p);
      const result = await p.stream();
      if (result.returnType !== ResultReturnType.QUERY_RESULT) throw new SqlError('42601', 'a cursor\'s query must be a SELECT or VALUES');
      const cursor = new ResultCursor(result, formats, [], this.host.out.timeZone);
      await this.host.use(cursor);
      this.cursors.set(spec.name, { ...base, kind: 'stream', result: cursor, fields: cursor.fields, total: null });
    }
    return 'DECLARE CURSOR';
  }

  /** FETCH (rows sent after a RowDescription when `describe`) or MOVE; returns the command tag. */
  async fetch(cmd: FetchCommand, describe: boolean): Promise<string> {
    const c = this.cursors.get(cmd.name);
    if (!c) throw new SqlError('34000', `cursor "${cmd.name}" does not exist`);
    if (describe && !cmd.move) msg.rowDescription(this.host.out.w, c.fields);
    const n = c.kind === 'stream' ? await this.fetchStream(c, cmd) : await this.fetchTable(c, cmd);
    return `${cmd.move ? 'MOVE' : 'FETCH'} ${n}`;
  }

  /** CLOSE name, or CLOSE ALL (null). */
  async close(name: string | null): Promise<string> {
    if (name === null) {
      for (const c of [...this.cursors.values()]) await this.remove(c);
      return 'CLOSE CURSOR ALL';
    }
    const c = this.cursors.get(name);
    if (!c) throw new SqlError('34000', `cursor "${name}" does not exist`);
    await this.remove(c);
    return 'CLOSE CURSOR';
  }

  /**
   * The transaction ended: cursors without HOLD close; with HOLD they stay, unless the transaction
   * that declared them rolled back (their table went with it).
   */
  transactionEnded(committed: boolean): void {
    for (const c of [...this.cursors.values()]) {
      if (!c.hold || (!committed && c.fresh)) {
        this.cursors.delete(c.name);
        if (c.kind === 'stream') this.host.drop(c.result);
      } else {
        c.fresh = false;
      }
    }
  }

  private async remove(c: Cursor): Promise<void> {
    this.cursors.delete(c.name);
    if (c.kind === 'stream') this.host.drop(c.result);
    else {
      await this.host.parkOpenCursor();
      await this.host.conn.run(`DROP TABLE IF EXISTS ${quoteIdent(c.table)}`);
    }
  }

  /** A stream moves forward only, as a NO SCROLL cursor does in Postgres. */
  private async fetchStream(c: Cursor & StreamCursor, cmd: FetchCommand): Promise<number> {
    const steps = forwardSteps(c, cmd.direction);
    if (steps === null) {
      throw new SqlError('55000', 'cursor can only scan forward', 'Declare it with SCROLL option to enable backward scan.');
    }
    if (steps.skip === 0 && steps.take === 0) return 0;
    if (!c.result.done) await this.host.use(c.result);
    const before = c.result.rowsSent;
    await c.result.skip(steps.skip);
    const skipped = c.result.rowsSent - before;
    let taken = 0;
    if (skipped === steps.skip && steps.take > 0) {
      const start = c.result.rowsSent;
      if (cmd.move) await c.result.skip(steps.take);
      else if (steps.take === Infinity) await c.result.send(this.host.out, 0);
      else await c.result.send(this.host.out, steps.take);
      taken = c.result.rowsSent - start;
    }
    const passed = skipped + taken;
    const wanted = steps.skip + steps.take;
    if (passed < wanted) {
      c.total = c.position + passed;
      c.position = c.total + 1;
    } else {
      c.position += passed;
    }
    // MOVE counts the rows it passed over; FETCH the rows it returned.
    return cmd.move ? (steps.kind === 'count' ? passed : taken) : taken;
  }

  private async fetchTable(c: Cursor & TableCursor, cmd: FetchCommand): Promise<number> {
    const { from, to, position } = tableSteps(c, cmd.direction);
    c.position = position;
    if (from === null) return 0;
    const count = Math.abs(to - from) + 1;
    if (cmd.move) return count;
    await this.host.parkOpenCursor();
    const [lo, hi] = from <= to ? [from, to] : [to, from];
    const result = await this.host.conn.stream(`SELECT * EXCLUDE (${ROW_NUMBER}) FROM ${quoteIdent(c.table)}
      WHERE ${ROW_NUMBER} BETWEEN ${lo} AND ${hi} ORDER BY ${ROW_NUMBER} ${from <= to ? 'ASC' : 'DESC'}`);
    await new ResultCursor(result, c.formats, [], this.host.out.timeZone).send(this.host.out, 0);
    return count;
  }
}

/**
 * A move of a forward-only cursor as rows to pass over then rows to take, or null when it would go
 * backward. `kind: 'count'` moves (FORWARD n) count every row they pass; a jump to one row counts it alone.
 */
function forwardSteps(c: Cursor, d: FetchDirection): { skip: number; take: number; kind: 'count' | 'jump' } | null {
  const after = c.total !== null && c.position > c.total;
  switch (d.kind) {
    case 'forward':
      if (d.count === 0) return c.position === 0 || after ? { skip: 0, take: 0, kind: 'jump' } : null;
      return { skip: 0, take: after ? 0 : d.count, kind: 'count' };
    case 'backward':
      return d.count === 0 && (c.position === 0 || after) ? { skip: 0, take: 0, kind: 'jump' } : null;
    case 'relative':
      if (d.n < 0 || (d.n === 0 && c.position !== 0 && !after)) return null;
      return { skip: after ? 0 : Math.max(0, d.n - 1), take: after || d.n === 0 ? 0 : 1, kind: 'jump' };
    case 'absolute':
      if (d.n <= 0 || d.n <= c.position) return null;
      return { skip: after ? 0 : d.n - c.position - 1, take: after ? 0 : 1, kind: 'jump' };
  }
}

/**
 * A move of a materialized cursor: the rows it returns, in order (from → to, 1-based; null: none),
 * and where it leaves the cursor, as Postgres' FETCH defines each direction.
 */
function tableSteps(c: Cursor, d: FetchDirection): { from: number | null; to: number; position: number } {
  const rows = c.total ?? 0;
  const pos = c.position;
  const one = (target: number): { from: number | null; to: number; position: number } =>
    target < 1 ? { from: null, to: 0, position: 0 } : target > rows ? { from: null, to: 0, position: rows + 1 } : { from: target, to: target, position: target };
  switch (d.kind) {
    case 'absolute':
      return one(d.n >= 0 ? d.n : rows + 1 + d.n);
    case 'relative':
      return one(pos + d.n);
    case 'forward': {
      if (d.count === 0) return one(pos);
      const first = pos + 1;
      const last = Math.min(rows, pos + d.count);
      if (first > last) return { from: null, to: 0, position: rows + 1 };
      return { from: first, to: last, position: pos + d.count > rows ? rows + 1 : last };
    }
    case 'backward': {
      if (d.count === 0) return one(pos);
      const first = Math.min(pos - 1, rows);
      const last = Math.max(1, pos - d.count);
      if (first < last) return { from: null, to: 0, position: 0 };
      return { from: first, to: last, position: pos - d.count < 1 ? 0 : last };
    }
  }
}
