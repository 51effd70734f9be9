import { createWriteStream, type WriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { DuckDBConnection } from '@duckdb/node-api';
import * as msg from '../protocol/backend.js';
import { ProtocolError, SqlError } from '../protocol/errors.js';
import { MessageReader } from '../protocol/reader.js';
import { columnCodec } from '../types/column-codec.js';
import type { CopyCommand } from './copy-command.js';
import { copyRow, csvLineForDuckDB, parseTextLine } from './copy-format.js';
import type { Inbox } from './inbox.js';
import type { SessionOutput } from './output.js';

/** What COPY needs of a session. */
export interface CopyHost {
  conn: DuckDBConnection;
  out: SessionOutput;
  inbox: Inbox;
  ctx: { tmpDir: string };
}

const sqlString = (s: string): string => `'${s.replace(/'/g, "''")}'`;

/** Runs COPY ... TO STDOUT or COPY ... FROM STDIN; returns the number of rows copied. */
export function runCopy(host: CopyHost, cmd: CopyCommand): Promise<number> {
  return cmd.direction === 'out' ? copyOut(host, cmd) : copyIn(host, cmd);
}

async function copyOut(host: CopyHost, cmd: CopyCommand): Promise<number> {
  const query = cmd.query ?? `SELECT ${cmd.target!.columns ?? '*'} FROM ${cmd.target!.table}`;
  const result = await host.conn.stream(query);
  const names = result.columnNames();
  const encoders = result.columnTypes().map((t) => columnCodec(t).text);
  const w = host.out.w;
  msg.copyOutResponse(w, 0, names.length);
  if (cmd.header) msg.copyData(w, copyRow(cmd, names));
  let rows = 0;
  for (let chunk = await result.fetchChunk(); chunk && chunk.rowCount > 0; chunk = await result.fetchChunk()) {
    const cols = chunk.getColumns();
    let text = '';
    for (let r = 0; r < chunk.rowCount; r++) {
      text += copyRow(cmd, cols.map((col, c) => {
        const v = col[r]!;
        return v === null ? null : encoders[c]!(v);
      }));
    }
    rows += chunk.rowCount;
    msg.copyData(w, text);
    await host.out.maybeFlush();
    if (host.out.closed) break;
  }
  msg.copyDone(w);
  return rows;
}

/** Text-format COPY data becomes CSV on its way to a temporary file, so DuckDB's CSV reader loads it. */
class CopyInFile {
  readonly path: string;
  private readonly file: WriteStream;
  private pending = '';

  constructor(tmpDir: string, private readonly cmd: CopyCommand) {
    this.path = join(tmpDir, `copy-${randomUUID()}.csv`);
    this.file = createWriteStream(this.path);
  }

  async write(data: Buffer): Promise<void> {
    if (this.cmd.format === 'csv') return this.put(data);
    const text = this.pending + data.toString('utf8');
    const lines = text.split('\n');
    this.pending = lines.pop() ?? '';
    await this.put(this.transcode(lines));
  }

  private transcode(lines: string[]): string {
    let out = '';
    for (const raw of lines) {
      const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
      if (line === '\\.') continue;
      out += csvLineForDuckDB(parseTextLine(this.cmd, line));
    }
    return out;
  }

  private put(data: Buffer | string): Promise<void> {
    if (this.file.write(data)) return Promise.resolve();
    return new Promise((resolve) => this.file.once('drain', resolve));
  }

  async finish(): Promise<void> {
    if (this.pending) await this.put(this.transcode([this.pending]));
    await new Promise<void>((resolve, reject) => this.file.end((err?: Error | null) => (err ? reject(err) : resolve())));
  }

  loadSql(): string {
    const t = this.cmd.target!;
    const target = t.columns ? `${t.table} (${t.columns})` : t.table;
    const options = this.cmd.format === 'csv'
      ? `DELIMITER ${sqlString(this.cmd.delimiter)}, QUOTE ${sqlString(this.cmd.quote)}, ESCAPE ${sqlString(this.cmd.escape)}, NULL ${sqlString(this.cmd.null)}`
      : `DELIMITER ',', QUOTE '"', ESCAPE '"', NULL ''`;
    return `COPY ${target} FROM ${sqlString(this.path)} (FORMAT csv, HEADER ${this.cmd.header}, ${options}, allow_quoted_nulls false, auto_detect false)`;
  }

  async discard(): Promise<void> {
    this.file.destroy();
    await rm(this.path, { force: true });
  }
}

async function copyIn(host: CopyHost, cmd: CopyCommand): Promise<number> {
  const t = cmd.target!;
  const shape = await host.conn.prepare(`SELECT ${t.columns ?? '*'} FROM ${t.table} LIMIT 0`);
  const columns = shape.columnCount;
  shape.destroySync();
  msg.copyInResponse(host.out.w, 0, columns);
  host.out.flush();
  const file = new CopyInFile(host.ctx.tmpDir, cmd);
  try {
    for (;;) {
      const m = await host.inbox.next();
      if (!m) throw new SqlError('08006', 'connection closed during COPY FROM STDIN');
      const code = String.fromCharCode(m.code);
      if (code === 'd') await file.write(m.body);
      else if (code === 'c') break;
      else if (code === 'f') {
        throw new SqlError('57014', `COPY from stdin failed: ${new MessageReader(m.body).cstring()}`);
      } else if (code !== 'H' && code !== 'S') {
        throw new ProtocolError(`unexpected message type "${code}" during COPY from stdin`);
      }
    }
    await file.finish();
    const result = await host.conn.run(file.loadSql());
    return Number((await result.getRows())[0]?.[0] ?? result.rowsChanged);
  } finally {
    await file.discard();
  }
}
