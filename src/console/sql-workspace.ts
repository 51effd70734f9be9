import type pg from 'pg';
import Cursor from 'pg-cursor';
import type { SqlColumn, SqlPage } from './api-types.js';
import { HttpError } from './http-util.js';

export const PAGE_SIZES: readonly number[] = [50, 100, 500, 1000];
export const DEFAULT_PAGE_SIZE = 100;
/** Rows of pages already served that are kept, so the page can go back without running the statement again. */
const KEPT_ROWS = 20_000;
/** Rows read at a time when skipping ahead. */
const SKIP_CHUNK = 2_000;
/** Longer values are cut for the table (the page shows where). */
export const CELL_MAX_CHARS = 10_000;
/** The SQL page's session ends after this long unused (its statement's cursor with it). */
const IDLE_MS = 15 * 60_000;

type Value = string | null;
type Rows = Value[][];

/** Every value as the server sent it (PostgreSQL's text form), as psql shows it. */
const TEXT_TYPES = { getTypeParser: () => (value: string): string => value } as unknown as pg.CustomTypesConfig;

/** A statement's result being read page by page from its cursor (an open portal in the session). */
class OpenResult {
  columns: SqlColumn[] = [];
  command: string | null = null;
  /** Rows taken out of the cursor so far, served or skipped. */
  consumed = 0;
  /** Rows read past `consumed`, not yet served. */
  ahead: Rows = [];
  /** The cursor has no more rows (its portal is closed). */
  exhausted = false;
  private readonly kept = new Map<number, Rows>();
  private keptRows = 0;

  constructor(readonly id: number, readonly cursor: Cursor<Value[]>, readonly pageSize: number) {}

  private read(n: number): Promise<Rows> {
    return new Promise((resolve, reject) => {
      this.cursor.read(n, (err, rows, result) => {
        if (err) return reject(err);
        if (result) {
          if (!this.columns.length) this.columns = result.fields.map((f) => ({ name: f.name, typeOid: f.dataTypeID }));
          if (result.command) this.command = result.rowCount === null ? result.command : `${result.command} ${result.rowCount}`;
        }
        if (rows.length < n) this.exhausted = true;
        resolve(rows);
      });
    });
  }

  private async fill(n: number): Promise<void> {
    while (this.ahead.length < n && !this.exhausted) {
      const rows = await this.read(Math.max(n - this.ahead.length, 1));
      for (const r of rows) this.ahead.push(r);
    }
  }

  private async skip(n: number): Promise<void> {
    while (n > 0) {
      if (!this.ahead.length) await this.fill(Math.min(n, SKIP_CHUNK));
      if (!this.ahead.length) return;
      const dropped = this.ahead.splice(0, n).length;
      this.consumed += dropped;
      n -= dropped;
    }
  }

  /** The page starting at row `offset` (0-based); one row is read ahead to know whether it is the last. */
  async page(offset: number): Promise<{ rows: Rows; offset: number }> {
    const kept = this.kept.get(offset);
    if (kept) return { rows: kept, offset };
    if (offset < this.consumed) {
      throw new HttpError(409, `rows ${offset + 1}–${offset + this.pageSize} of this result are no longer held`, {
        hint: 'run the statement again to see them (it is not run again by itself: it may have changed data)',
      });
    }
    await this.skip(offset - this.consumed);
    await this.fill(this.pageSize + 1);
    const rows = this.ahead.splice(0, this.pageSize);
    this.consumed += rows.length;
    this.keep(offset, rows);
    return { rows, offset };
  }

  /** The last page: reads to the end, holding no more than two pages at a time. */
  async lastPage(): Promise<{ rows: Rows; offset: number }> {
    while (!this.exhausted) {
      await this.fill(this.ahead.length + SKIP_CHUNK);
      if (this.ahead.length > 2 * this.pageSize) {
        const dropped = this.ahead.splice(0, this.ahead.length - this.pageSize).length;
        this.consumed += dropped;
      }
    }
    const total = this.consumed + this.ahead.length;
    return this.page(Math.max(0, Math.floor((total - 1) / this.pageSize) * this.pageSize));
  }

  get total(): number | null {
    return this.exhausted ? this.consumed + this.ahead.length : null;
  }

  private keep(offset: number, rows: Rows): void {
    this.kept.set(offset, rows);
    this.keptRows += rows.length;
    for (const [o, r] of this.kept) {
      if (this.keptRows <= KEPT_ROWS || o === offset) break;
      this.kept.delete(o);
      this.keptRows -= r.length;
    }
  }

