import { FLOAT, LIST, VARCHAR } from '@duckdb/node-api';
import { writeFloatLists } from '../src/functions/float-lists.js';
import { columnValues, type AiContext, type BatchFunction } from '../src/functions/context.js';
import { excerpt, runChunk } from '../src/functions/run-chunk.js';
import { embedOp } from '../src/functions/runtime-ops.js';

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
    writeFloatLists(output, results.map((r, i) => {
      if (r === null) return null;
      if (!r.ok) throw new Error(`ai_embed failed for "${excerpt(texts[i])}": ${r.error}`);
      return r.value as Float32Array;
    }));
  },
});
