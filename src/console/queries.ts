import type pg from 'pg';
import type {
  CurvesResponse, Experiment, ExperimentsResponse, JobsResponse, MetricPoint, ModelSummary, ModelVersion, ModelsResponse, Run,
  RunningJob, RunsResponse, TrainingRun,
} from './api-types.js';

/**
 * The fixed SQL the pages run. They read the views a SQL client reads (the ai schema), through the
 * browser session's own pool of Postgres sessions; nothing here writes.
 */

type Row = Record<string, unknown>;
const iso = (v: unknown): string => (v instanceof Date ? v.toISOString() : String(v));
const isoOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : iso(v));
const num = (v: unknown): number => Number(v);
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const strOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));
const record = <T>(v: unknown): Record<string, T> => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, T>) : {});
const parsedJson = (v: unknown): unknown => (typeof v === 'string' ? JSON.parse(v) : v);

export async function readModels(db: pg.Pool): Promise<ModelsResponse> {
  const [models, versions, runs] = await Promise.all([
    db.query(`SELECT name, latest_version, versions::INTEGER AS versions, aliases, task, provider, created_at FROM ai.models ORDER BY name`),
    db.query(`SELECT name, version, uri, task, provider, source, location, artifact_digest, endpoint_model, api_key_env, description, tags,
                     training_run, dimension, base_model, options, created_at, aliases
              FROM ai.model_versions_with_aliases ORDER BY name, version`),
    readTrainingRuns(db),
  ]);
  return {
    models: models.rows.map((r: Row): ModelSummary => ({
      name: String(r['name']), latestVersion: num(r['latest_version']), versions: num(r['versions']), aliases: record<number>(r['aliases']),
      task: String(r['task']), provider: String(r['provider']), createdAt: iso(r['created_at']),
    })),
    versions: versions.rows.map((r: Row): ModelVersion => ({
      name: String(r['name']), version: num(r['version']), uri: String(r['uri']), task: String(r['task']), provider: String(r['provider']),
      source: String(r['source']), location: String(r['location']), artifactDigest: strOrNull(r['artifact_digest']),
      endpointModel: strOrNull(r['endpoint_model']), apiKeyEnv: strOrNull(r['api_key_env']), description: strOrNull(r['description']),
      tags: record<string>(r['tags']), trainingRun: strOrNull(r['training_run']), dimension: numOrNull(r['dimension']),
      baseModel: strOrNull(r['base_model']), options: record<string>(r['options']), createdAt: iso(r['created_at']),
      aliases: Array.isArray(r['aliases']) ? (r['aliases'] as unknown[]).map(String) : [],
    })),
    trainingRuns: runs,
  };
}

async function readTrainingRuns(db: pg.Pool): Promise<TrainingRun[]> {
  const r = await db.query(`SELECT run_id, name, version, base_model, training_data, training_rows, eval_data, eval_rows, parameters, epochs,
                                   train_loss, eval_loss, trainable_params, total_params, started_at, finished_at
                            FROM ai.training_runs ORDER BY started_at`);
  return r.rows.map((x: Row): TrainingRun => ({
    runId: String(x['run_id']), name: String(x['name']), version: num(x['version']), baseModel: String(x['base_model']),
    trainingData: String(x['training_data']), trainingRows: num(x['training_rows']), evalData: strOrNull(x['eval_data']),
    evalRows: numOrNull(x['eval_rows']), parameters: record<unknown>(parsedJson(x['parameters'])),
    epochs: (parsedJson(x['epochs']) as Array<Record<string, unknown>> | null) ?? [],
    trainLoss: numOrNull(x['train_loss']), evalLoss: numOrNull(x['eval_loss']), trainableParams: num(x['trainable_params']),
    totalParams: num(x['total_params']), startedAt: iso(x['started_at']), finishedAt: iso(x['finished_at']),
  }));
}

export async function readJobs(db: pg.Pool): Promise<JobsResponse> {
  const r = await db.query(`SELECT j.pid, j.function, j.model, j.rows_done, j.rows_from_cache, j.rows_per_second, j.started_at, j.updated_at,
                                   j.run_id, r.experiment, j.epoch, j.step, j.total_steps, j.loss
                            FROM ai.running_jobs j LEFT JOIN ai.run_records r ON r.run_id = j.run_id ORDER BY j.started_at, j.pid`);
  return {
    jobs: r.rows.map((x: Row): RunningJob => ({
      pid: num(x['pid']), function: String(x['function']), model: String(x['model']), rowsDone: num(x['rows_done']),
      rowsFromCache: num(x['rows_from_cache']), rowsPerSecond: num(x['rows_per_second']), startedAt: iso(x['started_at']), updatedAt: iso(x['updated_at']),
      training: x['epoch'] === null ? null : {
        runId: strOrNull(x['run_id']), experiment: strOrNull(x['experiment']), epoch: num(x['epoch']), step: num(x['step']), totalSteps: num(x['total_steps']), loss: num(x['loss']),
      },
    })),
    at: new Date().toISOString(),
  };
}

