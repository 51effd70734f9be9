// aiduck and a reference PostgreSQL 15 with the same schema and data (test/clients/schema.sql), for
// the client-family tests: each runs the same client program against both and compares.
import { fileURLToPath } from 'node:url';
import { clientEnv, startReferencePostgres } from '../helpers/reference-postgres.mjs';
import { run, type Run } from '../helpers/run.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/** Where a client connects; both servers have user and database `aiduck`. */
export interface Target {
  name: 'aiduck' | 'postgres';
  host: string;
  port: number;
  user: string;
  database: string;
}

export interface ServerPair {
  aiduck: Target;
  postgres: Target;
  /** The aiduck server itself (for its node-postgres clients). */
  server: TestServer;
  stop(): Promise<void>;
}

export const CLIENTS_DIR = fileURLToPath(new URL('.', import.meta.url));
const SCHEMA = fileURLToPath(new URL('schema.sql', import.meta.url));
/** Debian's Python, which has the drivers and tools (not a pyenv one earlier on PATH). */
export const PYTHON = '/usr/bin/python3';
export const PGJDBC = '/usr/share/java/postgresql.jar';

// A function in each dialect: Postgres' SQL function and DuckDB's macro.
const FUNCTION_SQL = {
  postgres: `CREATE FUNCTION shop.add_tax(price numeric, rate numeric) RETURNS numeric LANGUAGE sql
             AS $$ SELECT price * (1 + rate) $$;
             COMMENT ON FUNCTION shop.add_tax(numeric, numeric) IS 'Price with tax';`,
  aiduck: `CREATE MACRO shop.add_tax(price, rate) AS price * (1 + rate);
           COMMENT ON MACRO shop.add_tax IS 'Price with tax';`,
};

/** psql against a target, without the caller's PG* environment and without ~/.psqlrc. */
export function psql(target: Target, args: string[], input?: string): Promise<Run> {
  return run('psql', ['-X', '-h', target.host, '-p', String(target.port), '-U', target.user, '-d', target.database, ...args],
    { env: clientEnv(), ...(input === undefined ? {} : { input }) });
}

async function mustSucceed(what: string, r: Promise<Run>): Promise<void> {
  const done = await r;
  if (done.status !== 0 || /ERROR/.test(done.stderr)) throw new Error(`${what} failed (${done.status}):\n${done.stderr}${done.stdout}`);
}

/** Starts both servers and loads the schema into each; once per test file. */
export async function startServerPair(): Promise<ServerPair> {
  const [server, reference] = await Promise.all([startTestServer(), startReferencePostgres()]);
  try {
    const admin: Target = { name: 'postgres', host: reference.host, port: reference.port, user: reference.user, database: reference.database };
    await mustSucceed('creating role and database aiduck in PostgreSQL',
      psql(admin, ['-v', 'ON_ERROR_STOP=1', '-q', '-c', 'CREATE ROLE aiduck SUPERUSER LOGIN', '-c', 'CREATE DATABASE aiduck OWNER aiduck']));
    const postgres: Target = { ...admin, user: 'aiduck', database: 'aiduck' };
    const aiduck: Target = { name: 'aiduck', host: '127.0.0.1', port: server.port, user: 'aiduck', database: 'aiduck' };
    for (const target of [postgres, aiduck]) {
      await mustSucceed(`loading the schema into ${target.name}`, psql(target, ['-v', 'ON_ERROR_STOP=1', '-q', '-f', SCHEMA]));
      await mustSucceed(`creating the function in ${target.name}`, psql(target, ['-v', 'ON_ERROR_STOP=1', '-q'], FUNCTION_SQL[target.name]));
    }
    return {
      aiduck, postgres, server,
      async stop() {
        await Promise.all([server.stop(), reference.stop()]);
      },
    };
  } catch (e) {
    await Promise.all([server.stop(), reference.stop()]);
    throw e;
  }
}

/** Runs a client program that prints JSON, against one target; the program gets HOST PORT USER DATABASE SCHEMA. */
/** The same client program run against both servers at once: what it printed for each. */
export async function runOnBoth(servers: ServerPair, cmd: string, args: string[]): Promise<Record<'postgres' | 'aiduck', Record<string, unknown>>> {
  const [postgres, aiduck] = await Promise.all([servers.postgres, servers.aiduck].map((t) => runJsonClient(cmd, args, t)));
  return { postgres: postgres!, aiduck: aiduck! };
}

export async function runJsonClient(cmd: string, args: string[], target: Target, extra: string[] = [],
  env: NodeJS.ProcessEnv = {}): Promise<Record<string, unknown>> {
  const r = await run(cmd, [...args, target.host, String(target.port), target.user, target.database, 'shop', ...extra],
    { env: { ...clientEnv(), ...env } });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} against ${target.name} exited with ${r.status}:\n${r.stderr}`);
  try {
    return JSON.parse(r.stdout) as Record<string, unknown>;
  } catch {
    throw new Error(`${cmd} ${args.join(' ')} against ${target.name} printed no JSON:\n${r.stdout}\n${r.stderr}`);
  }
}
