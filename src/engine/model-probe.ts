import { SqlError } from '../protocol/errors.js';
import type { ModelSpec } from '../runtime/provider.js';
import type { AiContext } from './ai-context.js';

/**
 * Embeds one short text to learn a model's vector length. A local model that cannot load fails
 * the registration; an endpoint that is down leaves the length unknown (null).
 */
export async function probeDimension(ai: AiContext, spec: ModelSpec): Promise<number | null> {
  let error: string;
  try {
    const reply = await ai.runtime.call(0, { op: 'embed', spec, inputs: ['aiduck dimension probe'] });
    const r = reply.results[0];
    if (r?.ok && r.value instanceof Float32Array) return r.value.length;
    error = r && !r.ok ? r.error : 'no vector came back';
  } catch (err) {
    error = err instanceof Error ? err.message : String(err);
  }
  if (spec.provider === 'openai') return null;
  throw new SqlError('22023', `the model in ${spec.location} does not run: ${error}`, 'check that the folder holds config.json, tokenizer.json and onnx/model.onnx');
}
