import type { ModelCommand } from '../src/functions/commands.js';
import { setVariable } from '../src/functions/session-variables.js';
import type { SqlFunction } from '../src/functions/sql-function.js';
import { Run } from '../src/registry/runs.js';
import { SqlError } from '../src/errors/sql-error.js';

interface Args {
  experiment: string | null;
  name: string | null;
  params: Record<string, string | null> | null;
  metrics: Record<string, number | null> | null;
  step: number | null;
}

/**
 * `log_run(experiment, name =>, params => MAP {...}, metrics => MAP {...}, step => 0)`: records a
 * finished run of an experiment with its parameters and metrics (MLflow's log_params and
 * log_metrics), e.g. the aggregates of an evaluation; one row with its run_id.
 */
const command: ModelCommand = {
  name: 'log_run',
  signature: 'experiment, name := NULL, params := NULL, metrics := NULL, step := 0',
  argsStruct: `struct_pack(experiment := experiment::VARCHAR, name := name::VARCHAR, params := CAST(params AS MAP(VARCHAR, VARCHAR)),
    metrics := CAST(metrics AS MAP(VARCHAR, DOUBLE)), step := step::BIGINT)`,
  resultSql: `SELECT run_id, experiment, name, status, params, metrics, start_time FROM ai.runs WHERE run_id = getvariable('aiduck_run_id')`,
  async run(conn, _ai, raw, transaction, session) {
    const a = raw as unknown as Args;
    if (a.step === null || !Number.isInteger(a.step) || a.step < 0) throw new SqlError('22023', 'step must be a whole number, at least 0');
    let id = '';
    await transaction(async () => {
      const run = await Run.start(conn, { experiment: a.experiment ?? '', name: a.name, source: 'log_run', statement: session.statement, params: a.params ?? {} });
      for (const [key, value] of Object.entries(a.metrics ?? {})) {
        if (value === null || !Number.isFinite(value)) throw new SqlError('22023', `metric ${key} must be a finite number`);
        run.metric(key, value, a.step!);
      }
      await run.end(conn, 'finished');
      id = run.id;
    });
    await setVariable(conn, 'aiduck_run_id', id);
  },
};

export const logRun: SqlFunction = {
  name: 'log_run',
  kind: 'model-command',
  description: 'records a run of an experiment with its parameters and metrics; one row with its run_id',
  example: "SELECT run_id FROM log_run('support', name => 'judge v2', metrics => MAP {'correctness': 2.5});",
  command,
};
