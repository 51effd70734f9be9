import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { StringDecoder } from 'node:string_decoder';
import { DuckDBTypeId, type DuckDBConnection, type DuckDBDecimalType, type DuckDBResult, type DuckDBType } from '@duckdb/node-api';
import * as msg from '../../protocol/backend.js';
import { ProtocolError, SqlError } from '../../errors/sql-error.js';
import { Frontend } from '../../protocol/codes.js';
import { decodeClientMessage } from '../../protocol/frontend.js';
import { columnCodec } from '../../pg/types/column-codec.js';
import type { CopyCommand } from '../../pg/copy-command.js';
import { exactNumeric, isUnconstrained } from '../../pg/numeric.js';
import { copyRow, csvLineForDuckDB, duckListText, parseTextLine, stagedTextLine, stagedTextVerbatim } from './format.js';
import type { Inbox } from '../inbox.js';
import type { SessionOutput } from '../output.js';
import { quoteIdent, sqlString } from '../../sqltext/quote.js';

/** What COPY needs of a session. */
export interface CopyHost {
  conn: DuckDBConnection;
  out: SessionOutput;
  inbox: Inbox;
  /** Where COPY FROM STDIN stages its data. */
  tmpDir: string;
}


/** Runs COPY ... TO STDOUT or COPY ... FROM STDIN; returns the number of rows copied. */
export function runCopy(host: CopyHost, cmd: CopyCommand): Promise<number> {
  return cmd.direction === 'out' ? copyOut(host, cmd) : copyIn(host, cmd);
}

async function copyOut(host: CopyHost, cmd: CopyCommand): Promise<number> {
  const query = cmd.query ?? `SELECT ${cmd.target!.columns ?? '*'} FROM ${cmd.target!.table}`;
  // Prepared as one statement: a syntax error is DuckDB's Parser Error (42601), and nothing but the query runs.
  const prepared = await host.conn.prepare(query);
  try {
    return await streamOut(host, cmd, await prepared.stream());
  } finally {
    prepared.destroySync();
  }
}

async function streamOut(host: CopyHost, cmd: CopyCommand, result: DuckDBResult): Promise<number> {
  const names = result.columnNames();
  const encoders = result.columnTypes().map((t) => columnCodec(t, host.out.timeZone).text);
  const w = host.out.w;
  msg.copyOutResponse(w, 0, names.length);
  if (cmd.header) msg.copyData(w, copyRow(cmd, names));
  let rows = 0;
  // A CopyData message per row, as Postgres sends them, flushed in pieces: the rows of a chunk may
  // be a megabyte each, so neither a chunk's values nor its text are ever held whole.
  for (let chunk = await result.fetchChunk(); chunk && chunk.rowCount > 0; chunk = await result.fetchChunk()) {
    const cols = names.map((_, c) => chunk.getColumnVector(c));
    for (let r = 0; r < chunk.rowCount; r++) {
      msg.copyData(w, copyRow(cmd, cols.map((col, c) => {
        const v = col.getItem(r);
        return v === null ? null : encoders[c]!(v);
      })));
      if (host.out.full) {
        await host.out.maybeFlush();
        if (host.out.closed) break;
      }
    }
    rows += chunk.rowCount;
    await host.out.maybeFlush();
    if (host.out.closed) break;
  }
  msg.copyDone(w);
  return rows;
}

/** The longest COPY FROM STDIN line DuckDB's CSV reader is asked to accept (its default is 2 MB). */
const MAX_LINE_BYTES = 64 * 1024 * 1024;

/** psql ends inline COPY data with a line holding only `\.`; it is not data. */
const END_MARKER = /(^|\n)\\\.\r?\n?$/;

/**
 * COPY FROM STDIN data staged in a temporary file for DuckDB's CSV reader. CSV data goes there as
 * it comes. Text-format data with the default delimiter and NULL marker is staged as tab-separated
 * lines quoted with \x01, which the text format's own lines already are unless they hold an escape
 * (a backslash other than a \N field), \x01 or a carriage return: such lines, and any text data
 * with another delimiter or NULL marker, are decoded and written again (as CSV in the latter case).
 */
class CopyInFile {
  readonly path: string;
  private readonly file: WriteStream;
  private readonly decoder = new StringDecoder('utf8');
  /** The pieces of a text line that has not ended yet (a line may come in thousands of CopyData messages). */
  private pendingLine: string[] = [];
  /** The last bytes of csv data, held back until we know whether they are the end marker. */
  private csvTail = Buffer.alloc(0);
  private error: Error | null = null;
  /** A text-format line `\.` was read: what follows is not data (pg_restore sends blank lines after it). */
  private ended = false;
  /** Text data staged as it came: the pieces of the line that has not ended yet (joined once, when it ends). */
  private pendingPieces: Buffer[] = [];
  /** Text with the default delimiter and NULL marker, and no column whose text needs rewriting: staged as it came where it can be. */
  private readonly asItCame: boolean;

