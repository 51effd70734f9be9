import { BIGINT, DOUBLE, INTEGER, TIMESTAMPTZ, VARCHAR, type DuckDBTableFunction } from '@duckdb/node-api';
import { snapshotTable, timestampTZ, type SnapshotColumn } from '../src/functions/snapshot-table.js';
import type { AiContext, Job } from '../src/functions/context.js';
import type { SqlFunction } from '../src/functions/sql-function.js';

/** The view's columns, their types and their values for a job; a training's columns are NULL for other jobs. */
const COLUMNS: Array<SnapshotColumn<Job>> = [
  { name: 'pid', type: INTEGER, value: (j) => j.sid },
  { name: 'function', type: VARCHAR, value: (j) => j.fn },
  { name: 'model', type: VARCHAR, value: (j) => j.model },
  { name: 'rows_done', type: BIGINT, value: (j) => BigInt(j.rows) },
  { name: 'rows_from_cache', type: BIGINT, value: (j) => BigInt(j.cached) },
  { name: 'rows_per_second', type: DOUBLE, value: (j) => j.rows / Math.max(0.001, (j.updatedAt.getTime() - j.startedAt.getTime()) / 1000) },
  { name: 'started_at', type: TIMESTAMPTZ, value: (j) => timestampTZ(j.startedAt) },
  { name: 'updated_at', type: TIMESTAMPTZ, value: (j) => timestampTZ(j.updatedAt) },
  { name: 'run_id', type: VARCHAR, value: (j) => j.training?.runId ?? null },
  { name: 'epoch', type: INTEGER, value: (j) => j.training?.epoch ?? null },
  { name: 'step', type: BIGINT, value: (j) => (j.training ? BigInt(j.training.step) : null) },
  { name: 'total_steps', type: BIGINT, value: (j) => (j.training ? BigInt(j.training.totalSteps) : null) },
  { name: 'loss', type: DOUBLE, value: (j) => j.training?.loss ?? null },
];

const tableFunction = (ai: AiContext): DuckDBTableFunction => snapshotTable('ai_running_jobs', COLUMNS, () => [...ai.jobs.values()]);

/** `ai_running_jobs()` and the view `ai.running_jobs`: the AI calls and training runs statements are running now. */
export const aiRunningJobs: SqlFunction = {
  name: 'ai_running_jobs',
  kind: 'table',
  description: 'the AI calls and training runs running now: pid, function, model, rows done, rows from cache, rows/s, and a training\'s run, epoch, step and loss',
  example: 'SELECT function, model, rows_done, rows_per_second FROM ai.running_jobs;',
  tableFunction,
  sql: ['CREATE OR REPLACE VIEW ai.running_jobs AS SELECT * FROM ai_running_jobs()'],
};
