import { SqlError } from '../errors/sql-error.js';
import type { ModelSpec } from '../runtime/provider.js';
import type { AiContext } from './context.js';

const HINTS: Record<string, string> = {
  onnx: 'a model folder needs config.json, tokenizer.json (with tokenizer_config.json) and onnx/model.onnx (seq2seq: onnx/encoder_model.onnx and onnx/decoder_model_merged.onnx)',
  llama: 'a Llama-family folder needs config.json, tokenizer.json (with tokenizer_config.json) and model.safetensors (or model.safetensors.index.json and its shards)',
  lora: 'a PEFT adapter folder needs adapter_config.json and adapter_model.safetensors trained on the base model given as base_model',
};

/**
 * Loads a model being registered once, to check it runs, and returns an embedding model's vector
 * length (null for other models). A local model that does not run fails the registration; an
 * endpoint that is down leaves the length unknown.
 */
export async function probeModel(ai: AiContext, spec: ModelSpec): Promise<number | null> {
  try {
    const dimension = await ai.runtime.probe({ op: 'probe', spec });
    return dimension > 0 ? dimension : null;
  } catch (err) {
    if (spec.provider === 'openai') return null;
    const why = err instanceof Error ? err.message : String(err);
    // A refusal decided by the runtime (an unsupported variant, a missing file) keeps its SQLSTATE; an
    // internal failure of the model's code means the folder is not one this provider can run.
    if (err instanceof SqlError && err.code !== 'XX000') throw new SqlError(err.code, `the model in ${spec.location} does not load: ${why}`, err.hint);
    throw new SqlError('22023', `the model in ${spec.location} does not run: ${why}`, HINTS[spec.provider] ?? HINTS.onnx);
  }
}