  /**
   * `kinds`: what each column needs in text format. A list's Postgres array text is rewritten here in
   * DuckDB's list text, so that elements holding braces, commas or quotes stay as they are; a value
   * for an unconstrained numeric that it would have to round is refused (22003), as an INSERT's is.
   */
  constructor(tmpDir: string, private readonly cmd: CopyCommand, private readonly kinds: readonly ColumnKind[]) {
    this.path = join(tmpDir, `copy-${randomUUID()}.csv`);
    this.file = createWriteStream(this.path);
    this.file.on('error', (err) => (this.error = err));
    this.asItCame = cmd.format === 'text' && cmd.delimiter === '\t' && cmd.null === '\\N' && kinds.every((k) => k === 'other');
  }

  async write(data: Buffer): Promise<void> {
    if (this.cmd.format === 'csv') {
      const all = this.csvTail.length ? Buffer.concat([this.csvTail, data]) : data;
      const keep = Math.min(5, all.length);
      this.csvTail = Buffer.from(all.subarray(all.length - keep));
      return this.put(all.subarray(0, all.length - keep));
    }
    if (this.asItCame) {
      const end = data.lastIndexOf(0x0a) + 1;
      if (end === 0) {
        this.pendingPieces.push(Buffer.from(data));
        return;
      }
      const lines = this.pendingPieces.length ? Buffer.concat([...this.pendingPieces, data.subarray(0, end)]) : data.subarray(0, end);
      this.pendingPieces = end < data.length ? [Buffer.from(data.subarray(end))] : [];
      return this.put(this.staged(lines));
    }
    const text = this.decoder.write(data);
    const firstEnd = text.indexOf('\n');
    if (firstEnd < 0) {
      if (text) this.pendingLine.push(text);
      return;
    }
    // Only the new text is searched for line ends: the pending pieces are joined once, when their line ends.
    this.pendingLine.push(text.slice(0, firstEnd));
    const ended = this.pendingLine.join('');
    const lines = text.slice(firstEnd + 1).split('\n');
    const rest = lines.pop()!;
    lines.unshift(ended);
    this.pendingLine = rest ? [rest] : [];
    await this.put(this.transcode(lines));
  }

  /** Complete lines of text data, staged: as they are where they can be, else decoded and written again. */
  private staged(lines: Buffer): Buffer | string {
    if (this.ended) return '';
    if (stagedTextVerbatim(lines, 0, lines.length)) return lines;
    let out = '';
    for (let start = 0; start < lines.length;) {
      const end = lines.indexOf(0x0a, start) + 1 || lines.length;
      if (stagedTextVerbatim(lines, start, end)) out += lines.toString('utf8', start, end);
      else {
        const line = lines.toString('utf8', start, end).replace(/\r?\n$/, '');
        if (line === '\\.') {
          this.ended = true;
          break;
        }
        out += stagedTextLine(parseTextLine(this.cmd, line));
      }
      start = end;
    }
    return out;
  }

  private transcode(lines: string[]): string {
    let out = '';
    for (const raw of lines) {
      const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
      if (this.ended || line === '\\.') {
        this.ended = true;
        continue;
      }
      const fields = parseTextLine(this.cmd, line);
      out += csvLineForDuckDB(fields.map((f, i) => (f === null ? f : this.kinds[i] === 'list' ? duckListText(f)
        : this.kinds[i] === 'numeric' ? exactNumeric(f) : f)));
    }
    return out;
  }

  private async put(data: Buffer | string): Promise<void> {
    if (this.error) throw this.error;
    if (data.length === 0 || this.file.write(data)) return;
    await once(this.file, 'drain');
  }

  async finish(): Promise<void> {
    if (this.cmd.format === 'csv') {
      // latin1 maps bytes one to one, so the tail's bytes survive the regex untouched.
      await this.put(Buffer.from(this.csvTail.toString('latin1').replace(END_MARKER, '$1'), 'latin1'));
    } else if (this.asItCame) {
      if (this.pendingPieces.length) await this.put(this.staged(Buffer.concat([...this.pendingPieces, Buffer.from('\n')])));
    } else {
      const last = this.pendingLine.join('') + this.decoder.end();
      if (last) await this.put(this.transcode([last]));
    }
    await this.close();
    if (this.error) throw this.error;
  }

  private close(): Promise<void> {
    if (this.file.closed) return Promise.resolve();
    return new Promise((resolve) => {
      this.file.once('close', () => resolve());
      this.file.end();
    });
  }

