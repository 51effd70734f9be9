import { workerJobsEnded } from '../llm/worker-job.js';
import { parentPort, workerData } from 'node:worker_threads';
import { DuckDBInstance, version as duckdbLibraryVersion, type DuckDBConnection } from '@duckdb/node-api';
import * as msg from '../protocol/backend.js';
import type { PgNotice } from '../protocol/backend.js';
import { join } from 'node:path';
import { bootstrapSession, readSql } from './bootstrap.js';
import { sqlString } from './sql-text.js';
import { AiContext } from './ai-context.js';
import { argsMacro } from './model-command.js';
import { commandGuards } from './model-command-parse.js';
import { Registry } from '../registry/registry.js';
import { ArtifactStore } from '../registry/artifact-store.js';
import { hubCacheDirOf } from '../registry/commands.js';
import { RuntimeClient } from '../runtime/runtime-client.js';
import { BUILTIN_MODELS } from '../runtime/providers/builtin.js';
import { MODEL_COMMANDS, QUERY_COMMANDS, registerAiFunctions } from '../../udfs/index.js';
import type { EngineOptions } from './engine-options.js';
import { Inbox } from './inbox.js';
import type { FromEngine, SessionStart, ToEngine } from './messages.js';
import { SessionOutput } from './output.js';
import { Session } from './session.js';
import { toPgError } from './sqlstate.js';
import { VERSION } from '../version.js';

/**
 * The engine thread: it owns the DuckDB instance and every session's connection, so query work
 * (and, later, model work inside SQL functions) never blocks the thread that serves sockets.
 */
const port = parentPort!;
const options = workerData as EngineOptions;
const sessions = new Map<number, Session>();
/** Sessions whose client left while they were still opening. */
const closedEarly = new Set<number>();
/** The run loops of open sessions, awaited at shutdown. */
const running = new Set<Promise<void>>();
const startedAt = new Date().toISOString();
/** Per-session cancel counters the server thread bumps; read by model calls that block this thread. */
const cancelFlags = new Int32Array(new SharedArrayBuffer(4 * 4096));
const duckdbVersion = duckdbLibraryVersion();

const post = (m: FromEngine, transfer?: ArrayBuffer[]): void => port.postMessage(m, transfer ?? []);

const builtinModelsView = (): string => `CREATE OR REPLACE VIEW ai.builtin_models AS SELECT * FROM (VALUES ${BUILTIN_MODELS
  .map((b) => `(${sqlString(`builtin:${b.name}`)}, ${sqlString(b.task)}, ${b.dimension}, ${sqlString(b.description)})`).join(', ')}) t(source, task, dimension, description)`;

const sqlList = (dirs: string[]): string => `[${dirs.map(sqlString).join(', ')}]`;

/** Opens the registry tables and starts the model runtime; the setup connection stays open, owning the AI functions. */
async function openAi(setup: DuckDBConnection): Promise<AiContext> {
  for (const stmt of readSql('ai-schema.sql')) await setup.run(stmt);
  // DuckDB cannot replay an ALTER TABLE ... ADD COLUMN of a table with defaults from its WAL: make the
  // schema durable in the database file before anything else is logged.
  await setup.run('CHECKPOINT');
  await setup.run(builtinModelsView());
  const registry = new Registry();
  await registry.load(setup);
  const persistent = options.databasePath !== ':memory:';
  const runtime = new RuntimeClient(persistent ? join(options.dataDir, 'cache') : null, options.allowedKeyEnvs);
  const ai = new AiContext(registry, runtime, new ArtifactStore(join(options.dataDir, 'models')), hubCacheDirOf(options.dataDir),
    join(options.dataDir, 'files'), options.allowedDirs, options.allowedKeyEnvs, setup);
  registerAiFunctions(setup, ai);
  for (const stmt of readSql('ai-functions.sql')) await setup.run(stmt);
  for (const c of [...MODEL_COMMANDS, ...QUERY_COMMANDS]) await setup.run(argsMacro(c));
  for (const stmt of readSql('retrieval-metrics.sql')) await setup.run(stmt);
  for (const guard of commandGuards()) await setup.run(guard);
  await setup.run('CREATE OR REPLACE VIEW ai.running_jobs AS SELECT * FROM ai_running_jobs()');
  return ai;
}

