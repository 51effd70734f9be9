import { type DuckDBDataChunk, type DuckDBResult, type DuckDBType, type DuckDBValue, type DuckDBVector } from '@duckdb/node-api';
import type { ColumnOrigin } from '../pg/column-origins.js';
import type { FieldDescription } from '../protocol/backend.js';
import { Oid } from '../pg/types/oids.js';
import { Backend } from '../protocol/codes.js';
import { columnCodec, requireBinary, type ColumnCodec } from '../pg/types/column-codec.js';
import type { SessionOutput } from './output.js';

type Encoder = { text: true; fn: (v: DuckDBValue) => string } | { text: false; fn: (v: DuckDBValue) => Buffer };

/** The RowDescription fields of a result, with the format each column is sent in. */
export function describeColumns(names: readonly string[], types: readonly DuckDBType[], formats: readonly number[],
  origins: ReadonlyArray<ColumnOrigin | null> = []): FieldDescription[] {
  return names.map((name, i) => describeField(name, columnCodec(types[i]!), formatOf(formats, i), origins[i] ?? null));
}

function describeField(name: string, c: ColumnCodec, format: 0 | 1, origin: ColumnOrigin | null): FieldDescription {
  if (format === 1) requireBinary(c, name);
  const where = origin ? { tableOid: origin.tableOid, columnNumber: origin.columnNumber } : {};
  // A text column declared varchar(n) is described as Postgres describes it (same values, same codec).
  if (origin?.varcharLength !== undefined && c.oid === Oid.text) {
    return { name, ...where, typeOid: Oid.varchar, typeSize: -1, typeModifier: origin.varcharLength + 4, format };
  }
  return { name, ...where, typeOid: c.oid, typeSize: c.typeSize, typeModifier: c.typeModifier, format };
}

/** Bind's result-format codes: none means all text, one applies to all, otherwise one per column. */
export function formatOf(formats: readonly number[], i: number): 0 | 1 {
  const f = formats.length === 0 ? 0 : formats.length === 1 ? formats[0]! : (formats[i] ?? 0);
  return f === 1 ? 1 : 0;
}

/**
 * Streams the rows of a DuckDB result as DataRow messages, and can stop after a number of rows (a
 * portal's row limit) and carry on later from where it stopped. Values are converted a row at a
 * time and the output is flushed whenever a piece has built up, so the memory a result holds is
 * bounded by bytes, whatever its rows' size.
 */
export class ResultCursor {
  private encoders: Encoder[];
  /** The current chunk's columns, read a row at a time: a chunk of 2,048 large values is never all in JS at once. */
  private columns: DuckDBVector[] | null = null;
  private rowInChunk = 0;
  private rowsInChunk = 0;
  rowsSent = 0;
  done = false;
  private fetch: () => Promise<DuckDBDataChunk | null>;

  /** The RowDescription of the result, in the formats the client asked for. */
  readonly fields: FieldDescription[];

  constructor(result: DuckDBResult, formats: readonly number[], origins: ReadonlyArray<ColumnOrigin | null> = [], timeZone = 'UTC') {
    this.fetch = () => result.fetchChunk();
    const names = result.columnNames();
    const codecs = result.columnTypes().map((t) => columnCodec(t, timeZone));
    this.fields = names.map((name, i) => describeField(name, codecs[i]!, formatOf(formats, i), origins[i] ?? null));
    this.encoders = codecs.map((c, i) =>
      this.fields[i]!.format === 1 ? { text: false, fn: requireBinary(c, names[i]!) } : { text: true, fn: c.text });
  }

  /**
   * Reads the rest of a streaming result into memory. DuckDB allows one streaming result per
   * connection, so a suspended portal is parked this way before the session runs another query.
   */
  async park(): Promise<void> {
    if (this.done) return;
    const rest: DuckDBDataChunk[] = [];
    for (let c = await this.fetch(); c && c.rowCount > 0; c = await this.fetch()) rest.push(c);
    this.fetch = () => Promise.resolve(rest.shift() ?? null);
  }

  /** Passes over up to maxRows rows without sending them (MOVE); returns how many it passed. */
  async skip(maxRows: number): Promise<number> {
    let skipped = 0;
    while (skipped < maxRows) {
      if (this.rowInChunk >= this.rowsInChunk) {
        const chunk = await this.fetch();
        if (!chunk || chunk.rowCount === 0) {
          this.done = true;
          break;
        }
        this.load(chunk);
      }
      const n = Math.min(maxRows - skipped, this.rowsInChunk - this.rowInChunk);
      this.rowInChunk += n;
      skipped += n;
    }
    this.rowsSent += skipped;
    return skipped;
  }

  /** Sends up to maxRows rows (0: all); returns true when the result is exhausted. */
  async send(out: SessionOutput, maxRows: number): Promise<boolean> {
    const w = out.w;
    const n = this.encoders.length;
    let budget = maxRows > 0 ? maxRows : Infinity;
    while (budget > 0) {
      if (this.rowInChunk >= this.rowsInChunk) {
        const chunk = await this.fetch();
        if (!chunk || chunk.rowCount === 0) {
          this.done = true;
          return true;
        }
        this.load(chunk);
      }
      const cols = this.columns!;
      const end = Math.min(this.rowsInChunk, this.rowInChunk + budget);
      let r = this.rowInChunk;
      while (r < end) {
        w.begin(Backend.DataRow).int16(n);
        for (let c = 0; c < n; c++) {
          const v = cols[c]!.getItem(r);
          if (v === null) w.int32(-1);
          else {
            const e = this.encoders[c]!;
            if (e.text) w.lengthPrefixedString(e.fn(v));
            else w.lengthPrefixedBytes(e.fn(v));
          }
        }
        w.end();
        r++;
        if (out.full) break;
      }
      budget -= r - this.rowInChunk;
      this.rowsSent += r - this.rowInChunk;
      this.rowInChunk = r;
      await out.maybeFlush();
      if (out.closed) return true;
    }
    // The row limit was reached; the result is exhausted only if nothing is left.
    if (this.rowInChunk < this.rowsInChunk) return false;
    const chunk = await this.fetch();
    if (!chunk || chunk.rowCount === 0) {
      this.done = true;
      return true;
    }
    this.load(chunk);
    return false;
  }

  private load(chunk: DuckDBDataChunk): void {
    this.columns = Array.from({ length: this.encoders.length }, (_, c) => chunk.getColumnVector(c));
    this.rowInChunk = 0;
    this.rowsInChunk = chunk.rowCount;
  }
}