  /**
   * The load, as INSERT ... SELECT over the file read as text: each column is converted from the
   * Postgres text form COPY TO wrote, which DuckDB's own casts do not all accept (bytea hex,
   * array literals, json for structs and maps).
   */
  loadSql(columns: ReadonlyArray<{ name: string; type: DuckDBType }>): string {
    const c = this.cmd;
    const csv = c.format === 'csv'
      ? `delim = ${sqlString(c.delimiter)}, quote = ${sqlString(c.quote)}, escape = ${sqlString(c.escape)}, nullstr = ${sqlString(c.null)}`
      : this.asItCame ? `delim = '\t', quote = '\x01', escape = '\x01', nullstr = '\\N'`
        : `delim = ',', quote = '"', escape = '"', nullstr = ''`;
    const reader = `read_csv(${sqlString(this.path)}, header = ${c.header}, ${csv}, allow_quoted_nulls = false, ` +
      `auto_detect = false, max_line_size = ${MAX_LINE_BYTES}, ` +
      `columns = {${columns.map((_, i) => `'c${i}': 'VARCHAR'`).join(', ')}})`;
    const names = columns.map((col) => quoteIdent(col.name)).join(', ');
    const values = columns.map((col, i) => fromPgText(`c${i}`, col.type, c.format)).join(', ');
    return `INSERT INTO ${c.target!.table} (${names}) SELECT ${values} FROM ${reader}`;
  }

  /** Lets pending writes finish, then removes the file (after success, failure or a CopyFail). */
  async discard(): Promise<void> {
    await this.close();
    await rm(this.path, { force: true });
  }
}

type ColumnKind = 'list' | 'numeric' | 'other';

function columnKind(type: DuckDBType): ColumnKind {
  if (type.typeId === DuckDBTypeId.LIST || type.typeId === DuckDBTypeId.ARRAY) return 'list';
  const d = type as DuckDBDecimalType;
  return type.typeId === DuckDBTypeId.DECIMAL && isUnconstrained(d.width, d.scale) ? 'numeric' : 'other';
}

/**
 * SQL turning a column of Postgres COPY text into the DuckDB type of its target column. Text-format
 * lists and unconstrained numerics were rewritten and checked as they were staged; csv's go through
 * the functions of pg-text-functions.ts.
 */
function fromPgText(column: string, type: DuckDBType, format: CopyCommand['format']): string {
  const sqlType = type.toString();
  switch (type.typeId) {
    case DuckDBTypeId.BLOB:
      return `CASE WHEN starts_with(${column}, '\\x') THEN unhex(substr(${column}, 3)) ELSE CAST(${column} AS BLOB) END`;
    case DuckDBTypeId.LIST:
    case DuckDBTypeId.ARRAY:
      // Text-format lists were written in DuckDB's list text as they were staged.
      return format === 'text' ? `CAST(${column} AS ${sqlType})` : `CAST(__pg_array_text(${column}) AS ${sqlType})`;
    case DuckDBTypeId.DECIMAL:
      return format === 'csv' && columnKind(type) === 'numeric' ? `CAST(__pg_numeric_exact(${column}) AS ${sqlType})` : `CAST(${column} AS ${sqlType})`;
    case DuckDBTypeId.STRUCT:
    case DuckDBTypeId.MAP:
      return `CAST(CAST(${column} AS JSON) AS ${sqlType})`;
    default:
      return `CAST(${column} AS ${sqlType})`;
  }
}

/** The data of a CopyData message and of the CopyData messages already waiting after it, as one (psql sends a message per line). */
function withWaitingData(inbox: Inbox, first: Buffer): Buffer {
  let n = 0;
  while (inbox.peek(n)?.code === Frontend.CopyData) n++;
  if (n === 0) return first;
  const parts = [first];
  for (let i = 0; i < n; i++) parts.push(inbox.peek(i)!.body);
  inbox.take(n);
  return Buffer.concat(parts);
}

async function copyIn(host: CopyHost, cmd: CopyCommand): Promise<number> {
  const t = cmd.target!;
  const shape = await host.conn.prepare(`SELECT ${t.columns ?? '*'} FROM ${t.table} LIMIT 0`);
  const columns = Array.from({ length: shape.columnCount }, (_, i) => ({ name: shape.columnName(i), type: shape.columnType(i) }));
  shape.destroySync();
  msg.copyInResponse(host.out.w, 0, columns.length);
  host.out.flush();
  const file = new CopyInFile(host.tmpDir, cmd, columns.map((c) => columnKind(c.type)));
  try {
    for (;;) {
      const m = await host.inbox.next();
      if (!m) throw new SqlError('08006', 'connection closed during COPY FROM STDIN');
      // Flush and Sync may come in between (psql sends neither, other clients do); anything else ends the session.
      if (m.code === Frontend.Flush || m.code === Frontend.Sync) continue;
      const message = decodeClientMessage(m);
      if (message.type === 'copy-data') await file.write(withWaitingData(host.inbox, message.data));
      else if (message.type === 'copy-done') break;
      else if (message.type === 'copy-fail') throw new SqlError('57014', `COPY from stdin failed: ${message.message}`);
      else throw new ProtocolError(`unexpected message type "${message.type}" during COPY from stdin`);
    }
    await file.finish();
    const result = await host.conn.run(file.loadSql(columns));
    return result.rowsChanged;
  } finally {
    await file.discard();
  }
}
