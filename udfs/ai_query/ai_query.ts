import { BOOLEAN, VARCHAR } from '@duckdb/node-api';
import { columnValues, type BatchFunction } from '../../src/functions/batch-function.js';
import type { AiContext } from '../../src/functions/context.js';
import { excerpt, runChunk } from '../../src/functions/run-chunk.js';
import type { SqlFunction } from '../../src/functions/sql-function.js';
import { conforms, describe, fromJsonStructure, isText, jsonSchemaOf, TEXT, typeOfFormat, type JsonType } from '../../src/functions/spark-types.js';
import { stringValue, type CallArgument } from '../../src/sqltext/calls.js';
import { sqlString } from '../../src/sqltext/quote.js';
import { SqlError } from '../../src/errors/sql-error.js';
import { queryOp } from './query-op.js';
import { readRequest, type Request } from './chat-request.js';

/** A type as the call rewrite hands it to the kernel (JSON of a JsonType), or null. */
function typeArgument(value: unknown): JsonType | null {
  return value === null || value === undefined ? null : JSON.parse(String(value)) as JsonType;
}

/** The text a row's request is sent as: the text itself, or the JSON of its messages. */
const inputOf = (r: Request): string | null => ('text' in r ? r.text : 'messages' in r ? JSON.stringify(r.messages) : null);

/**
 * The kernel `__ai_query(model, request, request_type, modelParameters, responseFormat, returnType,
 * failOnError)`. The request comes as text, or as the JSON of a conversation when its type is not
 * VARCHAR. The answer is the model's text when it is read as STRING and failOnError is true, else
 * JSON, which the call rewrite reads with from_json: the type responseFormat or returnType names,
 * within {result, errorMessage} when failOnError is false (a failing row then goes on with its error).
 */
const kernel = (ai: AiContext): BatchFunction => ({
  name: '__ai_query',
  parameterTypes: [VARCHAR, VARCHAR, VARCHAR, VARCHAR, VARCHAR, VARCHAR, BOOLEAN],
  returnType: VARCHAR,
  run(input, output, caller) {
    const [models, values, kinds, params, formats, returnTypes, failOnError] = [0, 1, 2, 3, 4, 5, 6].map((c) => columnValues(input, c)) as unknown[][];
    const requests = values!.map((v, i) => (v === null ? null : readRequest(String(v), String(kinds![i]))));
    // An invalid request is not sent (its row reports why); NULL and empty ones answer NULL.
    const texts = requests.map((r) => (r === null ? null : inputOf(r)));
    const formatOf = (i: number): JsonType | null => {
      const f = typeArgument(formats![i]);
      return f && !isText(f) ? f : null;
    };
    const typeOf = (i: number): JsonType => typeArgument(formats![i]) ?? typeArgument(returnTypes![i]) ?? TEXT;
    const isChat = (i: number): boolean => requests[i] !== null && 'messages' in requests[i]!;
    const results = runChunk(ai, caller, {
      fn: 'ai_query', models: models!, texts,
      optionsOf: (i) => `${String(params![i])}\0${String(formats![i])}\0${isChat(i)}`,
      makeOp: (spec, inputs, row) => queryOp(spec, inputs, params![row], formatOf(row), isChat(row)),
    });
    results.forEach((r, i) => {
      const strict = failOnError![i] !== false;
      const request = requests[i];
      if (request && 'invalid' in request) {
        if (strict) throw new SqlError('22023', `ai_query: ${request.invalid}`);
        return output.setItem(i, JSON.stringify({ result: null, errorMessage: request.invalid }));
      }
      if (r === null) return output.setItem(i, strict ? null : '{"result":null,"errorMessage":null}');
      const type = typeOf(i);
      const named = `${formats![i] === null || formats![i] === undefined ? 'returnType' : 'responseFormat'} ${describe(type)}`;
      let value: string | null = null;
      let error: string | null = null;
      if (!r.ok) error = r.error;
      else if (isText(type)) value = strict ? (r.value as string) : JSON.stringify(r.value as string);
      else {
        const text = r.value as string;
        try {
          const parsed = JSON.parse(text) as unknown;
          // The answer's own text goes on, so from_json reads its digits (JSON.parse rounds past 2^53).
          if (conforms(parsed, type)) value = text.trim();
          else error = `the answer does not match ${named}: ${text.slice(0, 200)}`;
        } catch {
          error = `the answer is not JSON, as ${named} needs: ${text.slice(0, 200)}`;
        }
      }
      if (error !== null && strict) throw new Error(`ai_query failed for "${excerpt(texts[i])}": ${error}`);
      output.setItem(i, strict ? value : `{"result":${value ?? 'null'},"errorMessage":${JSON.stringify(error)}}`);
    });
    output.flush();
  },
});

