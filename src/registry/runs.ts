import { randomUUID } from 'node:crypto';
import { SqlError } from '../errors/sql-error.js';
import { sqlString } from '../sqltext/quote.js';

/** Where run records are written: a DuckDB connection (or anything that runs SQL on one). */
export interface SqlRunner {
  run(sql: string): Promise<unknown>;
}

export type RunStatus = 'running' | 'finished' | 'failed' | 'cancelled';

export interface NewRun {
  experiment: string;
  name?: string | null;
  /** What ran it: train_lora, fit_classifier, evaluate_retriever, log_run. */
  source: string;
  /** The statement that ran it. */
  statement?: string | null;
  params?: Readonly<Record<string, string | number | boolean | null | undefined>>;
}

interface Metric {
  key: string;
  value: number;
  step: number;
  at: Date;
}

const lit = (v: string | null | undefined): string => (v === null || v === undefined ? 'NULL' : sqlString(v));
const ts = (d: Date): string => `${sqlString(d.toISOString())}::TIMESTAMPTZ`;

/** An experiment name: what a user passes in SQL. */
export function checkExperimentName(name: string | null | undefined): string {
  if (!name || !name.trim()) throw new SqlError('22023', 'an experiment needs a name', "e.g. experiment => 'rag'");
  if (name.length > 200) throw new SqlError('22023', 'an experiment name has at most 200 characters');
  return name;
}

/**
 * One run of an experiment, MLflow's way: inserted as 'running' when it starts, its parameters with
 * it; metrics (a value per step) buffered and written as the run goes; ended as finished, failed or
 * cancelled. `endSql` gives the statements that end it, so that a model version and the run that made
 * it are written in one transaction.
 */
export class Run {
  private pending: Metric[] = [];
  /** Writes of buffered metrics, one after another. */
  private writes: Promise<void> = Promise.resolve();

  private constructor(readonly id: string, readonly experiment: string) {}

  static async start(db: SqlRunner, r: NewRun): Promise<Run> {
    const run = new Run(randomUUID().replace(/-/g, ''), checkExperimentName(r.experiment));
    await db.run(`INSERT INTO ai.experiments (name) VALUES (${sqlString(run.experiment)}) ON CONFLICT DO NOTHING`);
    await db.run(`INSERT INTO ai.run_records (run_id, experiment, name, source, status, start_time, statement)
      VALUES (${sqlString(run.id)}, ${sqlString(run.experiment)}, ${lit(r.name)}, ${sqlString(r.source)}, 'running', current_timestamp, ${lit(r.statement)})`);
    await run.addParams(db, r.params ?? {});
    return run;
  }

  /** Records parameters (a parameter, once recorded, keeps its value, as in MLflow), after the run's earlier writes. */
  addParams(db: SqlRunner, params: Readonly<Record<string, string | number | boolean | null | undefined>>): Promise<void> {
    const entries = Object.entries(params).filter(([, v]) => v !== undefined);
    if (!entries.length) return this.writes;
    return this.queue(db, `INSERT INTO ai.run_params VALUES ${entries.map(([k, v]) => `(${sqlString(this.id)}, ${sqlString(k)}, ${lit(v === null ? null : String(v))})`).join(', ')}`);
  }

  /** Runs a write after the run's earlier ones (they share the connection, which takes one query at a time). */
  private queue(db: SqlRunner, sql: string): Promise<void> {
    this.writes = this.writes.then(async () => {
      await db.run(sql);
    });
    return this.writes;
  }

  /** Records a metric's value at a step (written with the next flush). Values that are not finite numbers are left out. */
  metric(key: string, value: number, step: number, at = new Date()): void {
    if (Number.isFinite(value)) this.pending.push({ key, value, step, at });
  }

  /** Writes the buffered metrics now (in the background order of earlier flushes). */
  flush(db: SqlRunner): Promise<void> {
    const batch = this.pending;
    this.pending = [];
    return batch.length ? this.queue(db, this.metricsSql(batch)) : this.writes;
  }

  private metricsSql(batch: Metric[]): string {
    return `INSERT INTO ai.run_metrics VALUES ${batch.map((m) => `(${sqlString(this.id)}, ${sqlString(m.key)}, ${m.value}, ${m.step}, ${ts(m.at)})`).join(', ')}`;
  }

  /** The statements that end the run (after its buffered metrics), for a transaction the caller runs. */
  async endSql(status: Exclude<RunStatus, 'running'>, end: { model?: { name: string; version: number }; artifact?: string; error?: string } = {}): Promise<string[]> {
    await this.writes.catch(() => undefined);
    const batch = this.pending;
    this.pending = [];
    return [
      ...(batch.length ? [this.metricsSql(batch)] : []),
      `UPDATE ai.run_records SET status = ${sqlString(status)}, end_time = current_timestamp,
         model_name = ${lit(end.model?.name)}, model_version = ${end.model ? end.model.version : 'NULL'}, artifact = ${lit(end.artifact)}, error = ${lit(end.error)}
       WHERE run_id = ${sqlString(this.id)}`,
    ];
  }

  /** Ends the run on its own (no model version with it). */
  async end(db: SqlRunner, status: Exclude<RunStatus, 'running'>, end: { error?: string } = {}): Promise<void> {
    for (const sql of await this.endSql(status, end)) await db.run(sql);
  }
}

/** At start-up: runs still 'running' were cut short by a crash or a kill. */
export async function failInterruptedRuns(db: SqlRunner): Promise<void> {
  await db.run(`UPDATE ai.run_records SET status = 'failed', end_time = coalesce(end_time, current_timestamp),
    error = coalesce(error, 'the server stopped while the run was going on') WHERE status = 'running'`);
}

/** The status a run ends with when its statement fails. */
export const statusOf = (err: unknown): 'failed' | 'cancelled' => (err instanceof SqlError && err.code === '57014' ? 'cancelled' : 'failed');
