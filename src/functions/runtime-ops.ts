import type { RuntimeOp } from '../runtime/messages.js';
import type { ModelSpec } from '../runtime/provider.js';
import { schemaOf, type Structure } from '../../udfs/ai_query/response-format.js';

/**
 * The runtime requests of the AI functions, built in one place: the functions and fit_classifier
 * (which embeds as ai_embed does) must ask for exactly the same thing, or the cache keys would differ.
 */
export const DEFAULT_HYPOTHESIS = 'This example is {}.';

export function embedOp(spec: ModelSpec, inputs: string[]): RuntimeOp {
  return { op: 'embed', spec, inputs };
}

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

export function classifyOp(spec: ModelSpec, inputs: string[], labels: string[], multiLabel: boolean, template: string): RuntimeOp {
  if (!template.includes('{}')) throw new Error('hypothesis_template must contain {} where the label goes');
  if (spec.task === 'zero-shot-classification' && labels.length === 0) throw new Error('ai_classify needs at least one label');
  return { op: 'classify', spec, inputs, labels, multiLabel, hypothesisTemplate: template };
}
