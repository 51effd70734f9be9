import type { RuntimeOp } from '../runtime/messages.js';
import type { ModelSpec } from '../runtime/provider.js';

/**
 * Runtime requests that several SQL functions make, built in one place: the functions and
 * fit_classifier (which embeds as ai_embed does) must ask for exactly the same thing, or the cache
 * keys would differ.
 */
export const DEFAULT_HYPOTHESIS = 'This example is {}.';

export function embedOp(spec: ModelSpec, inputs: string[]): RuntimeOp {
  return { op: 'embed', spec, inputs };
}

export function classifyOp(spec: ModelSpec, inputs: string[], labels: string[], multiLabel: boolean, template: string): RuntimeOp {
  if (!template.includes('{}')) throw new Error('hypothesis_template must contain {} where the label goes');
  if (spec.task === 'zero-shot-classification' && labels.length === 0) throw new Error('ai_classify needs at least one label');
  return { op: 'classify', spec, inputs, labels, multiLabel, hypothesisTemplate: template };
}
