/**
 * The optimizer side of training, with torch's semantics: AdamW (decoupled weight decay, bias
 * correction), clip_grad_norm_, and transformers' get_linear_schedule_with_warmup. AdamW updates a
 * LoRA adapter's A and B, or any named float32 tensors (TensorAdamW, for full fine-tuning).
 */
import type { LoraAdapter } from './lora-types.js';

export interface AdamWOptions {
  /** Only a default: step() takes the learning rate of each step. */
  learningRate?: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  /** torch.optim.AdamW's default is 0.01 (transformers' Trainer passes 0 unless told). */
  weightDecay?: number;
}

export type Gradients = Map<string, { A: Float32Array; B: Float32Array }>;

interface Slot {
  param: Float32Array;
  m: Float32Array;
  v: Float32Array;
}

/** AdamW over every A and B of an adapter, updated in place. */
export class AdamW {
  private readonly slots = new Map<string, Slot>();
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  private readonly weightDecay: number;
  private readonly learningRate: number;
  /** Steps taken so far. */
  steps = 0;

  constructor(adapter: LoraAdapter, options: AdamWOptions = {}) {
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.eps = options.eps ?? 1e-8;
    this.weightDecay = options.weightDecay ?? 0.01;
    this.learningRate = options.learningRate ?? 1e-3;
    for (const [path, pair] of adapter.modules) {
      for (const [key, t] of [['A', pair.A], ['B', pair.B]] as const) {
        this.slots.set(`${path}.${key}`, { param: t.data, m: new Float32Array(t.data.length), v: new Float32Array(t.data.length) });
      }
    }
  }

  /** One update (see adamwUpdate). Parameters without a gradient are left alone. */
  step(grads: Gradients, lr: number = this.learningRate): void {
    this.steps++;
    for (const [path, g] of grads) {
      for (const [key, grad] of [['A', g.A], ['B', g.B]] as const) {
        const slot = this.slots.get(`${path}.${key}`);
        if (slot === undefined) throw new Error(`AdamW: gradient for ${path}.${key}, which the adapter lacks`);
        adamwUpdate(slot, grad, lr, this.weightDecay, this.steps, this);
      }
    }
  }
}

/**
 * θ ← θ·(1 - lr·wd); m ← β1·m + (1-β1)·g; v ← β2·v + (1-β2)·g²; θ ← θ - lr/(1-β1ᵗ) · m / (√v/√(1-β2ᵗ) + eps).
 */
function adamwUpdate(slot: Slot, grad: Float32Array, lr: number, weightDecay: number, t: number, h: { beta1: number; beta2: number; eps: number }): void {
  const { beta1, beta2, eps } = h;
  const stepSize = lr / (1 - beta1 ** t);
  const correction2Sqrt = Math.sqrt(1 - beta2 ** t);
  const decay = 1 - lr * weightDecay;
  const { param, m, v } = slot;
  for (let i = 0; i < param.length; i++) {
    const gi = grad[i]!;
    const mi = beta1 * m[i]! + (1 - beta1) * gi;
    const vi = beta2 * v[i]! + (1 - beta2) * gi * gi;
    m[i] = mi;
    v[i] = vi;
    param[i] = param[i]! * decay - (stepSize * mi) / (Math.sqrt(vi) / correction2Sqrt + eps);
  }
}

/** AdamW over named float32 tensors, updated in place; `decays(name)` picks the ones weight decay applies to. */
export class TensorAdamW {
  private readonly slots = new Map<string, Slot>();
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  private readonly weightDecay: number;
  steps = 0;

  constructor(params: ReadonlyMap<string, Float32Array>, options: AdamWOptions & { decays?: (name: string) => boolean } = {}) {
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.eps = options.eps ?? 1e-8;
    this.weightDecay = options.weightDecay ?? 0.01;
    this.decays = options.decays ?? (() => true);
    for (const [name, param] of params) this.slots.set(name, { param, m: new Float32Array(param.length), v: new Float32Array(param.length) });
  }

  private readonly decays: (name: string) => boolean;

  step(grads: ReadonlyMap<string, Float32Array>, lr: number): void {
    this.steps++;
    for (const [name, grad] of grads) {
      const slot = this.slots.get(name);
      if (slot === undefined) throw new Error(`AdamW: gradient for ${name}, which is not a parameter`);
      adamwUpdate(slot, grad, lr, this.decays(name) ? this.weightDecay : 0, this.steps, this);
    }
  }
}

/** clip_grad_norm_ over named tensors: scales them so their global L2 norm is at most maxNorm; returns the norm before. */
export function clipTensorGradNorm(grads: ReadonlyMap<string, Float32Array>, maxNorm: number): number {
  let sq = 0;
  for (const g of grads.values()) for (let i = 0; i < g.length; i++) sq += g[i]! * g[i]!;
  const norm = Math.sqrt(sq);
  const coef = maxNorm / (norm + 1e-6);
  if (coef < 1) for (const g of grads.values()) for (let i = 0; i < g.length; i++) g[i] = g[i]! * coef;
  return norm;
}

/** Scales all gradients so their global L2 norm is at most maxNorm (as torch's clip_grad_norm_); returns the norm before clipping. */
export function clipGradNorm(grads: Gradients, maxNorm: number): number {
  let sq = 0;
  for (const g of grads.values()) {
    for (const arr of [g.A, g.B]) for (let i = 0; i < arr.length; i++) sq += arr[i]! * arr[i]!;
  }
  const norm = Math.sqrt(sq);
  const coef = maxNorm / (norm + 1e-6);
  if (coef < 1) {
    for (const g of grads.values()) {
      for (const arr of [g.A, g.B]) for (let i = 0; i < arr.length; i++) arr[i] = arr[i]! * coef;
    }
  }
  return norm;
}

/**
 * The learning-rate multiplier for the optimizer step that follows `step` completed steps:
 * step/warmup during warmup, then linear decay to 0 at totalSteps (get_linear_schedule_with_warmup).
 */
export function linearSchedule(step: number, warmupSteps: number, totalSteps: number): number {
  if (step < warmupSteps) return step / Math.max(1, warmupSteps);
  return Math.max(0, (totalSteps - step) / Math.max(1, totalSteps - warmupSteps));
}
