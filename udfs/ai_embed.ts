import { FLOAT, LIST, listValue, VARCHAR } from '@duckdb/node-api';
import { columnValues, type AiContext, type BatchFunction } from '../src/engine/ai-context.js';
import { excerpt, runChunk } from '../src/engine/ai-batch.js';
import { embedOp } from '../src/engine/ai-ops.js';

/**
 * `ai_embed(model, text)`: one vector per row. The session casts it to FLOAT[dimension] when the
 * model is named by a literal, so it feeds array_cosine_similarity and ARRAY columns.
 */
export const aiEmbed = (ai: AiContext): BatchFunction => ({
  name: '__ai_embed',
  parameterTypes: [VARCHAR, VARCHAR],
  returnType: LIST(FLOAT),
  run(input, output, caller) {
    const texts = columnValues(input, 1);
    const results = runChunk(ai, caller, { fn: 'ai_embed', models: columnValues(input, 0), texts, makeOp: embedOp });
    results.forEach((r, i) => {
      if (r === null) return output.setItem(i, null);
      if (!r.ok) throw new Error(`ai_embed failed for "${excerpt(texts[i])}": ${r.error}`);
      output.setItem(i, listValue(Array.from(r.value as Float32Array)));
    });
    output.flush();
  },
});
