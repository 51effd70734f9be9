/**
 * Causal grouped-query attention over packed sequences: the tokens of several sequences lie one after
 * another in [T, heads·headDim] buffers, each sequence attends only to itself and its positions start
 * at 0. Per sequence, heads are regrouped as [kvHeads, group·n, headDim] (query head h = kv·group + j
 * uses kv head kv), so each product is one batched matrix product over the kv heads.
 */
import { batchedGemm } from './matmul.js';
import { causalSoftmax, causalSoftmaxBackward } from './ort-ops.js';
import { rotate, type RopeTable } from './rope.js';

export interface AttentionDims {
  numHeads: number;
  numKvHeads: number;
  headDim: number;
}

/** A sequence's tokens within the packed batch. */
export interface Span {
  offset: number;
  length: number;
}

/** The attention of one layer: token-major q [T, heads·d], k and v [T, kvHeads·d] (before rotary) → [T, heads·d]. */
export interface AttentionRunner {
  forward(layer: number, q: Float32Array, k: Float32Array, v: Float32Array, T: number): Promise<Float32Array>;
}

/** Rows [offset, offset + n) of a token-major [T, heads·d] buffer to [heads, n, d], rotated at positions 0..n-1 when a table is given. */
export function toHeads(src: Float32Array, offset: number, n: number, heads: number, d: number, rope: RopeTable | null, dst: Float32Array): void {
  const width = heads * d;
  for (let t = 0; t < n; t++) {
    for (let h = 0; h < heads; h++) {
      const s = (offset + t) * width + h * d;
      const o = (h * n + t) * d;
      if (rope === null) dst.set(src.subarray(s, s + d), o);
      else rotate(src, s, dst, o, rope, t, 1);
    }
  }
}

/** The inverse of toHeads, undoing the rotation when a table is given (the gradient of a rotated input). */
export function fromHeads(src: Float32Array, n: number, heads: number, d: number, rope: RopeTable | null, dst: Float32Array, offset: number): void {
  const width = heads * d;
  for (let t = 0; t < n; t++) {
    for (let h = 0; h < heads; h++) {
      const o = (offset + t) * width + h * d;
      const s = (h * n + t) * d;
      if (rope === null) dst.set(src.subarray(s, s + d), o);
      else rotate(src, s, dst, o, rope, t, -1);
    }
  }
}

/** [batch, rows, cols] → [batch, cols, rows] */
export function transposeBatch(src: Float32Array, batch: number, rows: number, cols: number, dst: Float32Array): void {
  for (let b = 0; b < batch; b++) {
    const base = b * rows * cols;
    for (let r = 0; r < rows; r++) {
      const s = base + r * cols;
      for (let c = 0; c < cols; c++) dst[base + c * rows + r] = src[s + c]!;
    }
  }
}

interface LayerTape {
  /** Per span, at offset·heads·d: rotated queries [heads, n, d]. */
  qh: Float32Array;
  /** Per span, at offset·kvHeads·d: rotated keys [kv, n, d], and values [kv, d, n] (transposed). */
  kh: Float32Array;
  vt: Float32Array;
  /** Per span, the attention probabilities [heads, n, n], or null to recompute them. */
  probs: (Float32Array | null)[];
}

export interface PackedAttentionOptions {
  /** Keep what backward() needs for layers from this one up (Infinity: inference only). */
  keepTapeFrom: number;
  /** Keep the probabilities for backward instead of recomputing them (memory: heads·n² per sequence and layer). */
  keepProbs: boolean;
  /** Receives each sequence's rotated keys and values [kv, n, d] (e.g. to fill a KV cache). */
  onKv?: (layer: number, span: number, kh: Float32Array, vh: Float32Array) => void;
}

export class PackedCausalAttention implements AttentionRunner {
  private readonly tapes = new Map<number, LayerTape>();
  private readonly group: number;
  private readonly scale: number;

  constructor(
    private readonly dims: AttentionDims,
    private readonly rope: RopeTable,
    private readonly spans: readonly Span[],
    private readonly options: PackedAttentionOptions,
  ) {
    this.group = dims.numHeads / dims.numKvHeads;
    this.scale = 1 / Math.sqrt(dims.headDim);
    let end = 0;
    for (const s of spans) end = Math.max(end, s.length);
    rope.ensure(end);
  }

