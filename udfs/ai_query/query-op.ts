import type { RuntimeOp } from '../../src/runtime/messages.js';
import type { ModelSpec } from '../../src/runtime/provider.js';
import { schemaOf, type Structure } from './response-format.js';

/** ai_query's request to the runtime: generation, with a JSON schema when the answer is structured. */
export function modelParameters(json: unknown): Record<string, unknown> {
  if (json === null || json === undefined) return {};
  const p = JSON.parse(String(json)) as unknown;
  if (p === null) return {};
  if (typeof p !== 'object' || Array.isArray(p)) throw new Error("modelParameters must be a struct, e.g. named_struct('temperature', 0.2, 'max_tokens', 256)");
  return p as Record<string, unknown>;
}

export const isText = (structure: Structure): boolean => structure === 'VARCHAR';

export function queryOp(spec: ModelSpec, inputs: string[], parametersJson: unknown, structure: Structure): RuntimeOp {
  return { op: 'generate', spec, inputs, parameters: modelParameters(parametersJson), ...(isText(structure) ? {} : { responseSchema: schemaOf(structure) }) };
}