async function openInstance(): Promise<{ instance: DuckDBInstance; ai: AiContext }> {
  const config: Record<string, string> = {
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
    allow_community_extensions: 'false',
    allow_unsigned_extensions: 'false',
    temp_directory: options.tmpDir,
  };
  if (options.threads) config['threads'] = String(options.threads);
  if (options.memoryLimit) config['memory_limit'] = options.memoryLimit;
  const instance = await DuckDBInstance.create(options.databasePath, config);
  const setup = await instance.connect();
  // File access from SQL is confined to these directories; once external access is off, neither
  // it nor the list can be changed back from SQL.
  await setup.run(`SET allowed_directories = ${sqlList(options.allowedDirs)}`);
  await setup.run('SET enable_external_access = false');
  return { instance, ai: await openAi(setup) };
}

async function openSession(instance: DuckDBInstance, ai: AiContext, sid: number, start: SessionStart): Promise<void> {
  const refuse = (error: PgNotice): void => {
    closedEarly.delete(sid);
    post({ t: 'opened', sid, error });
  };
  if (sessions.size >= options.maxConnections) {
    refuse({ severity: 'FATAL', code: '53300', message: `sorry, too many clients already (max_connections = ${options.maxConnections})` });
    return;
  }
  let conn: DuckDBConnection;
  try {
    conn = await instance.connect();
    await bootstrapSession(conn, { aiduck_version: VERSION, aiduck_duckdb_version: duckdbVersion, aiduck_user: options.user, aiduck_backend_pid: sid, aiduck_started_at: startedAt, aiduck_files_dir: join(options.dataDir, 'files') });
  } catch (err) {
    refuse({ ...toPgError(err), severity: 'FATAL' });
    return;
  }
  const out = new SessionOutput((data) => post({ t: 'out', sid, data }, [data.buffer as ArrayBuffer]));
  const inbox = new Inbox((bytes) => post({ t: 'consumed', sid, bytes }));
  const session = new Session(conn, out, inbox, { tmpDir: options.tmpDir, maxConnections: options.maxConnections, ai, sid, cancelFlags }, start.user, start.applicationName);
  sessions.set(sid, session);
  if (closedEarly.delete(sid)) session.close();
  post({ t: 'opened', sid, parameters: session.settings.reportedAtStartup() });
  msg.readyForQuery(out.w, 'I');
  out.flush();
  const finished = session.run();
  running.add(finished);
  try {
    await finished;
  } catch (err) {
    msg.errorResponse(out.w, { ...toPgError(err), severity: 'FATAL' });
    out.flush();
  } finally {
    running.delete(finished);
    sessions.delete(sid);
    session.close();
    ai.detach(conn);
    conn.closeSync();
    post({ t: 'end', sid });
  }
}

/** Interrupts every session and waits for their queries to stop before closing the database. */
async function shutdown(instance: DuckDBInstance, ai: AiContext): Promise<void> {
  for (const s of sessions.values()) s.close();
  await Promise.allSettled([...running]);
  // A training thread asked to stop finishes its step first; ending it mid-step would abort the process.
  await workerJobsEnded();
  await ai.runtime.stop();
  instance.closeSync();
  post({ t: 'stopped' });
}

async function main(): Promise<void> {
  let instance: DuckDBInstance;
  let ai: AiContext;
  try {
    ({ instance, ai } = await openInstance());
  } catch (err) {
    post({ t: 'ready', error: err instanceof Error ? err.message : String(err) });
    return;
  }
  port.on('message', (m: ToEngine) => {
    switch (m.t) {
      case 'open':
        void openSession(instance, ai, m.sid, m.start);
        break;
      case 'input':
        sessions.get(m.sid)?.inbox.push(m.data);
        break;
      case 'ack':
        sessions.get(m.sid)?.out.ack(m.bytes);
        break;
      case 'cancel':
        sessions.get(m.sid)?.cancel();
        break;
      case 'close': {
        const s = sessions.get(m.sid);
        if (s) s.close();
        else closedEarly.add(m.sid);
        break;
      }
      case 'shutdown':
        void shutdown(instance, ai);
        break;
    }
  });
  post({ t: 'ready', cancelFlags: cancelFlags.buffer as SharedArrayBuffer });
}

void main();
