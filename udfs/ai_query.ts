import { BOOLEAN, VARCHAR } from '@duckdb/node-api';
import { columnValues, type AiContext, type BatchFunction } from '../src/engine/ai-context.js';
import { runChunk } from '../src/engine/ai-batch.js';
import { conforms, type Structure } from '../src/engine/response-format.js';
import { isText, queryOp } from '../src/engine/ai-ops.js';

/**
 * `ai_query(model, request, modelParameters, responseFormat, failOnError)`: the model's answer as
 * JSON text, which the SQL macro turns into VARCHAR or the STRUCT responseFormat names. With
 * failOnError false, a failing row yields {result: NULL, errorMessage} and the query goes on.
 */
export const aiQuery = (ai: AiContext): BatchFunction => ({
  name: '__ai_query',
  parameterTypes: [VARCHAR, VARCHAR, VARCHAR, VARCHAR, BOOLEAN],
  returnType: VARCHAR,
  run(input, output, caller) {
    const params = columnValues(input, 2);
    const structures = columnValues(input, 3);
    const failOnError = columnValues(input, 4)[0] !== false;
    const structure = JSON.parse(String(structures[0] ?? '"VARCHAR"')) as Structure;
    const typed = !isText(structure);
    const results = runChunk(ai, caller, 'ai_query', columnValues(input, 0), columnValues(input, 1),
      (spec, inputs) => queryOp(spec, inputs, params[0], structure));
    results.forEach((r, i) => {
      let value: string | null = null;
      let error: string | null = null;
      if (r && !r.ok) error = r.error;
      else if (r) {
        const text = r.value as string;
        if (!typed) value = JSON.stringify(text);
        else {
          try {
            const parsed = JSON.parse(text) as unknown;
            if (conforms(parsed, structure)) value = JSON.stringify(parsed);
            else error = `the answer does not match responseFormat: ${text.slice(0, 200)}`;
          } catch {
            error = `the answer is not JSON: ${text.slice(0, 200)}`;
          }
        }
      }
      if (error !== null && failOnError) throw new Error(`ai_query failed on row ${i + 1}: ${error}`);
      output.setItem(i, failOnError ? value : (r === null ? null : `{"result":${value ?? 'null'},"errorMessage":${JSON.stringify(error)}}`));
    });
    output.flush();
  },
});
