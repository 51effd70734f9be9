/**
 * Long model work (training, merging) in a thread of its own, so the engine keeps serving every
 * other session. The job ends with a `done` or `error` message.
 *
 * A cancel, a statement timeout or a client that went away answers the statement at once and asks
 * the thread to stop; it stops at its next check (between training steps). The thread is never
 * terminated from outside: ending a thread while onnxruntime runs in it aborts the whole process.
 */
import { Worker } from 'node:worker_threads';
import { SqlError } from '../errors/sql-error.js';
import { fromWire, toWire, type WireError } from '../errors/wire.js';
import type { CommandSession } from './command-session.js';

const POLL_MS = 200;

export type JobEnd = { t: 'done' } | { t: 'error'; error: WireError };

export interface WorkerJob {
  /** Settles with the job: resolved on `done`, rejected on an error or a stop. */
  result: Promise<void>;
  /** Settles when the thread has ended, after the result. */
  exited: Promise<void>;
}

/** Threads still running, stopped or not: the engine waits for them before it shuts down. */
const live = new Set<Promise<void>>();

export async function workerJobsEnded(): Promise<void> {
  await Promise.allSettled([...live]);
}

export function runWorkerJob<M extends { t: string }>(script: URL, workerData: unknown, session: CommandSession,
  onMessage: (m: M) => void, requestStop: () => void): WorkerJob {
  const worker = new Worker(script, { workerData });
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  live.add(exited);
  void exited.then(() => live.delete(exited));
  const result = new Promise<void>((resolve, reject) => {
    let settled = false;
    const finish = (err: Error | null): void => {
      if (settled) return;
      settled = true;
      clearInterval(poll);
      if (err) reject(err);
      else resolve();
    };
    const poll = setInterval(() => {
      const why = session.stopReason();
      if (!why) return;
      requestStop();
      finish(new SqlError('57014', why));
    }, POLL_MS);
    worker.on('message', (m: M | JobEnd) => {
      if (settled) return;
      if (m.t === 'done') finish(null);
      else if (m.t === 'error') {
        finish(fromWire((m as JobEnd & { t: 'error' }).error));
      } else {
        try {
          onMessage(m as M);
        } catch (err) {
          requestStop();
          finish(err instanceof Error ? err : new Error(String(err)));
        }
      }
    });
    worker.on('error', (err) => finish(new SqlError('XX000', `the worker thread failed: ${err.message}`)));
    worker.on('exit', (code) => finish(new SqlError('XX000', `the worker thread stopped (exit code ${code}) before it finished`)));
  });
  return { result, exited };
}

/** How a worker reports a failure: SqlErrors keep their SQLSTATE, anything else is an internal error. */
export function errorMessage(err: unknown, what: string): JobEnd {
  return { t: 'error', error: toWire(err, what) };
}
