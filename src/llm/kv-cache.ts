/**
 * The key/value cache of batched generation, and the attention of a decode step against it. Each slot
 * (one generating row) holds, per layer, its rotated keys transposed [kv, d, capacity] and its values
 * [kv, capacity, d], so that one decode step's attention for all slots is two batched products:
 * scores [slots·kv, group, capacity] = Q · Kᵀ and output = P · V, positions past a slot's length masked.
 */
import type { AttentionDims, AttentionRunner } from './attention.js';
import { batchedGemm } from './matmul.js';
import { maskedSoftmax } from './ort-ops.js';
import { rotate, type RopeTable } from './rope.js';

export class KvCache implements AttentionRunner {
  /** Tokens cached per slot; the next token of slot s goes to position lengths[s]. */
  lengths: Int32Array;
  private keys: Float32Array[];
  private values: Float32Array[];
  private readonly group: number;
  private readonly scale: number;
  private readonly rotated: Float32Array;
  private mask: Float32Array | null = null;

  constructor(
    private readonly dims: AttentionDims,
    private readonly rope: RopeTable,
    layers: number,
    private slots: number,
    /** Positions each slot can hold. */
    readonly capacity: number,
  ) {
    const { numKvHeads: kv, headDim: d } = dims;
    this.group = dims.numHeads / kv;
    this.scale = 1 / Math.sqrt(d);
    this.lengths = new Int32Array(slots);
    this.keys = Array.from({ length: layers }, () => new Float32Array(slots * kv * d * capacity));
    this.values = Array.from({ length: layers }, () => new Float32Array(slots * kv * d * capacity));
    this.rotated = new Float32Array(d);
    rope.ensure(capacity);
  }

  /** Stores a prefilled sequence's rotated keys and values [kv, n, d] in slot `slot` (see PackedAttentionOptions.onKv). */
  write(layer: number, slot: number, kh: Float32Array, vh: Float32Array): void {
    const { numKvHeads: kv, headDim: d } = this.dims;
    const cap = this.capacity;
    const n = kh.length / (kv * d);
    const keys = this.keys[layer]!;
    const values = this.values[layer]!;
    for (let h = 0; h < kv; h++) {
      const block = (slot * kv + h) * d * cap;
      for (let t = 0; t < n; t++) {
        const src = (h * n + t) * d;
        for (let j = 0; j < d; j++) keys[block + j * cap + t] = kh[src + j]!;
      }
      values.set(vh.subarray(h * n * d, (h + 1) * n * d), block);
    }
    this.lengths[slot] = n;
  }

  /** Keeps only the listed slots (in that order), renumbered 0.. */
  keep(slots: readonly number[]): void {
    const { numKvHeads: kv, headDim: d } = this.dims;
    const size = kv * d * this.capacity;
    const compact = (buffers: Float32Array[]): Float32Array[] =>
      buffers.map((b) => {
        const out = new Float32Array(slots.length * size);
        slots.forEach((s, i) => out.set(b.subarray(s * size, (s + 1) * size), i * size));
        return out;
      });
    this.keys = compact(this.keys);
    this.values = compact(this.values);
    this.lengths = Int32Array.from(slots, (s) => this.lengths[s]!);
    this.slots = slots.length;
    this.mask = null;
  }

  /** Attention of one new token per slot (T = slots) at position lengths[slot], appending its key and value. */
  async forward(layer: number, q: Float32Array, k: Float32Array, v: Float32Array, T: number): Promise<Float32Array> {
    const { numHeads: H, numKvHeads: kv, headDim: d } = this.dims;
    if (T !== this.slots) throw new Error(`decode step has ${T} tokens for ${this.slots} cache slots`);
    const cap = this.capacity;
    const keys = this.keys[layer]!;
    const values = this.values[layer]!;
    const qh = new Float32Array(T * H * d);
    const r = this.rotated;
    for (let s = 0; s < T; s++) {
      const pos = this.lengths[s]!;
      if (pos >= cap) throw new Error(`KV cache slot ${s} is full (${cap} positions)`);
      for (let h = 0; h < H; h++) rotate(q, (s * H + h) * d, qh, (s * H + h) * d, this.rope, pos, 1);
      for (let h = 0; h < kv; h++) {
        const block = (s * kv + h) * d * cap;
        rotate(k, (s * kv + h) * d, r, 0, this.rope, pos, 1);
        for (let j = 0; j < d; j++) keys[block + j * cap + pos] = r[j]!;
        values.set(v.subarray((s * kv + h) * d, (s * kv + h + 1) * d), block + pos * d);
      }
    }
    const g = this.group;
    const scores = await batchedGemm(qh, keys, T * kv, g, d, cap);
    const p = await maskedSoftmax(scores, [T, kv * g, cap], this.stepMask(), [T, 1, cap], this.scale);
    return batchedGemm(p, values, T * kv, g, cap, d);
  }

  /** [slots, capacity]: 0 up to and including each slot's new position, -∞ after; the same for every layer of a step. */
  private stepMask(): Float32Array {
    const cap = this.capacity;
    if (this.mask === null) {
      this.mask = new Float32Array(this.slots * cap);
      for (let s = 0; s < this.slots; s++) this.mask.fill(-Infinity, s * cap + this.lengths[s]! + 1, (s + 1) * cap);
    }
    return this.mask;
  }

  /** Marks the token just run through every layer as cached. */
  advance(): void {
    for (let s = 0; s < this.slots; s++) this.lengths[s]!++;
    this.mask = null;
  }
}
