/**
 * Parameter counts for `train_lora(..., dry_run => true)`, from config.json alone: the same numbers PEFT's
 * print_trainable_parameters() reports for the model and LoRA settings.
 */
import { SqlError } from '../errors/sql-error.js';
import { LINEAR_MODULES, hasBias, linearShape, type LinearModule, type LlamaConfig } from './llama-config.js';
import type { LoraSpec } from './lora-types.js';

export interface ParameterCounts {
  /** PEFT's "all params": the base model plus the LoRA matrices. */
  totalParams: number;
  /** PEFT's "trainable params": the LoRA matrices only. */
  trainableParams: number;
  baseParams: number;
}

const NOT_LINEAR_TARGETS = ['lm_head', 'embed_tokens'];

/**
 * Expands and checks train_lora's target_modules. 'all-linear' is every linear layer of the decoder blocks,
 * leaving out the output layer (lm_head), which is what PEFT's 'all-linear' does.
 */
export function resolveTargetModules(_config: LlamaConfig, target: readonly string[] | 'all-linear'): LinearModule[] {
  if (target === 'all-linear') return [...LINEAR_MODULES];
  if (target.length === 0) {
    throw new SqlError('22023', `target_modules is empty; name at least one of ${LINEAR_MODULES.join(', ')}, or use 'all-linear'`);
  }
  const wanted = new Set<string>();
  for (const raw of target) {
    const name = raw.trim();
    if (name === 'all-linear') return [...LINEAR_MODULES];
    if (NOT_LINEAR_TARGETS.includes(name)) {
      throw new SqlError('22023', `target_modules: LoRA on ${name} is not supported; choose among ${LINEAR_MODULES.join(', ')}, or 'all-linear'`);
    }
    if (!(LINEAR_MODULES as readonly string[]).includes(name)) {
      throw new SqlError('22023', `target_modules: unknown module "${raw}"; valid names are ${LINEAR_MODULES.join(', ')}, or 'all-linear'`);
    }
    wanted.add(name);
  }
  return LINEAR_MODULES.filter((m) => wanted.has(m));
}

/** The weights of the base model, counted from its architecture. */
export function countBaseParameters(c: LlamaConfig): number {
  let perLayer = 2 * c.hiddenSize; // input_layernorm and post_attention_layernorm
  for (const module of LINEAR_MODULES) {
    const [out, inp] = linearShape(c, module);
    perLayer += out * inp + (hasBias(c, module) ? out : 0);
  }
  const embeddings = c.vocabSize * c.hiddenSize;
  const lmHead = c.tieWordEmbeddings ? 0 : c.vocabSize * c.hiddenSize;
  return embeddings + c.numLayers * perLayer + c.hiddenSize + lmHead;
}

/** r·(in + out) for each adapted linear of each layer: A is [r, in] and B is [out, r]. */
export function countLoraParameters(c: LlamaConfig, spec: Pick<LoraSpec, 'r' | 'targetModules'>): number {
  let perLayer = 0;
  for (const module of new Set(spec.targetModules)) {
    const [out, inp] = linearShape(c, module);
    perLayer += spec.r * (inp + out);
  }
  return c.numLayers * perLayer;
}

export function countParameters(config: LlamaConfig, spec: Pick<LoraSpec, 'r' | 'targetModules'>): ParameterCounts {
  const baseParams = countBaseParameters(config);
  const trainableParams = countLoraParameters(config, spec);
  return { totalParams: baseParams + trainableParams, trainableParams, baseParams };
}
