import { createInterface } from 'node:readline';
import pg from 'pg';
import type { ServerConfig } from './server/config.js';
import { startServer, type RunningServer } from './server/server.js';

type Result = { command: string; rowCount: number | null; fields: Array<{ name: string }>; rows: unknown[][] };

function cell(v: unknown): string {
  if (v === null || v === undefined) return '';
  return String(v);
}

/** psql-style aligned output of one result. */
export function formatResult(r: Result): string {
  if (!r.fields.length) return r.command + (r.rowCount !== null && r.command !== 'SELECT' ? ` ${r.rowCount}` : '');
  const header = r.fields.map((f) => f.name);
  const rows = r.rows.map((row) => row.map(cell));
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]): string => ' ' + cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ');
  return [line(header), widths.map((w) => '-'.repeat(w + 2)).join('+'), ...rows.map(line),
    `(${rows.length} row${rows.length === 1 ? '' : 's'})`].join('\n');
}

async function connect(config: ServerConfig): Promise<{ client: pg.Client; server: RunningServer | null }> {
  const options = { host: config.host, port: config.port, user: config.user, password: config.password, database: 'aiduck' };
  const client = new pg.Client(options);
  try {
    await client.connect();
    return { client, server: null };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ECONNREFUSED') throw err;
  }
  // No server is running: open the database in this process on a private loopback port, without the web console.
  const { httpPort: _noConsole, ...serverOnly } = config;
  const server = await startServer({ ...serverOnly, host: '127.0.0.1', port: 0 });
  const local = new pg.Client({ ...options, host: '127.0.0.1', port: server.port });
  await local.connect();
  return { client: local, server };
}

/** `aiduck sql`: statements ending in ';' from a terminal or a pipe, results printed as tables. */
export async function runShell(config: ServerConfig): Promise<void> {
  const { client, server } = await connect(config);
  const interactive = process.stdin.isTTY === true;
  const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: interactive, prompt: 'aiduck=> ' });
  let buffer = '';
  let failed = false;
  const run = async (sql: string): Promise<void> => {
    try {
      const res = (await client.query({ text: sql, rowMode: 'array', types: { getTypeParser: () => (v: string) => v } })) as unknown as Result | Result[];
      for (const r of Array.isArray(res) ? res : [res]) if (r.command || r.fields.length) console.log(formatResult(r) + '\n');
    } catch (err) {
      failed = true;
      const e = err as { message: string; code?: string };
      console.error(`ERROR: ${e.message}${e.code ? ` (SQLSTATE ${e.code})` : ''}`);
    }
  };
  if (interactive) rl.prompt();
  for await (const line of rl) {
    buffer += line + '\n';
    if (/;\s*$/.test(line)) {
      await run(buffer);
      buffer = '';
    }
    if (interactive) rl.setPrompt(buffer ? 'aiduck-> ' : 'aiduck=> ');
    if (interactive) rl.prompt();
  }
  if (buffer.trim()) await run(buffer);
  await client.end();
  await server?.close();
  if (failed && !interactive) process.exitCode = 1;
}
