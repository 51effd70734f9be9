import type { RuntimeOp } from '../../src/runtime/messages.js';
import type { ModelSpec } from '../../src/runtime/provider.js';
import { jsonSchemaOf, type JsonType } from '../../src/functions/spark-types.js';
import { SqlError } from '../../src/errors/sql-error.js';

/** modelParameters as the macro passes them (the JSON of a STRUCT, or NULL). */
export function modelParameters(json: unknown): Record<string, unknown> {
  if (json === null || json === undefined) return {};
  const p = JSON.parse(String(json)) as unknown;
  if (p === null) return {};
  if (typeof p !== 'object' || Array.isArray(p)) {
    throw new SqlError('22023', 'modelParameters must be a STRUCT', "e.g. modelParameters => named_struct('temperature', 0.2, 'max_tokens', 256)");
  }
  return p as Record<string, unknown>;
}

/**
 * ai_query's request to the runtime: generation, with the JSON schema of responseFormat when it asks
 * for structured output, over texts or (chat) conversations.
 */
export function queryOp(spec: ModelSpec, inputs: string[], parametersJson: unknown, format: JsonType | null, chat: boolean): RuntimeOp {
  return {
    op: 'generate', spec, inputs, parameters: modelParameters(parametersJson),
    ...(format ? { responseSchema: jsonSchemaOf(format) } : {}), ...(chat ? { chat: true } : {}),
  };
}
