import { SqlError } from '../errors/sql-error.js';
import { fromDuckDB } from '../errors/duckdb.js';
import * as msg from '../protocol/backend.js';
import type { Job } from '../functions/context.js';
import type { TrainingProgress } from '../jobs/command-session.js';
import type { SessionOutput } from './output.js';

const PROGRESS_INTERVAL_MS = Number(process.env['AIDUCK_PROGRESS_INTERVAL_MS'] ?? 5000);

const USER_CANCEL = 'canceling statement due to user request';
const TIMEOUT = 'canceling statement due to statement timeout';

/** What statement control needs of its session. */
export interface ControlHost {
  sid: number;
  /** Bumped by the server thread on a cancel request; readable while this thread is blocked in a model call. */
  cancelCounter(): number;
  out: SessionOutput;
  /** The AI jobs running now, by session (ai.running_jobs). */
  jobs: Map<number, Job>;
  /** Interrupts the DuckDB query running on the session's connection. */
  interrupt(): void;
  /** Stops the session's model work in the runtime thread. */
  cancelModelWork(): void;
  statementTimeoutMs(): number;
  /** Whether the client takes NOTICEs (client_min_messages). */
  sendsNotices(): boolean;
}

/**
 * What stops a running statement and what it reports while it runs: a cancel request (from the
 * server thread's counter, which moves even while this thread is blocked in a model call), the
 * statement_timeout deadline, a client that went away, and progress notices of long AI jobs. Once a
 * registry command has committed, nothing stops it any more (as after a COMMIT in Postgres).
 */
export class StatementControl {
  private cancelEpoch = 0;
  /** The cancel count when a cancel last stopped a statement: those cancels are spent, not for the next one. */
  private spentCancels = 0;
  private deadline = Infinity;
  private timedOut = false;
  private interrupted = false;
  private committed = false;
  /** The statement ran to its end without a result left to stream (its effects stand, committed or not). */
  private completed = false;
  private lastProgressNotice = 0;

  constructor(private readonly host: ControlHost) {}

  /** Why the running statement must stop, or null; asked by model calls, which block this thread. */
  stopReason(): string | null {
    if (this.committed) return null;
    if (this.host.cancelCounter() !== this.cancelEpoch || this.host.out.closed) {
      this.interrupted = true;
      return USER_CANCEL;
    }
    if (Date.now() > this.deadline) {
      this.timedOut = true;
      return TIMEOUT;
    }
    return null;
  }

  /** The statement was asked to stop (cancel, timeout or the client gone): work ahead of it should not start. */
  get stopping(): boolean {
    return this.interrupted || this.timedOut || this.host.out.closed;
  }

  /** Throws the 57014 of a stop that already happened. */
  throwIfStopped(): void {
    if (this.timedOut) throw new SqlError('57014', TIMEOUT);
    if (this.interrupted) throw new SqlError('57014', USER_CANCEL);
  }

  /** A cancel request for this session. */
  cancel(): void {
    if (this.committed) return;
    this.interrupted = true;
    this.host.interrupt();
    this.host.cancelModelWork();
  }

  /** A registry command's change has committed: from here a cancel or a timeout is too late. */
  markCommitted(): void {
    this.committed = true;
  }

  /**
   * The statement has run to its end and has no rows left to send: a cancel that arrives now is too
   * late, as in Postgres — reporting 57014 for an INSERT that committed would make a client that
   * retries on 57014 insert its rows twice.
   */
  markCompleted(): void {
    this.completed = true;
  }

  /**
   * Runs one statement (its execution and the sending of its rows) under statement_timeout and
   * cancels. `cancelsAtArrival`: the cancel count when the statement's message arrived, so that a
   * cancel sent while it waited to start stops it (as Postgres' would), and an older one does not.
   */
  async run<T>(work: () => Promise<T>, cancelsAtArrival: number | null = null): Promise<T> {
    const ms = this.host.statementTimeoutMs();
    this.timedOut = false;
    this.interrupted = false;
    this.completed = false;
    this.cancelEpoch = Math.max(cancelsAtArrival ?? this.host.cancelCounter(), this.spentCancels);
    this.deadline = ms > 0 ? Date.now() + ms : Infinity;
    const timer = ms > 0
      ? setTimeout(() => {
        if (this.committed) return;
        this.timedOut = true;
        this.cancel();
      }, ms)
      : null;
    try {
      if (this.host.cancelCounter() !== this.cancelEpoch && !this.committed) {
        this.interrupted = true;
        throw new SqlError('57014', USER_CANCEL);
      }
      const result = await work();
      // An interrupt can end a streaming result early without an error; the client must not
      // mistake the rows it got for the whole result.
      if (this.interrupted && !this.completed) throw new SqlError('57014', this.timedOut ? TIMEOUT : USER_CANCEL);
      return result;
    } finally {
      if (timer) clearTimeout(timer);
      if (this.interrupted && !this.timedOut) this.spentCancels = this.host.cancelCounter();
      this.committed = false;
      this.host.jobs.delete(this.host.sid);
    }
  }

  /** The error to report for a failed statement: DuckDB's interrupt after a cancel or timeout is 57014 with the reason. */
  errorOf(err: unknown): SqlError {
    const stopped = err instanceof Error && /^Interrupt|canceling statement/i.test(err.message.replace(/^[A-Za-z ]+Error: /, ''));
    const timedOut = this.timedOut && stopped;
    this.timedOut = false;
    if (timedOut) return new SqlError('57014', TIMEOUT);
    if (stopped && this.interrupted) return new SqlError('57014', USER_CANCEL);
    return fromDuckDB(err);
  }

  /**
   * Records a chunk of AI work (ai.running_jobs) and, every few seconds of a long job, tells the
   * client; a note (where an endpoint's requests go, a retry and why) is sent at once.
   */
  progress(fn: string, model: string, rows: number, cached: number, note?: string): void {
    const now = new Date();
    const { jobs } = this.host;
    const sid = this.host.sid;
    let job = jobs.get(sid);
    if (!job || job.fn !== fn || job.model !== model) {
      job = { sid, fn, model, rows: 0, cached: 0, startedAt: now, updatedAt: now, training: null };
      jobs.set(sid, job);
      this.lastProgressNotice = now.getTime();
    }
    job.rows += rows;
    job.cached += cached;
    job.updatedAt = now;
    if ((note !== undefined || now.getTime() - this.lastProgressNotice >= PROGRESS_INTERVAL_MS) && this.host.sendsNotices()) {
      this.lastProgressNotice = now.getTime();
      const seconds = (now.getTime() - job.startedAt.getTime()) / 1000;
      msg.noticeResponse(this.host.out.w, {
        severity: 'NOTICE', code: '00000',
        message: note !== undefined ? `${fn}(${model}): ${note}`
          : `${fn}(${model}): ${job.rows} rows done (${job.cached} from cache), ${Math.round(job.rows / Math.max(seconds, 0.001))} rows/s`,
      });
      this.host.out.flush();
    }
  }

  /** Records a training step: `examples` more rows done, and the run's epoch, step and loss (ai.running_jobs). */
  trainingStep(fn: string, model: string, examples: number, state: TrainingProgress): void {
    this.progress(fn, model, examples, 0);
    const job = this.host.jobs.get(this.host.sid);
    if (job) job.training = { ...state };
  }
}
