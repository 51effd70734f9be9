import { workerJobsEnded } from '../jobs/worker-job.js';
import { join, resolve } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { version as duckdbLibraryVersion, type DuckDBConnection, type DuckDBInstance } from '@duckdb/node-api';
import * as msg from '../protocol/backend.js';
import type { PgNotice } from '../protocol/backend.js';
import { bootstrapSession } from '../pg/bootstrap.js';
import type { AiContext } from '../functions/context.js';
import { openInstance } from './instance.js';
import { CancelSlots } from './cancel-slots.js';
import type { EngineOptions } from './options.js';
import { Inbox } from '../session/inbox.js';
import type { FromEngine, SessionStart, ToEngine } from './messages.js';
import { SessionOutput } from '../session/output.js';
import { Session } from '../session/session.js';
import { fromDuckDB } from '../errors/duckdb.js';
import { VERSION } from '../package.js';

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
const cancelSlots = CancelSlots.create(options.maxConnections + 16);
const duckdbVersion = duckdbLibraryVersion();
/** COPY ... TO may write where SQL may read, but not in the directory DuckDB spills to and COPY FROM STDIN stages in. */
const writableDirs = options.allowedDirs.filter((d) => resolve(d) !== resolve(options.tmpDir));
const filesDir = join(options.dataDir, 'files');

const post = (m: FromEngine, transfer?: ArrayBuffer[]): void => port.postMessage(m, transfer ?? []);

async function openSession(instance: DuckDBInstance, ai: AiContext, sid: number, start: SessionStart): Promise<void> {
  const refuse = (error: PgNotice): void => {
    closedEarly.delete(sid);
    post({ t: 'opened', sid, error });
  };
  if (sessions.size >= options.maxConnections) {
    refuse({ severity: 'FATAL', code: '53300', message: `sorry, too many clients already (max_connections = ${options.maxConnections})` });
    return;
  }
  const cancelFlags = cancelSlots.counterOf(sid);
  if (!cancelFlags) {
    refuse({ severity: 'FATAL', code: '53300', message: 'sorry, too many clients already' });
    return;
  }
  let conn: DuckDBConnection;
  try {
    conn = await instance.connect();
    await bootstrapSession(conn, { aiduck_version: VERSION, aiduck_duckdb_version: duckdbVersion, aiduck_user: options.user, aiduck_login_user: start.user, aiduck_backend_pid: sid, aiduck_started_at: startedAt, aiduck_files_dir: filesDir });
  } catch (err) {
    refuse(msg.noticeOf(fromDuckDB(err), 'FATAL'));
    return;
  }
  const out = new SessionOutput((data) => post({ t: 'out', sid, data }, [data.buffer as ArrayBuffer]));
  const inbox = new Inbox((bytes) => post({ t: 'consumed', sid, bytes }));
  const session = new Session(conn, out, inbox, {
    tmpDir: options.tmpDir, writableDirs, filesDir, maxConnections: options.maxConnections, ai, sid, cancelCounter: () => Atomics.load(cancelFlags, 0),
    client: { clientAddr: start.clientAddr, clientPort: start.clientPort },
  }, start.user, start.applicationName);
  try {
    await session.applyStartupSettings(start.settings);
  } catch (err) {
    session.close();
    refuse(msg.noticeOf(fromDuckDB(err), 'FATAL'));
    return;
  }
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
    msg.errorResponse(out.w, msg.noticeOf(fromDuckDB(err), 'FATAL'));
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
    ({ instance, ai } = await openInstance(options));
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
        sessions.get(m.sid)?.inbox.push(m.data, m.cancels);
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
  post({ t: 'ready', cancelFlags: cancelSlots.buffer });
}

void main();
