import type { ResultCursor } from './result-cursor.js';

/**
 * The one result a session's DuckDB connection is streaming, if any: a suspended portal or a SQL
 * cursor being read. DuckDB streams one result per connection, so before the connection runs
 * anything else the open result is parked (its rest read into memory, result-cursor.ts).
 */
export class OpenResult {
  private current: ResultCursor | null = null;

  /** `cursor` is now the one streaming. */
  opened(cursor: ResultCursor): void {
    this.current = cursor;
  }

  /** Makes `cursor` the one streaming, parking another first. */
  async use(cursor: ResultCursor): Promise<void> {
    if (this.current !== cursor) await this.park();
    this.current = cursor;
  }

  /** `cursor` is finished with (read to its end, closed, or dropped). */
  drop(cursor: ResultCursor | null): void {
    if (cursor && this.current === cursor) this.current = null;
  }

  /** Frees the connection: the streaming result, if any, reads its rest into memory. */
  async park(): Promise<void> {
    const c = this.current;
    this.current = null;
    if (c && !c.done) await c.park();
  }
}
