import type { ModelCommand } from '../src/functions/commands.js';
import { setVariable } from '../src/functions/session-variables.js';
import type { SqlFunction } from '../src/functions/sql-function.js';
import { sqlString } from '../src/sqltext/quote.js';
import { SqlError } from '../src/errors/sql-error.js';

/** `log_metric(run_id, key, value, step => 0)`: one more point of a run's metric (a curve is a metric over steps). */
const command: ModelCommand = {
  name: 'log_metric',
  signature: 'run_id, key, value, step := 0',
  argsStruct: 'struct_pack(run_id := run_id::VARCHAR, key := key::VARCHAR, value := value::DOUBLE, step := step::BIGINT)',
  resultSql: `SELECT run_id, key, value, step, timestamp FROM ai.run_metrics
    WHERE run_id = getvariable('aiduck_run_id') AND key = getvariable('aiduck_metric') ORDER BY timestamp DESC, step DESC LIMIT 1`,
  async run(conn, _ai, args, transaction) {
    const { run_id: runId, key, value, step } = args as { run_id: string | null; key: string | null; value: number | null; step: number | null };
    if (!runId || !key) throw new SqlError('22004', 'log_metric needs a run_id and a key');
    if (value === null || !Number.isFinite(value)) throw new SqlError('22023', `metric ${key} must be a finite number`);
    if (step === null || !Number.isInteger(step) || step < 0) throw new SqlError('22023', 'step must be a whole number, at least 0');
    await transaction(async () => {
      const found = await conn.runAndReadAll(`SELECT count(*) FROM ai.run_records WHERE run_id = ${sqlString(runId)}`);
      if (Number(found.getRows()[0]![0]) === 0) throw new SqlError('42704', `there is no run ${runId}`, 'SELECT run_id FROM ai.runs lists the runs');
      await conn.run(`INSERT INTO ai.run_metrics VALUES (${sqlString(runId)}, ${sqlString(key)}, ${value}, ${step}, current_timestamp)`);
    });
    await setVariable(conn, 'aiduck_run_id', runId);
    await setVariable(conn, 'aiduck_metric', key);
  },
};

export const logMetric: SqlFunction = {
  name: 'log_metric',
  kind: 'model-command',
  description: "one more value of a run's metric at a step",
  example: "CALL log_metric('4a88d3cbeee3414fbd8213c3a860cdfe', 'loss', 0.42, step => 3);",
  command,
};
