import { INTEGER, VARCHAR } from '@duckdb/node-api';
import { columnValues, type BatchFunction } from '../../src/functions/batch-function.js';
import type { AiContext } from '../../src/functions/context.js';
import type { SqlFunction } from '../../src/functions/sql-function.js';
import { runChunk } from '../../src/functions/run-chunk.js';
import { judgePrompt, judgeSchema, readGrade, type JudgeExample, type Scale } from './prompt.js';
import { modelParameters } from '../ai_query/query-op.js';
import { SqlError } from '../../src/errors/sql-error.js';

const RETRIES = 2;

function examplesOf(json: unknown): JudgeExample[] {
  if (json === null || json === undefined) return [];
  const list = JSON.parse(String(json)) as unknown;
  if (!Array.isArray(list)) throw new SqlError('22023', 'examples must be a list of structs (question, answer, score, justification)');
  return list as JudgeExample[];
}

function scaleOf(max: unknown, min: unknown): Scale {
  const top = Number(max ?? 3);
  const bottom = Number(min ?? 0);
  if (!Number.isInteger(top) || top < 1 || top > 10) throw new SqlError('22023', 'scale must be an integer from 1 to 10: the highest grade');
  if (!Number.isInteger(bottom) || bottom < 0 || bottom >= top) {
    throw new SqlError('22023', `min_score must be an integer from 0 to ${top - 1}: the lowest grade, below scale`, 'for grades from 1 to 5: scale => 5, min_score => 1');
  }
  return { min: bottom, max: top };
}

/**
 * The kernel `__ai_judge(model, metric, question, answer, context, scale, min_score, examples,
 * modelParameters)`: a grade as JSON. The judge answers at temperature 0 unless modelParameters says
 * otherwise.
 */
const kernel = (ai: AiContext): BatchFunction => ({
  name: '__ai_judge',
  parameterTypes: [VARCHAR, VARCHAR, VARCHAR, VARCHAR, VARCHAR, INTEGER, INTEGER, VARCHAR, VARCHAR],
  returnType: VARCHAR,
  run(input, output, caller) {
    const [models, metrics, questions, answers, contexts, tops, bottoms, examples, params] = [0, 1, 2, 3, 4, 5, 6, 7, 8].map((c) => columnValues(input, c)) as unknown[][];
    const scale = (i: number): Scale => scaleOf(tops![i], bottoms![i]);
    let prompts = questions!.map((q, i) => (q === null || answers![i] === null ? null
      : judgePrompt(String(metrics![i] ?? 'correctness'), scale(i), String(q), String(answers![i]), contexts![i] === null ? null : String(contexts![i]), examplesOf(examples![i]))));
    const grades = new Array<string | null>(input.rowCount).fill(null);
    for (let attempt = 0; attempt <= RETRIES; attempt++) {
      const results = runChunk(ai, caller, {
        fn: 'ai_judge', models: models!, texts: prompts,
        optionsOf: (i) => `${scale(i).min}-${scale(i).max}\0${String(params![i])}`,
        makeOp: (spec, inputs, row) => ({
          op: 'generate', spec, inputs, parameters: { temperature: 0, ...modelParameters(params![row]) }, responseSchema: judgeSchema(scale(row)),
        }),
      });
      if (caller.collector) break; // the prefetch pass asks once; the statement retries
      const again: Array<string | null> = prompts.map(() => null);
      results.forEach((r, i) => {
        if (r === null) return;
        const grade = r.ok ? readGrade(r.value as string, scale(i)) : { invalid: r.error };
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
 * `ai_judge(model, question, answer, metric =>, context =>, scale =>, min_score =>, examples =>,
 * modelParameters =>)`: an LLM grades the answer with an integer from min_score (0) to scale (3) and a
 * one-line justification. A reply that is not a valid grade is asked again (twice, saying what was
 * wrong) and then reported in `error`, never scored.
 */
export const aiJudge: SqlFunction = {
  name: 'ai_judge',
  kind: 'scalar',
  description: "an LLM's grade of an answer, from min_score (0) to scale (3), with a justification: {score, justification, error}",
  example: "SELECT ai_judge('llm', 'What is the capital of France?', 'Paris', metric => 'correctness', scale => 5, min_score => 1, modelParameters => named_struct('temperature', 0.1)).score;",
  kernels: [kernel],
  macro: {
    params: "model VARCHAR, question VARCHAR, answer VARCHAR, metric VARCHAR := 'correctness', context VARCHAR := NULL, scale INTEGER := 3, min_score INTEGER := 0, "
      + 'examples := NULL, modelParameters := NULL',
    body: `from_json(__ai_judge(CAST(model AS VARCHAR), CAST(metric AS VARCHAR), CAST(question AS VARCHAR), CAST(answer AS VARCHAR), CAST(context AS VARCHAR),
        CAST(scale AS INTEGER), CAST(min_score AS INTEGER), CAST(to_json(examples) AS VARCHAR), CAST(to_json(modelParameters) AS VARCHAR)),
      '{"score":"INTEGER","justification":"VARCHAR","error":"VARCHAR"}')`,
  },
  callsModel: true,
};
