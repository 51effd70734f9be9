/**
 * A LoRA adapter: for each adapted linear module W ([out, in]), two matrices A ([r, in]) and B ([out, r]);
 * the module computes y = x Wᵀ + (alpha / r) · dropout(x) Aᵀ Bᵀ.
 */
import type { LinearModule, Tensor } from './llama-config.js';

export interface LoraSpec {
  r: number;
  alpha: number;
  dropout: number;
  /** Resolved module names ('all-linear' expanded). */
  targetModules: LinearModule[];
}

export interface LoraPair {
  /** [r, in] */
  A: Tensor;
  /** [out, r] */
  B: Tensor;
}

export interface LoraAdapter {
  spec: LoraSpec;
  /** Keyed by module path, e.g. `model.layers.0.self_attn.q_proj` (see modulePath). */
  modules: Map<string, LoraPair>;
}

export const loraScale = (spec: LoraSpec): number => spec.alpha / spec.r;