/** A type argument of ai_query as written: a string literal (or NULL), read as a type. */
function literalType(arg: CallArgument, what: string): JsonType | null {
  const tokens = arg.value.tokens;
  if (tokens.length === 1 && /^null$/i.test(tokens[0]!.text)) return null;
  const text = stringValue(tokens);
  if (text === null) {
    throw new SqlError('22023', `${what} must be a string literal written in the query`,
      `the type of ai_query's answer depends on it, so it cannot come from a column or a parameter; write it in place, e.g. ${what} => 'STRUCT<answer: STRING>'`);
  }
  return typeOfFormat(text, what);
}

const sameType = (a: JsonType, b: JsonType): boolean => JSON.stringify(a) === JSON.stringify(b);

/**
 * `ai_query(model, request, modelParameters =>, responseFormat =>, failOnError =>, returnType =>)`,
 * as Databricks spells it. The answer's type depends on responseFormat (asked of the model as a JSON
 * schema), returnType (the type the answer is read as, nothing asked) and failOnError, so they must be
 * literals: the call rewrite reads them when the statement is prepared, hands the types to the kernel
 * and reads its JSON answer with from_json. The request is a text or a list of chat messages.
 */
export const aiQuery: SqlFunction = {
  name: 'ai_query',
  kind: 'scalar',
  description: "a model's answer to a request (a text, or a list of chat messages): text, or the type responseFormat or returnType names",
  example: "SELECT ai_query('llm', 'Name a duck', modelParameters => named_struct('max_tokens', 20, 'temperature', 0.1), responseFormat => 'STRUCT<name: STRING>');",
  kernels: [kernel],
  macro: {
    params: 'model VARCHAR, request, modelParameters := NULL, responseFormat VARCHAR := NULL, failOnError BOOLEAN := true, returnType VARCHAR := NULL',
    body: `__ai_query(CAST(model AS VARCHAR), CASE WHEN typeof(request) = 'VARCHAR' THEN CAST(request AS VARCHAR) ELSE CAST(to_json(request) AS VARCHAR) END, typeof(request),
      CAST(to_json(modelParameters) AS VARCHAR), responseFormat, returnType, failOnError)`,
  },
  callsModel: true,
  rewrite(call, _sql, _ctx, inner) {
    let format: JsonType | null = null;
    let returnType: JsonType | null = null;
    let failOnError = true;
    let typed = false;
    const args = call.args.map((arg) => {
      if (arg.name === 'responseformat' || arg.name === 'returntype') {
        const what = arg.name === 'responseformat' ? 'responseFormat' : 'returnType';
        const type = literalType(arg, what);
        typed = true;
        if (type === null) return `${what} := NULL`;
        if (arg.name === 'responseformat') {
          if (!isText(type)) jsonSchemaOf(type); // refuses what no schema can say, now rather than per row
          format = type;
        } else returnType = type;
        return `${what} := ${sqlString(JSON.stringify(type))}`;
      }
      if (arg.name === 'failonerror') {
        const v = arg.value.tokens;
        if (v.length !== 1 || !/^(true|false)$/i.test(v[0]!.text)) {
          throw new SqlError('22023', 'failOnError must be written as true or false', "the shape of ai_query's answer depends on it, so it cannot come from an expression");
        }
        failOnError = v[0]!.text.toLowerCase() === 'true';
        typed = true;
        return `failOnError := ${failOnError}`;
      }
      return inner(arg.text);
    });
    if (!typed) return [];
    if (format && returnType && !sameType(format, returnType)) {
      throw new SqlError('22023', `ai_query was given two types: responseFormat ${describe(format)} and returnType ${describe(returnType)}`,
        'give one of them (responseFormat asks the model for that structure; returnType only reads the answer as it)');
    }
    const type: JsonType = format ?? returnType ?? TEXT;
    const rebuilt = `ai_query(${args.join(', ')})`;
    if (failOnError && isText(type)) return [{ start: call.start, end: call.end, text: rebuilt }];
    const shape: JsonType = failOnError ? type : { t: 'struct', fields: [['result', type], ['errorMessage', TEXT]] };
    return [{ start: call.start, end: call.end, text: `from_json(${rebuilt}, ${sqlString(fromJsonStructure(shape))})` }];
  },
};
