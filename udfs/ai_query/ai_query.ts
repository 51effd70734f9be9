import { BOOLEAN, VARCHAR } from '@duckdb/node-api';
import { columnValues, type AiContext, type BatchFunction } from '../../src/functions/context.js';
import { excerpt, runChunk } from '../../src/functions/run-chunk.js';
import { conforms, type Structure } from './response-format.js';
import { isText, queryOp } from '../../src/functions/runtime-ops.js';
import { SqlError } from '../../src/errors/sql-error.js';

function structureOf(value: unknown): Structure {
  try {
    return JSON.parse(String(value ?? '"VARCHAR"')) as Structure;
  } catch {
    throw new SqlError('22023', 'responseFormat must be a string literal written in the query',
      "write it in place, e.g. responseFormat => 'STRUCT<answer:STRING>'");
  }
}

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
    const texts = columnValues(input, 1);
    const params = columnValues(input, 2);
    const formats = columnValues(input, 3);
    const failOnError = columnValues(input, 4);
    const results = runChunk(ai, caller, {
      fn: 'ai_query', models: columnValues(input, 0), texts,
      optionsOf: (i) => `${String(params[i])}\0${String(formats[i])}`,
      makeOp: (spec, inputs, row) => queryOp(spec, inputs, params[row], structureOf(formats[row])),
    });
    results.forEach((r, i) => {
      const strict = failOnError[i] !== false;
      if (r === null) return output.setItem(i, strict ? null : '{"result":null,"errorMessage":null}');
      const structure = structureOf(formats[i]);
      let value: string | null = null;
      let error: string | null = null;
      if (!r.ok) error = r.error;
      else if (isText(structure)) value = JSON.stringify(r.value as string);
      else {
        const text = r.value as string;
        try {
          const parsed = JSON.parse(text) as unknown;
          // The answer's own text goes on, so from_json reads its digits (JSON.parse rounds past 2^53).
          if (conforms(parsed, structure)) value = text.trim();
          else error = `the answer does not match responseFormat: ${text.slice(0, 200)}`;
        } catch {
          error = `the answer is not JSON: ${text.slice(0, 200)}`;
        }
      }
      if (error !== null && strict) throw new Error(`ai_query failed for "${excerpt(texts[i])}": ${error}`);
      output.setItem(i, strict ? value : `{"result":${value ?? 'null'},"errorMessage":${JSON.stringify(error)}}`);
    });
    output.flush();
  },
});
