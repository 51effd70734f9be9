import type { DuckDBConnection } from '@duckdb/node-api';
import { SqlError } from '../errors/sql-error.js';
import type { TrainingProgress } from '../jobs/command-session.js';
import type { ArtifactStore } from '../registry/artifact-store.js';
import type { Registry } from '../registry/registry.js';
import type { RuntimeClient } from '../runtime/runtime-client.js';
import type { PrefetchedResults } from './prefetched.js';
import type { Prefetch } from './prefetch.js';

/** What a SQL function knows of the session calling it. */
export interface Caller {
  sid: number;
  /** Why the running statement must stop (cancel, timeout, client gone), or null. */
  stopReason(): string | null;
  /** What the prefetch pass already computed for the running statement. */
  prefetched: PrefetchedResults;
  /** Set while the prefetch pass runs: the functions hand it their batches and answer NULL. */
  collector: Prefetch | null;
  /**
   * Progress of a long job, for NOTICEs and the ai.running_jobs view; a `note` (where the requests
   * go, a retry and why) is sent to the client as a NOTICE at once.
   */
  progress(fn: string, model: string, rows: number, cached: number, note?: string): void;
}

/** One AI function call site being evaluated by a session's statement. */
export interface Job {
  sid: number;
  fn: string;
  model: string;
  rows: number;
  cached: number;
  startedAt: Date;
  updatedAt: Date;
  /** For a training job (train_lora, fit_classifier's body): its last step. */
  training: TrainingProgress | null;
}

/** What pg_stat_activity shows of a session. */
export interface BackendActivity {
  pid: number;
  user: string;
  applicationName: string;
  clientAddr: string | null;
  clientPort: number | null;
  backendStart: Date;
  xactStart: Date | null;
  queryStart: Date | null;
  stateChange: Date;
  /** active, idle, idle in transaction, idle in transaction (aborted) */
  state: string;
  /** The statement running, or the last one. */
  query: string;
}

/** A session as the server-wide functions see it (pg_stat_activity, pg_cancel_backend, pg_terminate_backend). */
export interface Backend {
  activity(): BackendActivity;
  /** Cancels the statement it runs, if any. */
  cancel(): void;
  /** Ends the session: its client gets FATAL 57P01. */
  terminate(): void;
  /** NOTIFY from this session (pg_notify): sent to the listeners when its transaction commits. */
  notify(channel: string, payload: string): void;
  listensTo(channel: string): boolean;
  /** A notification for this session's client, from session `pid`. */
  receive(n: { pid: number; channel: string; payload: string }): void;
}

/** The engine's AI state shared by every session: registry snapshot, model runtime, callers. */
export class AiContext {
  private readonly callers = new Map<number, Caller>();
  readonly jobs = new Map<number, Job>();
  /** The open sessions, by pid. */
  readonly backends = new Map<number, Backend>();

  constructor(
    readonly registry: Registry,
    readonly runtime: RuntimeClient,
    readonly store: ArtifactStore,
    readonly hubCacheDir: string,
    readonly filesDir: string,
    readonly allowedDirs: readonly string[],
    readonly allowedKeyEnvs: readonly string[],
    /** The engine's own connection, which no session cancels: the registry is reloaded through it. */
    private readonly registryConn: DuckDBConnection,
  ) {}

  /** Reads the committed registry tables again (after a registry write). */
  reloadRegistry(): Promise<void> {
    return this.registry.load(this.registryConn);
  }

  private writes: Promise<unknown> = Promise.resolve();

  /** Runs registry writes one at a time (versions are numbered max + 1). */
  registryWrite<T>(work: () => Promise<T>): Promise<T> {
    const next = this.writes.then(work, work);
    this.writes = next.catch(() => undefined);
    return next;
  }

  attach(conn: DuckDBConnection, caller: Caller): void {
    this.callers.set(conn.clientContext.connectionId, caller);
  }

  detach(conn: DuckDBConnection): void {
    const caller = this.callers.get(conn.clientContext.connectionId);
    this.callers.delete(conn.clientContext.connectionId);
    if (caller) this.jobs.delete(caller.sid);
  }

  caller(connectionId: number): Caller {
    const c = this.callers.get(connectionId);
    if (!c) throw new SqlError('XX000', 'an AI function ran on a connection the engine does not know');
    return c;
  }
}
