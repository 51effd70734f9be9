import type { DuckDBPreparedStatement } from '@duckdb/node-api';

/** A prepared multi-row INSERT: `rows` rows of `rowParams` parameters each. */
export interface InsertTemplate {
  prepared: DuckDBPreparedStatement;
  /** The text DuckDB prepared. */
  sql: string;
  /** Where in it the rows start (they are `($1, $2), ($3, $4)`, as written by rowsOfParameters). */
  rowsStart: number;
}

/** `($1, $2), ($3, $4)`: `rows` rows of `width` parameters each. */
export function rowsOfParameters(width: number, rows: number): string {
  const out: string[] = [];
  for (let r = 0, k = 0; r < rows; r++) {
    const row: string[] = [];
    for (let c = 0; c < width; c++) row.push(`$${++k}`);
    out.push(`(${row.join(', ')})`);
  }
  return out.join(', ');
}

/** Rows per statement at most: past a few hundred, a bigger statement saves little and costs more to prepare. */
const MAX_ROWS = 1024;
/** Parameters per statement at most. */
const MAX_PARAMS = 16_384;
const MAX_TEMPLATES = 48;

/**
 * A session's prepared multi-row INSERTs, by the text of one row and the number of rows, valid
 * under the catalog version and registry generation they were prepared under (catalog-version.ts).
 *
 * A batch of rows runs as statements of at most MAX_ROWS rows. The rows left over take a statement
 * of exactly their number when the client chose it (the rows of its statements: psycopg2's pages of
 * 100 rows, pandas' of 1,000), or when that number came before; otherwise (as many Bind messages as
 * have arrived) statements of powers of two, so that batches of ever other sizes prepare at most a
 * few statements.
 */
export class InsertTemplates {
  private readonly templates = new Map<string, InsertTemplate>();
  private readonly seenSizes = new Set<string>();
  private version = '';

  constructor(private readonly currentVersion: () => string) {}

  /**
   * How many rows each statement of a batch of `rows` rows, `rowParams` parameters each, takes
   * (keyed by the rows' shape); `chosen`: the client chose the number, which comes again.
   */
  chunks(shape: string, rows: number, rowParams: number, chosen: boolean): number[] {
    this.checkVersion();
    const most = Math.max(1, Math.min(MAX_ROWS, Math.floor(MAX_PARAMS / Math.max(1, rowParams))));
    const out: number[] = [];
    let left = rows;
    for (; left >= most; left -= most) out.push(most);
    if (left === 0) return out;
    const key = `${left}\u0000${shape}`;
    if (chosen || this.templates.has(key) || this.seenSizes.has(key)) return [...out, left];
    this.seenSizes.add(key);
    if (this.seenSizes.size > 4 * MAX_TEMPLATES) this.seenSizes.clear();
    for (let p = 1 << Math.floor(Math.log2(left)); left > 0; p >>= 1) {
      if (left >= p) {
        out.push(p);
        left -= p;
      }
    }
    return out;
  }

  /** The template for `rows` rows of this shape, prepared by `prepare` when there is none; null when `prepare` finds none fits. */
  async get(shape: string, rows: number, prepare: () => Promise<InsertTemplate | null>): Promise<InsertTemplate | null> {
    this.checkVersion();
    const key = `${rows}\u0000${shape}`;
    const found = this.templates.get(key);
    if (found) {
      // most recently used last
      this.templates.delete(key);
      this.templates.set(key, found);
      return found;
    }
    const made = await prepare();
    if (!made) return null;
    // Kept under the version of before its prepare: if the catalog changed meanwhile, the next call drops it.
    this.templates.set(key, made);
    if (this.templates.size > MAX_TEMPLATES) {
      const [oldest, old] = this.templates.entries().next().value as [string, InsertTemplate];
      this.templates.delete(oldest);
      old.prepared.destroySync();
    }
    return made;
  }

  private checkVersion(): void {
    const now = this.currentVersion();
    if (now === this.version) return;
    for (const t of this.templates.values()) t.prepared.destroySync();
    this.templates.clear();
    this.seenSizes.clear();
    this.version = now;
  }
}
