/**
 * Parameter counts for `train_lora(..., dry_run => true)`, from config.json alone: the same numbers PEFT's
 * print_trainable_parameters() reports for the model and LoRA settings.
 */
import { SqlError } from '../errors/sql-error.js';
import { LINEAR_MODULES, hasBias, linearShape, type LlamaConfig } from './llama-config.js';
import { LORA_TARGETS, isLinearModule, loraShape, type LoraTarget } from './lora-targets.js';
import type { LoraSpec } from './lora-types.js';

export interface ParameterCounts {
  /** PEFT's "all params": the base model plus the LoRA matrices. */
  totalParams: number;
  /** PEFT's "trainable params": the LoRA matrices only. */
  trainableParams: number;
  baseParams: number;
}

const VALID = `${LORA_TARGETS.join(', ')}, or 'all-linear'`;

/**
 * Expands and checks train_lora's target_modules. 'all-linear' is every linear layer of the decoder blocks,
 * leaving out the output layer (lm_head), which is what PEFT's 'all-linear' does; listed with lm_head or
 * embed_tokens it adds those.
 */
export function resolveTargetModules(_config: LlamaConfig, target: readonly string[] | 'all-linear'): LoraTarget[] {
  if (target === 'all-linear') return [...LINEAR_MODULES];
  if (target.length === 0) throw new SqlError('22023', `target_modules is empty; name at least one of ${VALID}`);
  const wanted = new Set<string>();
  for (const raw of target) {
    const name = raw.trim();
    if (name === 'all-linear') {
      for (const m of LINEAR_MODULES) wanted.add(m);
      continue;
    }
    if (!(LORA_TARGETS as readonly string[]).includes(name)) throw new SqlError('22023', `target_modules: unknown module "${raw}"; valid names are ${VALID}`);
    wanted.add(name);
  }
  return LORA_TARGETS.filter((m) => wanted.has(m));
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

/** r·(in + out) for each adapted module (A is [r, in], B [out, r]): every layer's linears, once the head and the embedding. */
export function countLoraParameters(c: LlamaConfig, spec: Pick<LoraSpec, 'r' | 'targetModules'>): number {
  let total = 0;
  for (const target of new Set(spec.targetModules)) {
    const [out, inp] = loraShape(c, target);
    total += spec.r * (inp + out) * (isLinearModule(target) ? c.numLayers : 1);
  }
  return total;
}

export function countParameters(config: LlamaConfig, spec: Pick<LoraSpec, 'r' | 'targetModules'>): ParameterCounts {
  const baseParams = countBaseParameters(config);
  const trainableParams = countLoraParameters(config, spec);
  return { totalParams: baseParams + trainableParams, trainableParams, baseParams };
}
