import { BOOLEAN, LIST, VARCHAR } from '@duckdb/node-api';
import type { DuckDBListValue } from '@duckdb/node-api';
import { columnValues, type BatchFunction } from '../src/functions/batch-function.js';
import type { AiContext } from '../src/functions/context.js';
import type { SqlFunction } from '../src/functions/sql-function.js';
import { excerpt, runChunk } from '../src/functions/run-chunk.js';
import type { Classification } from '../src/runtime/provider.js';
import { classifyOp, DEFAULT_HYPOTHESIS } from '../src/functions/runtime-ops.js';

/** A row's labels: the list's non-NULL items. */
const labelsOf = (v: unknown): string[] => ((v as DuckDBListValue | null)?.items ?? []).filter((x) => x !== null).map(String);

/**
 * The kernel `__ai_classify(model, text, labels, multi_label, hypothesis_template)`: JSON of the
 * labels and their scores, best first.
 */
const kernel = (ai: AiContext): BatchFunction => ({
  name: '__ai_classify',
  parameterTypes: [VARCHAR, VARCHAR, LIST(VARCHAR), BOOLEAN, VARCHAR],
  returnType: VARCHAR,
  run(input, output, caller) {
    const texts = columnValues(input, 1);
    const labels = columnValues(input, 2);
    const multi = columnValues(input, 3);
    const templates = columnValues(input, 4);
    const results = runChunk(ai, caller, {
      fn: 'ai_classify', models: columnValues(input, 0), texts,
      optionsOf: (i) => JSON.stringify([labelsOf(labels[i]), multi[i] === true, templates[i]]),
      makeOp: (spec, inputs, row) => classifyOp(spec, inputs, labelsOf(labels[row]), multi[row] === true, String(templates[row] ?? DEFAULT_HYPOTHESIS)),
    });
    results.forEach((r, i) => {
      if (r === null) return output.setItem(i, null);
      if (!r.ok) throw new Error(`ai_classify failed for "${excerpt(texts[i])}": ${r.error}`);
      output.setItem(i, JSON.stringify(r.value as Classification));
    });
    output.flush();
  },
});

const CLASSIFY_PARAMS = `text VARCHAR, labels VARCHAR[], model VARCHAR := 'classifier', multi_label BOOLEAN := false, hypothesis_template VARCHAR := '${DEFAULT_HYPOTHESIS}'`;

/** `ai_classify_scores(text, labels, model =>, multi_label =>, hypothesis_template =>)`: {labels, scores}, best first. */
export const aiClassifyScores: SqlFunction = {
  name: 'ai_classify_scores',
  kind: 'scalar',
  description: 'the score of every label for a text, best first: {labels, scores}',
  example: "SELECT ai_classify_scores('the team won the match', ['sports', 'politics'], model => 'classifier');",
  kernels: [kernel],
  macro: {
    params: CLASSIFY_PARAMS,
    body: `from_json(__ai_classify(CAST(model AS VARCHAR), CAST(text AS VARCHAR), CAST(labels AS VARCHAR[]), CAST(multi_label AS BOOLEAN), CAST(hypothesis_template AS VARCHAR)),
      '{"labels":["VARCHAR"],"scores":["DOUBLE"]}')`,
  },
  callsModel: true,
};

/** `ai_classify(text, labels, ...)`: the best label (with multi_label, the labels scoring over 0.5, comma-separated). */
export const aiClassify: SqlFunction = {
  name: 'ai_classify',
  kind: 'scalar',
  description: 'the best label for a text (zero-shot NLI, or a few-shot head from fit_classifier)',
  example: "SELECT ai_classify('the team won the match', ['sports', 'politics', 'science and technology'], model => 'classifier');",
  macro: {
    params: CLASSIFY_PARAMS,
    body: `CASE WHEN CAST(multi_label AS BOOLEAN)
      THEN array_to_string(list_filter(
             list_zip(ai_classify_scores(text, labels, model := model, multi_label := true, hypothesis_template := hypothesis_template).labels,
                      ai_classify_scores(text, labels, model := model, multi_label := true, hypothesis_template := hypothesis_template).scores),
             x -> x[2] > 0.5).apply(x -> x[1]), ',')
      ELSE ai_classify_scores(text, labels, model := model, multi_label := false, hypothesis_template := hypothesis_template).labels[1] END`,
  },
  callsModel: true,
};

/** `ai_analyze_sentiment(text, model =>)`: positive, negative, neutral or mixed, by a zero-shot classifier. */
export const aiAnalyzeSentiment: SqlFunction = {
  name: 'ai_analyze_sentiment',
  kind: 'scalar',
  description: 'positive, negative, neutral or mixed (default model: sentiment)',
  example: "SELECT ai_analyze_sentiment('I love this duck', model => 'classifier');",
  macro: {
    params: "text VARCHAR, model VARCHAR := 'sentiment'",
    body: "ai_classify(text, ['positive', 'negative', 'neutral', 'mixed'], model := model, hypothesis_template := 'The sentiment of this text is {}.')",
  },
  callsModel: true,
};