  /** One span's attention probabilities [heads, n, n]: the causal softmax of Q Kᵀ / √d. */
  private async probabilities(qh: Float32Array, kh: Float32Array, n: number): Promise<Float32Array> {
    const { numKvHeads: kv, headDim: d } = this.dims;
    const g = this.group;
    const s = await batchedGemm(qh, kh, kv, g * n, d, n, { transB: true });
    return causalSoftmax(s, kv * g, n, this.scale);
  }

  async forward(layer: number, q: Float32Array, k: Float32Array, v: Float32Array, T: number): Promise<Float32Array> {
    const { numHeads: H, numKvHeads: kv, headDim: d } = this.dims;
    const g = this.group;
    const qhAll = new Float32Array(T * H * d);
    const khAll = new Float32Array(T * kv * d);
    const train = layer >= this.options.keepTapeFrom;
    const vtAll = new Float32Array(train ? T * kv * d : 0);
    const out = new Float32Array(T * H * d);
    const probs: (Float32Array | null)[] = [];
    let vh = new Float32Array(0);
    for (let i = 0; i < this.spans.length; i++) {
      const { offset, length: n } = this.spans[i]!;
      const qh = qhAll.subarray(offset * H * d, (offset + n) * H * d);
      const kh = khAll.subarray(offset * kv * d, (offset + n) * kv * d);
      if (vh.length < n * kv * d) vh = new Float32Array(n * kv * d);
      const vhs = vh.subarray(0, n * kv * d);
      toHeads(q, offset, n, H, d, this.rope, qh);
      toHeads(k, offset, n, kv, d, this.rope, kh);
      toHeads(v, offset, n, kv, d, null, vhs);
      if (train) transposeBatch(vhs, kv, n, d, vtAll.subarray(offset * kv * d, (offset + n) * kv * d));
      this.options.onKv?.(layer, i, kh, vhs);
      const p = await this.probabilities(qh, kh, n);
      const oh = await batchedGemm(p, vhs, kv, g * n, n, d);
      fromHeads(oh, n, H, d, null, out, offset);
      probs.push(train && this.options.keepProbs ? p : null);
    }
    if (train) this.tapes.set(layer, { qh: qhAll, kh: khAll, vt: vtAll, probs });
    return out;
  }

  /** Gradients of the layer's q, k, v (token-major, before rotary) from the gradient of its output; frees the layer's tape. */
  async backward(layer: number, dOut: Float32Array, T: number): Promise<{ dq: Float32Array; dk: Float32Array; dv: Float32Array }> {
    const tape = this.tapes.get(layer);
    if (tape === undefined) throw new Error(`attention backward: no forward tape for layer ${layer}`);
    this.tapes.delete(layer);
    const { numHeads: H, numKvHeads: kv, headDim: d } = this.dims;
    const g = this.group;
    const dq = new Float32Array(T * H * d);
    const dk = new Float32Array(T * kv * d);
    const dv = new Float32Array(T * kv * d);
    for (let i = 0; i < this.spans.length; i++) {
      const { offset, length: n } = this.spans[i]!;
      const qh = tape.qh.subarray(offset * H * d, (offset + n) * H * d);
      const kh = tape.kh.subarray(offset * kv * d, (offset + n) * kv * d);
      const vt = tape.vt.subarray(offset * kv * d, (offset + n) * kv * d);
      const p = tape.probs[i] ?? (await this.probabilities(qh, kh, n));
      const dOh = new Float32Array(n * H * d);
      toHeads(dOut, offset, n, H, d, null, dOh);
      const dP = await batchedGemm(dOh, vt, kv, g * n, d, n);
      const dVh = await batchedGemm(p, dOh, kv, n, g * n, d, { transA: true });
      const dS = await causalSoftmaxBackward(p, dP, kv * g, n, this.scale);
      const dQh = await batchedGemm(dS, kh, kv, g * n, n, d);
      const dKh = await batchedGemm(dS, qh, kv, n, g * n, d, { transA: true });
      fromHeads(dQh, n, H, d, this.rope, dq, offset);
      fromHeads(dKh, n, kv, d, this.rope, dk, offset);
      fromHeads(dVh, n, kv, d, null, dv, offset);
    }
    return { dq, dk, dv };
  }
}