  /** Closes the portal unless the result ended (or failed) by itself. */
  async close(): Promise<void> {
    if (!this.exhausted) await this.cursor.close();
  }
}

/**
 * The SQL page's own Postgres session in a browser session's pool: statements run there as the user
 * typed them, so SET, BEGIN … COMMIT and temporary tables carry from one run to the next, as in psql.
 * A result is read through a cursor a page at a time, never whole.
 */
export class SqlWorkspace {
  private client: pg.PoolClient | null = null;
  private pid: number | null = null;
  private broken = false;
  private result: OpenResult | null = null;
  private results = 0;
  private chain: Promise<unknown> = Promise.resolve();
  private busy = false;
  private idleTimer: NodeJS.Timeout | null = null;

  constructor(private readonly pool: pg.Pool, private readonly cancelBackend: (pid: number) => boolean) {}

  /** Runs a statement and answers its first page. */
  run(sql: string, pageSize: number): Promise<SqlPage> {
    if (!PAGE_SIZES.includes(pageSize)) throw new HttpError(400, `the page size must be one of ${PAGE_SIZES.join(', ')}`);
    if (!sql.trim()) throw new HttpError(400, 'there is no statement to run');
    return this.serial(async () => {
      await this.closeResult();
      const client = await this.session();
      const started = performance.now();
      const cursor = client.query(new Cursor<Value[]>(sql, undefined, { rowMode: 'array', types: TEXT_TYPES }));
      const result = new OpenResult(++this.results, cursor, pageSize);
      this.result = result;
      try {
        return this.answer(result, await result.page(0), started);
      } catch (err) {
        this.result = null;
        result.exhausted = true;
        throw err;
      }
    });
  }

  /** Another page of the result `resultId` names: from row `offset`, or the last one. */
  page(resultId: number, offset: number | 'last'): Promise<SqlPage> {
    return this.serial(async () => {
      const result = this.result;
      if (!result || result.id !== resultId) {
        throw new HttpError(409, 'this result is no longer open', { hint: 'run the statement again (a newer statement, perhaps in another tab, or a failure closed it)' });
      }
      const started = performance.now();
      try {
        return this.answer(result, offset === 'last' ? await result.lastPage() : await result.page(offset), started);
      } catch (err) {
        if (!(err instanceof HttpError)) {
          this.result = null;
          result.exhausted = true;
        }
        throw err;
      }
    });
  }

  /** Cancels the statement running now, as psql's ^C does; false when nothing runs. */
  cancel(): boolean {
    return this.busy && this.pid !== null ? this.cancelBackend(this.pid) : false;
  }

  /** Ends the session (when the browser session ends). */
  close(): Promise<void> {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    return this.serial(async () => {
      await this.closeResult();
      this.client?.release(this.broken);
      this.client = null;
      this.pid = null;
    }, false);
  }

  private answer(result: OpenResult, page: { rows: Rows; offset: number }, started: number): SqlPage {
    return {
      resultId: result.id,
      columns: result.columns,
      rows: page.rows.map((r) => r.map(cut)),
      offset: page.offset,
      pageSize: result.pageSize,
      done: result.total !== null && page.offset + page.rows.length >= result.total,
      total: result.total,
      command: result.columns.length ? null : result.command,
      elapsedMs: Math.round(performance.now() - started),
    };
  }

  private async session(): Promise<pg.PoolClient> {
    if (this.client && this.broken) {
      this.client.release(true);
      this.client = null;
    }
    if (!this.client) {
      const client = await this.pool.connect();
      this.broken = false;
      client.on('error', () => (this.broken = true));
      this.client = client;
      this.pid = Number((await client.query('SELECT pg_backend_pid() AS pid')).rows[0].pid);
    }
    return this.client;
  }

  private async closeResult(): Promise<void> {
    const result = this.result;
    this.result = null;
    if (result && !this.broken) await result.close().catch(() => (this.broken = true));
  }

  private serial<T>(work: () => Promise<T>, keepAlive = true): Promise<T> {
    const run = async (): Promise<T> => {
      if (this.idleTimer) clearTimeout(this.idleTimer);
      this.busy = true;
      try {
        return await work();
      } finally {
        this.busy = false;
        if (keepAlive) this.idleTimer = setTimeout(() => void this.close(), IDLE_MS).unref();
      }
    };
    const next = this.chain.then(run, run);
    this.chain = next.catch(() => undefined);
    return next;
  }
}

function cut(v: Value): Value {
  return v !== null && v.length > CELL_MAX_CHARS ? `${v.slice(0, CELL_MAX_CHARS)}… (${v.length} characters)` : v;
}
