/**
 * Rotary position embeddings as Hugging Face computes them: inverse frequencies theta^(-2i/headDim)
 * (rescaled for rope_scaling 'linear' or 'llama3'), angles position · inv_freq in float32, and the
 * "rotate_half" pairing: element i of a head rotates with element i + headDim/2.
 */
import type { LlamaConfig } from './llama-config.js';

/** inv_freq [headDim / 2] after rope scaling, rounded to float32 as transformers computes it. */
export function ropeInverseFrequencies(c: LlamaConfig): Float32Array {
  const d = c.headDim;
  const half = d / 2;
  const inv = new Float32Array(half);
  for (let i = 0; i < half; i++) inv[i] = 1 / Math.fround(c.ropeTheta ** Math.fround((2 * i) / d));
  const s = c.ropeScaling;
  if (s === null || s.type === 'default') return inv;
  if (s.type === 'linear') {
    for (let i = 0; i < half; i++) inv[i] = inv[i]! / s.factor;
    return inv;
  }
  // transformers' _compute_llama3_parameters: long wavelengths are slowed by `factor`, short ones kept,
  // and the band in between interpolated.
  const lowFreqWavelen = s.originalMaxPositionEmbeddings / s.lowFreqFactor;
  const highFreqWavelen = s.originalMaxPositionEmbeddings / s.highFreqFactor;
  for (let i = 0; i < half; i++) {
    const f = inv[i]!;
    const wavelen = (2 * Math.PI) / f;
    if (wavelen > lowFreqWavelen) inv[i] = f / s.factor;
    else if (wavelen >= highFreqWavelen) {
      const smooth = (s.originalMaxPositionEmbeddings / wavelen - s.lowFreqFactor) / (s.highFreqFactor - s.lowFreqFactor);
      inv[i] = ((1 - smooth) * f) / s.factor + smooth * f;
    }
  }
  return inv;
}

/** cos and sin of every (position, frequency), [position][headDim / 2], grown on demand. */
export class RopeTable {
  readonly half: number;
  private readonly inv: Float32Array;
  cos = new Float32Array(0);
  sin = new Float32Array(0);
  private positions = 0;

  constructor(c: LlamaConfig) {
    this.inv = ropeInverseFrequencies(c);
    this.half = this.inv.length;
  }

  /** Makes positions [0, count) available. */
  ensure(count: number): void {
    if (count <= this.positions) return;
    const n = Math.max(count, this.positions * 2, 64);
    const half = this.half;
    const cos = new Float32Array(n * half);
    const sin = new Float32Array(n * half);
    for (let p = 0; p < n; p++) {
      for (let i = 0; i < half; i++) {
        const angle = Math.fround(p * this.inv[i]!);
        cos[p * half + i] = Math.cos(angle);
        sin[p * half + i] = Math.sin(angle);
      }
    }
    this.cos = cos;
    this.sin = sin;
    this.positions = n;
  }
}

/**
 * Rotates one head vector of `2·half` values from src[s..] into dst[t..] at `pos`; `sign` -1 applies
 * the inverse rotation (the backward pass, since the rotation is orthogonal).
 */
export function rotate(src: Float32Array, s: number, dst: Float32Array, t: number, table: RopeTable, pos: number, sign: 1 | -1): void {
  const half = table.half;
  const cos = table.cos;
  const sin = table.sin;
  const base = pos * half;
  for (let i = 0; i < half; i++) {
    const c = cos[base + i]!;
    const sn = sign * sin[base + i]!;
    const x1 = src[s + i]!;
    const x2 = src[s + half + i]!;
    dst[t + i] = x1 * c - x2 * sn;
    dst[t + half + i] = x2 * c + x1 * sn;
  }
}