/** Whether a session with this pid is running an AI job now (the jobs a console user may cancel). */
export async function isRunningJob(db: pg.Pool, pid: number): Promise<boolean> {
  const r = await db.query('SELECT count(*)::INTEGER AS n FROM ai.running_jobs WHERE pid = $1', [pid]);
  return num(r.rows[0]?.n) > 0;
}

/** Runs of one experiment the page lists at most (the latest). */
const MAX_RUNS = 1000;
/** Points of one metric curve sent at most: a longer curve is thinned to every n-th point (its first and last kept). */
export const MAX_POINTS_PER_CURVE = 2000;
/** Points of metric curves sent to one chart at most. */
export const MAX_CURVE_POINTS = 50_000;

export async function readExperiments(db: pg.Pool): Promise<ExperimentsResponse> {
  const r = await db.query(`SELECT e.name, e.created_at, count(r.run_id)::INTEGER AS runs, count(*) FILTER (WHERE r.status = 'running')::INTEGER AS running,
                                   max(r.start_time) AS last_start
                            FROM ai.experiments e LEFT JOIN ai.run_records r ON r.experiment = e.name
                            GROUP BY ALL ORDER BY last_start DESC NULLS LAST, e.name`);
  return {
    experiments: r.rows.map((x: Row): Experiment => ({
      name: String(x['name']), createdAt: iso(x['created_at']), runs: num(x['runs']), running: num(x['running']), lastStart: isoOrNull(x['last_start']),
    })),
  };
}

export async function readRuns(db: pg.Pool, experiment: string): Promise<RunsResponse> {
  const r = await db.query(`SELECT run_id, experiment, name, source, status, start_time, end_time, statement, model_name, model_version, params, metrics, error
                            FROM ai.runs WHERE experiment = $1 ORDER BY start_time DESC, run_id LIMIT ${MAX_RUNS + 1}`, [experiment]);
  return {
    runs: r.rows.slice(0, MAX_RUNS).map((x: Row): Run => ({
      runId: String(x['run_id']), experiment: String(x['experiment']), name: strOrNull(x['name']), source: String(x['source']), status: String(x['status']),
      startTime: iso(x['start_time']), endTime: isoOrNull(x['end_time']), statement: strOrNull(x['statement']),
      modelName: strOrNull(x['model_name']), modelVersion: numOrNull(x['model_version']),
      params: record<string | null>(x['params']), metrics: record<number>(x['metrics']), error: strOrNull(x['error']),
    })),
    truncated: r.rows.length > MAX_RUNS,
  };
}

/** The metric curves of the runs being compared, step by step; a curve of more than `maxPerCurve` points thinned to every n-th. */
export async function readCurves(db: pg.Pool, runIds: string[], maxPerCurve = MAX_POINTS_PER_CURVE): Promise<CurvesResponse> {
  const r = await db.query(`SELECT run_id, key, step, value, total FROM (
                              SELECT run_id, key, step, value, row_number() OVER w AS n, count(*) OVER (PARTITION BY run_id, key) AS total
                              FROM ai.run_metrics WHERE list_contains($1::VARCHAR[], run_id)
                              WINDOW w AS (PARTITION BY run_id, key ORDER BY step, timestamp))
                            WHERE total <= $2 OR n = 1 OR n = total OR n % ceil(total / $2) = 0
                            ORDER BY run_id, key, n LIMIT ${MAX_CURVE_POINTS + 1}`, [runIds, maxPerCurve]);
  const rows = r.rows.slice(0, MAX_CURVE_POINTS);
  return {
    points: rows.map((x: Row): MetricPoint => ({ runId: String(x['run_id']), key: String(x['key']), step: num(x['step']), value: num(x['value']) })),
    thinned: rows.some((x: Row) => num(x['total']) > maxPerCurve),
    truncated: r.rows.length > MAX_CURVE_POINTS,
  };
}
