import { BIGINT, DOUBLE, DuckDBTableFunction, INTEGER, TIMESTAMPTZ, VARCHAR, DuckDBTimestampTZValue } from '@duckdb/node-api';
import type { AiContext, Job } from '../src/functions/context.js';
import type { SqlFunction } from '../src/functions/sql-function.js';

function tableFunction(ai: AiContext): DuckDBTableFunction {
  return DuckDBTableFunction.create({
    name: 'ai_running_jobs',
    bindFunction: (info) => {
      info.addResultColumn('pid', INTEGER);
      info.addResultColumn('function', VARCHAR);
      info.addResultColumn('model', VARCHAR);
      info.addResultColumn('rows_done', BIGINT);
      info.addResultColumn('rows_from_cache', BIGINT);
      info.addResultColumn('rows_per_second', DOUBLE);
      info.addResultColumn('started_at', TIMESTAMPTZ);
      info.addResultColumn('updated_at', TIMESTAMPTZ);
    },
    initFunction: (info) => info.setInitData({ rows: [...ai.jobs.values()], done: false }),
    mainFunction: (info, out) => {
      const state = info.initData as { rows: Job[]; done: boolean };
      if (state.done) {
        out.rowCount = 0;
        return;
      }
      state.done = true;
      out.rowCount = state.rows.length;
      const ts = (d: Date): DuckDBTimestampTZValue => new DuckDBTimestampTZValue(BigInt(d.getTime()) * 1000n);
      state.rows.forEach((j, i) => {
        const seconds = Math.max(0.001, (j.updatedAt.getTime() - j.startedAt.getTime()) / 1000);
        const values = [j.sid, j.fn, j.model, BigInt(j.rows), BigInt(j.cached), j.rows / seconds, ts(j.startedAt), ts(j.updatedAt)];
        values.forEach((v, c) => out.getColumnVector(c).setItem(i, v as never));
      });
      for (let c = 0; c < 8; c++) out.getColumnVector(c).flush();
    },
  });
}

/** `ai_running_jobs()` and the view `ai.running_jobs`: the AI calls and training runs statements are running now. */
export const aiRunningJobs: SqlFunction = {
  name: 'ai_running_jobs',
  kind: 'table',
  description: 'the AI calls and training runs running now: pid, function, model, rows done, rows from cache, rows/s',
  tableFunction,
  sql: ['CREATE OR REPLACE VIEW ai.running_jobs AS SELECT * FROM ai_running_jobs()'],
};
