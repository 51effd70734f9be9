import { INTEGER, VARCHAR } from '@duckdb/node-api';
import { columnValues, type BatchFunction } from '../../src/functions/batch-function.js';
import type { AiContext } from '../../src/functions/context.js';
import type { SqlFunction } from '../../src/functions/sql-function.js';
import { runChunk } from '../../src/functions/run-chunk.js';
import { judgePrompt, judgeSchema, readGrade, type JudgeExample } from './prompt.js';
import { SqlError } from '../../src/errors/sql-error.js';

const RETRIES = 2;

function examplesOf(json: unknown): JudgeExample[] {
  if (json === null || json === undefined) return [];
  const list = JSON.parse(String(json)) as unknown;
  if (!Array.isArray(list)) throw new SqlError('22023', 'examples must be a list of structs (question, answer, score, justification)');
  return list as JudgeExample[];
}

/** The kernel `__ai_judge(model, metric, question, answer, context, scale, examples)`: a grade as JSON. */
const kernel = (ai: AiContext): BatchFunction => ({
  name: '__ai_judge',
  parameterTypes: [VARCHAR, VARCHAR, VARCHAR, VARCHAR, VARCHAR, INTEGER, VARCHAR],
  returnType: VARCHAR,
  run(input, output, caller) {
    const [models, metrics, questions, answers, contexts, scales, examples] = [0, 1, 2, 3, 4, 5, 6].map((c) => columnValues(input, c));
    const scaleOf = (i: number): number => {
      const s = Number(scales![i] ?? 3);
      if (!Number.isInteger(s) || s < 1 || s > 10) throw new SqlError('22023', 'scale must be an integer from 1 to 10');
      return s;
    };
    let prompts = questions!.map((q, i) => (q === null || answers![i] === null ? null
      : judgePrompt(String(metrics![i] ?? 'correctness'), scaleOf(i), String(q), String(answers![i]), contexts![i] === null ? null : String(contexts![i]), examplesOf(examples![i]))));
    const grades = new Array<string | null>(input.rowCount).fill(null);
    for (let attempt = 0; attempt <= RETRIES; attempt++) {
      const results = runChunk(ai, caller, {
        fn: 'ai_judge', models: models!, texts: prompts,
        optionsOf: (i) => String(scaleOf(i)),
        makeOp: (spec, inputs, row) => ({ op: 'generate', spec, inputs, parameters: { temperature: 0 }, responseSchema: judgeSchema(scaleOf(row)) }),
      });
      if (caller.collector) break; // the prefetch pass asks once; the statement retries
      const again: Array<string | null> = prompts.map(() => null);
      results.forEach((r, i) => {
        if (r === null) return;
        const grade = r.ok ? readGrade(r.value as string, scaleOf(i)) : { invalid: r.error };
        if ('score' in grade) grades[i] = JSON.stringify({ score: grade.score, justification: grade.justification, error: null });
        else if (attempt < RETRIES) {
          const previous = r.ok ? String(r.value).slice(0, 200) : '(none)';
          again[i] = `${prompts[i]}\n\nYour previous reply was not a valid grade (${grade.invalid}): ${previous}\nReply again with only the JSON object.`;
        }
        else grades[i] = JSON.stringify({ score: null, justification: null, error: `no valid grade after ${attempt + 1} attempts: ${grade.invalid}` });
      });
      if (again.every((p) => p === null)) break;
      prompts = again;
    }
    grades.forEach((g, i) => output.setItem(i, g));
    output.flush();
  },
});

/**
 * `ai_judge(model, question, answer, metric =>, context =>, scale =>, examples =>)`: an LLM grades
 * the answer on a 0..scale integer scale with a one-line justification. A reply that is not a valid
 * grade is asked again (twice, saying what was wrong) and then reported in `error`, never scored.
 */
export const aiJudge: SqlFunction = {
  name: 'ai_judge',
  kind: 'scalar',
  description: "an LLM's grade of an answer: {score, justification, error}",
  kernels: [kernel],
  sql: [`CREATE OR REPLACE MACRO ai_judge(model, question, answer, metric := 'correctness', context := NULL, scale := 3, examples := NULL) AS
    from_json(__ai_judge(model, metric, question, answer, context, scale, CAST(to_json(examples) AS VARCHAR)),
              '{"score":"INTEGER","justification":"VARCHAR","error":"VARCHAR"}')`],
  callsModel: true,
};
