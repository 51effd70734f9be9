import { SqlError } from '../../src/errors/sql-error.js';
import type { JsonSchema } from '../../src/runtime/provider.js';

/** What each judge metric asks of an answer (aiduck's own wording). */
export const JUDGE_METRICS: Record<string, string> = {
  correctness: 'Is the answer factually correct for the question (and consistent with the context, when one is given)?',
  comprehensiveness: 'Does the answer cover everything the question asks for, with no important part missing?',
  readability: 'Is the answer clear, well organised and easy to read for the person who asked?',
  relevance: 'Does the answer address the question asked, without drifting to other subjects?',
};

export interface JudgeExample {
  question: string;
  answer: string;
  score: number;
  justification: string;
}

/** The grades a judge gives: integers from `min` (not at all) to `max` (completely). */
export interface Scale {
  min: number;
  max: number;
}

export const judgeSchema = (scale: Scale): JsonSchema => ({
  type: 'object',
  properties: { score: { type: 'integer', description: `${scale.min} to ${scale.max}` }, justification: { type: 'string' } },
  required: ['score', 'justification'],
  additionalProperties: false,
});

/** The grading prompt: the metric, the scale, graded examples, then the case to grade. */
export function judgePrompt(metric: string, scale: Scale, question: string, answer: string, context: string | null, examples: JudgeExample[]): string {
  const rubric = JUDGE_METRICS[metric];
  if (!rubric) throw new SqlError('22023', `unknown judge metric "${metric}"`, `the metrics are: ${Object.keys(JUDGE_METRICS).join(', ')}`);
  const lines = [
    `You grade answers on ${metric}. ${rubric}`,
    `Give an integer score from ${scale.min} (not at all) to ${scale.max} (completely) and a one-line justification.`,
    'Reply with only a JSON object: {"score": <integer>, "justification": "<one line>"}.',
  ];
  for (const e of examples) {
    lines.push('', 'Example:', `Question: ${e.question}`, `Answer: ${e.answer}`, `Grade: ${JSON.stringify({ score: e.score, justification: e.justification })}`);
  }
  lines.push('', 'Now grade:', `Question: ${question}`);
  if (context !== null) lines.push(`Context: ${context}`);
  lines.push(`Answer: ${answer}`);
  return lines.join('\n');
}

/** A judge's reply as a grade, or why it is not one. */
export function readGrade(text: string, scale: Scale): { score: number; justification: string } | { invalid: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { invalid: 'the reply is not JSON' };
  }
  const g = parsed as { score?: unknown; justification?: unknown };
  if (typeof g.score !== 'number' || !Number.isInteger(g.score) || g.score < scale.min || g.score > scale.max) {
    return { invalid: `the score must be an integer from ${scale.min} to ${scale.max}` };
  }
  if (typeof g.justification !== 'string' || !g.justification.trim()) return { invalid: 'the justification is missing' };
  return { score: g.score, justification: g.justification.trim().split('\n')[0]! };
}
