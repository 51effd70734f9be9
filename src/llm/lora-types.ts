/**
 * A LoRA adapter: for each adapted module, two matrices A ([r, in]) and B ([out, r]); a linear module W
 * ([out, in]) computes y = x Wᵀ + (alpha / r) · dropout(x) Aᵀ Bᵀ (see lora-targets.ts for the output
 * layer and the token embedding).
 */
import type { Tensor } from './llama-config.js';
import type { LoraTarget } from './lora-targets.js';

export interface LoraSpec {
  r: number;
  alpha: number;
  dropout: number;
  /** Resolved module names ('all-linear' expanded), in LORA_TARGETS order. */
  targetModules: LoraTarget[];
}

export interface LoraPair {
  /** [r, in] */
  A: Tensor;
  /** [out, r] */
  B: Tensor;
}

export interface LoraAdapter {
  spec: LoraSpec;
  /** Keyed by module path, e.g. `model.layers.0.self_attn.q_proj`, `lm_head`, `model.embed_tokens` (see lora-targets.ts). */
  modules: Map<string, LoraPair>;
}

export const loraScale = (spec: LoraSpec): number => spec.alpha / spec.r;
