import type { DuckDBConnection } from '@duckdb/node-api';
import { readSqlFile } from '../sqltext/sql-files.js';
import { failInterruptedRuns } from './runs.js';

/** The parameters of a train_lora run that describe its lineage rather than how it trained. */
const LINEAGE = ['base_model', 'training_data', 'training_rows', 'eval_rows', 'data_digest', 'trainable_params', 'total_params'];

/**
 * Databases made before runs were tracked have a table ai.training_runs: its rows become finished
 * train_lora runs (parameters, lineage, per-epoch metrics), and the table gives way to the view.
 */
async function migrateTrainingRunsTable(conn: DuckDBConnection): Promise<void> {
  const old = await conn.runAndReadAll("SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'ai' AND table_name = 'training_runs'");
  if (Number(old.getRows()[0]![0]) === 0) return;
  await conn.run('BEGIN TRANSACTION');
  try {
    await conn.run('INSERT INTO ai.experiments (name) SELECT DISTINCT name FROM ai.training_runs ON CONFLICT DO NOTHING');
    await conn.run(`INSERT INTO ai.run_records (run_id, experiment, source, status, start_time, end_time, model_name, model_version)
      SELECT run_id, name, 'train_lora', 'finished', started_at, finished_at, name, version FROM ai.training_runs`);
    const lineage = [`base_model`, 'training_data', 'CAST(training_rows AS VARCHAR)', 'CAST(eval_rows AS VARCHAR)', 'data_digest',
      'CAST(trainable_params AS VARCHAR)', 'CAST(total_params AS VARCHAR)'].map((v, i) => `{'k': '${LINEAGE[i]}', 'v': ${v}}`);
    await conn.run(`INSERT INTO ai.run_params
      SELECT run_id, p.k, p.v FROM (SELECT run_id, unnest([${lineage.join(', ')}]) AS p FROM ai.training_runs)
      UNION ALL
      SELECT run_id, j.key, CASE WHEN j.type = 'VARCHAR' THEN j.value ->> '$' ELSE CAST(j.value AS VARCHAR) END FROM ai.training_runs, json_each(parameters) j`);
    await conn.run(`INSERT INTO ai.run_metrics
      SELECT run_id, m.k, m.v, epoch, finished_at FROM (
        SELECT run_id, finished_at, e.epoch AS epoch, unnest([{'k': 'epoch_train_loss', 'v': e.train_loss}, {'k': 'epoch_eval_loss', 'v': e.eval_loss},
          {'k': 'epoch_steps', 'v': e.steps}, {'k': 'tokens_per_second', 'v': e.tokens_per_second}, {'k': 'elapsed_seconds', 'v': e.elapsed_seconds}]) AS m
        FROM (SELECT run_id, finished_at, unnest(from_json(epochs,
          '[{"epoch":"INTEGER","steps":"INTEGER","train_loss":"DOUBLE","eval_loss":"DOUBLE","tokens_per_second":"DOUBLE","elapsed_seconds":"DOUBLE"}]')) AS e
          FROM ai.training_runs))
      WHERE m.v IS NOT NULL`);
    await conn.run('DROP TABLE ai.training_runs');
    await conn.run('COMMIT');
  } catch (err) {
    await conn.run('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

/**
 * The registry's and the runs' tables and views, as this version of aiduck has them: created where
 * missing, older databases migrated, and runs a crash cut short marked failed.
 */
export async function openRegistrySchema(conn: DuckDBConnection): Promise<void> {
  for (const stmt of readSqlFile('ai-schema.sql')) await conn.run(stmt);
  await migrateTrainingRunsTable(conn);
  // DuckDB cannot replay an ALTER TABLE ... ADD COLUMN of a table with defaults from its WAL: make the
  // schema durable in the database file before anything else is logged.
  await conn.run('CHECKPOINT');
  for (const stmt of readSqlFile('ai-views.sql')) await conn.run(stmt);
  await failInterruptedRuns(conn);
}
