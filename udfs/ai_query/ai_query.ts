import { BOOLEAN, VARCHAR } from '@duckdb/node-api';
import { columnValues, type BatchFunction } from '../../src/functions/batch-function.js';
import type { AiContext } from '../../src/functions/context.js';
import { excerpt, runChunk } from '../../src/functions/run-chunk.js';
import type { SqlFunction } from '../../src/functions/sql-function.js';
import { stringValue } from '../../src/sqltext/calls.js';
import { sqlString } from '../../src/sqltext/quote.js';
import { conforms, structureOf as parseResponseFormat, type Structure } from './response-format.js';
import { isText, queryOp } from './query-op.js';
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
 * The kernel `__ai_query(model, request, modelParameters, responseFormat, failOnError)`: the model's
 * answer as JSON text, which the macro turns into VARCHAR or the STRUCT responseFormat names. With
 * failOnError false, a failing row yields {result: NULL, errorMessage} and the query goes on.
 */
const kernel = (ai: AiContext): BatchFunction => ({
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

/**
 * `ai_query(model, request, modelParameters =>, responseFormat =>, failOnError =>)`. The answer's
 * type depends on responseFormat and failOnError, and DuckDB's from_json needs it as a constant: so a
 * literal `responseFormat => 'STRUCT<...>'` (or a JSON schema) is turned into a from_json structure
 * when the statement is prepared, and the structure of the whole answer (wrapped in {result,
 * errorMessage} when failOnError is false) is passed as `__structure`.
 */
export const aiQuery: SqlFunction = {
  name: 'ai_query',
  kind: 'scalar',
  description: "a model's answer to a request (text, or the STRUCT that responseFormat names)",
  kernels: [kernel],
  sql: [`CREATE OR REPLACE MACRO ai_query(model, request, modelParameters := NULL, responseFormat := '"VARCHAR"', failOnError := true, __structure := '"VARCHAR"') AS
    from_json(__ai_query(model, request, CAST(to_json(modelParameters) AS VARCHAR), responseFormat, failOnError), __structure)`],
  callsModel: true,
  rewrite(call) {
    let structure: Structure = 'VARCHAR';
    let failOnError = true;
    let named = false;
    const edits = [];
    for (const arg of call.args) {
      if (arg.name === 'responseformat') {
        const text = stringValue(arg.value.tokens);
        if (text === null) continue;
        structure = parseResponseFormat(text);
        edits.push({ start: arg.value.start, end: arg.value.end, text: sqlString(JSON.stringify(structure)) });
        named = true;
      } else if (arg.name === 'failonerror') {
        const v = arg.value.tokens;
        if (v.length !== 1 || !/^(true|false)$/i.test(v[0]!.text)) {
          throw new SqlError('22023', 'failOnError must be written as true or false', 'the shape of ai_query\'s answer depends on it, so it cannot come from an expression');
        }
        failOnError = v[0]!.text.toLowerCase() === 'true';
        named = true;
      }
    }
    if (named) {
      const shape = failOnError ? structure : { result: structure, errorMessage: 'VARCHAR' };
      edits.push({ start: call.argsEnd, end: call.argsEnd, text: `, __structure := ${sqlString(JSON.stringify(shape))}` });
    }
    return edits;
  },
};
