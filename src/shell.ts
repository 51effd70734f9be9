import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import pg from 'pg';
import type { ServerConfig } from './server/config.js';
import { startServer, type RunningServer } from './server/server.js';
import { splitStatements } from './sqltext/statements.js';
import { connectHost, readServerFile } from './server/server-file.js';

type Result = { command: string; rowCount: number | null; fields: Array<{ name: string }>; rows: unknown[][] };

/** A script to run: a file's statements, or statements given on the command line. */
export type ShellInput = { file: string } | { sql: string };

export interface ShellOptions {
  /** Run these in order and stop at the first error; none: read standard input. */
  inputs: ShellInput[];
  /** --host/--port or AIDUCK_HOST/AIDUCK_PORT were given: connect there, not to the data directory's server. */
  addressGiven: boolean;
}

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

interface Connection {
  client: pg.Client;
  /** The server this process started on the database, when none was running. */
  server: RunningServer | null;
  /** host:port of a running server the shell connected to. */
  address: string | null;
}

async function tryConnect(config: ServerConfig, host: string, port: number): Promise<pg.Client | null> {
  const client = new pg.Client({ host, port, user: config.user, password: config.password, database: 'aiduck' });
  try {
    await client.connect();
    return client;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ECONNREFUSED') return null;
    throw err;
  }
}

/**
 * The server of the data directory (its server.json), else the configured address; given an
 * address, only that. When nothing answers, the database is opened in this process.
 */
async function connect(config: ServerConfig, addressGiven: boolean): Promise<Connection> {
  const running = config.storage === 'file' ? readServerFile(config.dataDir) : null;
  const candidates: Array<[string, number]> = [];
  if (running && !addressGiven) candidates.push([connectHost(running.host), running.port]);
  candidates.push([config.host, config.port]);
  for (const [host, port] of candidates) {
    const client = await tryConnect(config, host, port);
    if (client) return { client, server: null, address: `${host}:${port}` };
  }
  // No server is running: open the database in this process on a private loopback port, without the web console.
  const { httpPort, httpPortIsDefault, ...serverOnly } = config;
  let server: RunningServer;
  try {
    server = await startServer({ ...serverOnly, host: '127.0.0.1', port: 0 });
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (!/Could not set lock on file/i.test(message)) throw err;
    const pid = /PID (\d+)/.exec(message)?.[1];
    const holder = running ? `the aiduck server at ${running.host}:${running.port}` : 'another process';
    const what = running
      ? `connect to that server (--port ${running.port}, or no --host/--port: aiduck sql finds it through ${join(config.dataDir, 'server.json')})`
      : 'connect to the server that has it open with --port <its port> (or AIDUCK_PORT, as it was started)';
    throw new Error(`the database ${join(config.dataDir, 'aiduck.duckdb')} is open in ${holder}${pid ? ` (pid ${pid})` : ''} and nothing answers at ` +
      `${candidates.map(([h, p]) => `${h}:${p}`).join(' or ')}: ${what}, or stop it first`);
  }
  const local = new pg.Client({ host: '127.0.0.1', port: server.port, user: config.user, password: config.password, database: 'aiduck' });
  await local.connect();
  return { client: local, server, address: null };
}

function printError(err: unknown, where: string): void {
  const e = err as { message: string; code?: string; hint?: string };
  console.error(`ERROR:  ${e.message}${e.code ? ` (SQLSTATE ${e.code})` : ''}${where}`);
  if (e.hint) console.error(`HINT:  ${e.hint}`);
}

/** A psql meta-command (\copy, \if, \set, ...) at the start of a statement: psql runs those, not this shell. */
const META_COMMAND = /^\s*(\\[A-Za-z!?]+)/;

/** `aiduck sql`: scripts and statements, or statements ending in ';' from a terminal or a pipe, results printed as tables. */
export async function runShell(config: ServerConfig, options: ShellOptions): Promise<void> {
  const { client, server, address } = await connect(config, options.addressGiven);
  client.on('notice', (n) => console.error(`${n.severity ?? 'NOTICE'}:  ${n.message ?? ''}`));
  const run = async (sql: string, where = ''): Promise<boolean> => {
    try {
      const res = (await client.query({ text: sql, rowMode: 'array', types: { getTypeParser: () => (v: string) => v } })) as unknown as Result | Result[];
      for (const r of Array.isArray(res) ? res : [res]) if (r.command || r.fields.length) console.log(formatResult(r) + '\n');
      return true;
    } catch (err) {
      printError(err, where);
      return false;
    }
  };
  /** Runs a script's statements one by one (registry commands must run alone); false at the first error. */
  const runScript = async (text: string, name: string): Promise<boolean> => {
    const statements = splitStatements(text);
    for (const [i, sql] of statements.entries()) {
      const where = ` (${name}, statement ${i + 1})`;
      const meta = META_COMMAND.exec(sql)?.[1];
      if (meta) {
        const psql = address ? `psql -h ${address.replace(/:(\d+)$/, ' -p $1')} -U ${config.user} -d aiduck` : 'psql -h <host> -p <port> -U aiduck -d aiduck (with the server running)';
        printError({ message: `${meta} is a psql meta-command, which aiduck sql does not run`, hint: `run the script with ${psql} -f <file>` }, where);
        return false;
      }
      if (!(await run(sql, where))) return false;
    }
    return true;
  };

  let failed = false;
  try {
    if (options.inputs.length) {
      for (const input of options.inputs) {
        const text = 'file' in input ? readFileSync(input.file, 'utf8') : input.sql;
        if (!(await runScript(text, 'file' in input ? input.file : '-c'))) {
          failed = true;
          break;
        }
      }
    } else if (!process.stdin.isTTY) {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      failed = !(await runScript(Buffer.concat(chunks).toString('utf8'), 'standard input'));
    } else {
      if (address) console.error(`connected to the aiduck server at ${address}`);
      else console.error(`no server runs on ${config.dataDir}: opened its database in this process`);
      const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: true, prompt: 'aiduck=> ' });
      let buffer = '';
      rl.prompt();
      for await (const line of rl) {
        buffer += line + '\n';
        if (/;\s*$/.test(line)) {
          await run(buffer);
          buffer = '';
        }
        rl.setPrompt(buffer ? 'aiduck-> ' : 'aiduck=> ');
        rl.prompt();
      }
      if (buffer.trim()) await run(buffer);
    }
  } finally {
    await client.end();
    await server?.close();
  }
  if (failed) process.exitCode = 1;
}
