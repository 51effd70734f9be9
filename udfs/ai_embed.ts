import { FLOAT, LIST, VARCHAR } from '@duckdb/node-api';
import { writeFloatLists } from '../src/functions/float-lists.js';
import { columnValues, type BatchFunction } from '../src/functions/batch-function.js';
import type { AiContext } from '../src/functions/context.js';
import type { SqlFunction } from '../src/functions/sql-function.js';
import { stringValue } from '../src/sqltext/calls.js';
import { excerpt, runChunk } from '../src/functions/run-chunk.js';
import { embedOp } from '../src/functions/runtime-ops.js';

/** The kernel: a batch of texts embedded by one request per model (see functions/run-chunk.ts). */
const kernel = (ai: AiContext): BatchFunction => ({
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

/**
 * `ai_embed(model, text)`: one vector per row. A call naming its model by a literal is cast to
 * FLOAT[dimension of that model] when the statement is prepared, so it feeds array_cosine_similarity
 * and ARRAY columns; with a model from a column it is FLOAT[].
 */
export const aiEmbed: SqlFunction = {
  name: 'ai_embed',
  kind: 'scalar',
  description: 'the embedding of a text by a registered model, as FLOAT[n]',
  example: "SELECT array_cosine_similarity(ai_embed('builtin:hash-embed-256', 'ducks on a lake'), ai_embed('builtin:hash-embed-256', 'a lake with ducks'));",
  kernels: [kernel],
  macro: { params: 'model VARCHAR, text VARCHAR', body: '__ai_embed(CAST(model AS VARCHAR), CAST(text AS VARCHAR))' },
  callsModel: true,
  rewrite(call, _sql, ctx) {
    const model = call.args[0];
    if (call.args.length !== 2 || !model || model.name !== null) return [];
    if (call.before && /^(macro|function)$/i.test(call.before.text)) return [];
    const name = stringValue(model.value.tokens);
    const dim = name === null ? null : ctx.dimensionOf(name);
    if (!dim) return [];
    return [{ start: call.start, end: call.start, text: 'CAST(' }, { start: call.end, end: call.end, text: ` AS FLOAT[${dim}])` }];
  },
};
