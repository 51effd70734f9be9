import { BOOLEAN, LIST, VARCHAR } from '@duckdb/node-api';
import type { DuckDBListValue } from '@duckdb/node-api';
import { columnValues, type AiContext, type BatchFunction } from '../src/engine/ai-context.js';
import { runChunk } from '../src/engine/ai-batch.js';
import type { Classification } from '../src/runtime/provider.js';
import { classifyOp, DEFAULT_HYPOTHESIS } from '../src/engine/ai-ops.js';

/**
 * `ai_classify(text, labels, model, multi_label, hypothesis_template)`: JSON of the labels and
 * their scores, best first; the SQL macro returns the best label (or, multi_label, those over 0.5).
 */
export const aiClassify = (ai: AiContext): BatchFunction => ({
  name: '__ai_classify',
  parameterTypes: [VARCHAR, VARCHAR, LIST(VARCHAR), BOOLEAN, VARCHAR],
  returnType: VARCHAR,
  run(input, output, caller) {
    const labelsCol = columnValues(input, 2) as Array<DuckDBListValue | null>;
    const labels = (labelsCol[0]?.items ?? []).map(String);
    const multiLabel = columnValues(input, 3)[0] === true;
    const template = String(columnValues(input, 4)[0] ?? DEFAULT_HYPOTHESIS);
    const results = runChunk(ai, caller, 'ai_classify', columnValues(input, 0), columnValues(input, 1),
      (spec, inputs) => classifyOp(spec, inputs, labels, multiLabel, template));
    results.forEach((r, i) => {
      if (r === null) return output.setItem(i, null);
      if (!r.ok) throw new Error(`ai_classify failed on row ${i + 1}: ${r.error}`);
      output.setItem(i, JSON.stringify(r.value as Classification));
    });
    output.flush();
  },
});
