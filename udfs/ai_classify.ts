import { BOOLEAN, LIST, VARCHAR } from '@duckdb/node-api';
import type { DuckDBListValue } from '@duckdb/node-api';
import { columnValues, type AiContext, type BatchFunction } from '../src/functions/context.js';
import { excerpt, runChunk } from '../src/functions/run-chunk.js';
import type { Classification } from '../src/runtime/provider.js';
import { classifyOp, DEFAULT_HYPOTHESIS } from '../src/functions/runtime-ops.js';

/** A row's labels: the list's non-NULL items. */
const labelsOf = (v: unknown): string[] => ((v as DuckDBListValue | null)?.items ?? []).filter((x) => x !== null).map(String);

/**
 * `ai_classify(text, labels, model, multi_label, hypothesis_template)`: JSON of the labels and
 * their scores, best first; the SQL macro returns the best label (or, multi_label, those over 0.5).
 */
export const aiClassify = (ai: AiContext): BatchFunction => ({
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
