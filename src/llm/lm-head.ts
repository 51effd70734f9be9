/**
 * The output layer of a decoder, logits = h Wᵀ (+ s · dropout(h) Aᵀ Bᵀ with a LoRA on lm_head): logits
 * of hidden rows, and the summed cross-entropy of scored rows with its gradients (of the hidden rows, and
 * of the LoRA pair). Rows are scored in chunks, so the logits buffer stays bounded whatever the vocabulary.
 */
import { dropout as dropoutOf } from './kernels.js';
import type { Dropout, LoraWeights } from './linear.js';
import { gemm } from './matmul.js';
import { rowSoftmax } from './ort-ops.js';

/** Rows of logits computed at once (bounds the logits buffer to ~64 MB). */
const HEAD_CHUNK_FLOATS = 16 * 1024 * 1024;

export interface HeadTargets {
  /** Rows of the hidden states whose next token is scored, and the token each must predict. */
  rows: Int32Array;
  labels: Int32Array;
}

export interface HeadGradients {
  /** Receives d loss / d hidden (added to it), or null when nothing below the head needs it. */
  dHidden: Float32Array | null;
  /** Receives d loss / d A and d B of the head's LoRA (added to them), when it has one. */
  lora: { A: Float32Array; B: Float32Array } | null;
}

export class LmHead {
  constructor(
    /** [vocab, hidden] */
    private readonly W: Float32Array,
    private readonly hidden: number,
    private readonly vocab: number,
  ) {}

  /** Logits [rows, vocab] of hidden states [rows, hidden]. */
  async logits(h: Float32Array, rows: number, lora: LoraWeights | null): Promise<Float32Array> {
    const out = await gemm(h, this.W, rows, this.hidden, this.vocab, { transB: true });
    if (lora === null) return out;
    const us = await gemm(h, lora.A, rows, this.hidden, lora.r, { transB: true });
    for (let i = 0; i < us.length; i++) us[i] = us[i]! * lora.scale;
    return gemm(us, lora.B, rows, lora.r, this.vocab, { transB: true, c: out });
  }

  /**
   * Summed cross-entropy of the targets; with `grads`, adds the loss's gradients into them. Dropout, when
   * given, applies to the LoRA branch's input as in PEFT's lora.Linear.
   */
  async loss(h: Float32Array, targets: HeadTargets, lora: LoraWeights | null, drop: Dropout | null, grads: HeadGradients | null): Promise<number> {
    const { hidden: H, vocab: V } = this;
    const n = targets.rows.length;
    const chunk = Math.max(1, Math.min(n, Math.floor(HEAD_CHUNK_FLOATS / V)));
    const gathered = new Float32Array(chunk * H);
    const logitsBuffer = new Float32Array(chunk * V);
    const probsBuffer = new Float32Array(chunk * V);
    let total = 0;
    for (let from = 0; from < n; from += chunk) {
      const count = Math.min(chunk, n - from);
      for (let i = 0; i < count; i++) {
        const row = targets.rows[from + i]!;
        gathered.set(h.subarray(row * H, (row + 1) * H), i * H);
      }
      const x = gathered.subarray(0, count * H);
      const logits = logitsBuffer.subarray(0, count * V);
      await gemm(x, this.W, count, H, V, { transB: true, out: logits });
      let branch: { xd: Float32Array<ArrayBufferLike>; us: Float32Array; mask: Uint8Array | null; keep: number } | null = null;
      if (lora !== null) {
        let xd: Float32Array<ArrayBufferLike> = x;
        let mask: Uint8Array | null = null;
        if (drop !== null && drop.p > 0) ({ out: xd, mask } = dropoutOf(x, drop.p, drop.rng));
        const us = await gemm(xd, lora.A, count, H, lora.r, { transB: true });
        for (let i = 0; i < us.length; i++) us[i] = us[i]! * lora.scale;
        const base = Float32Array.from(logits);
        await gemm(us, lora.B, count, lora.r, V, { transB: true, c: base, out: logits });
        // xd may be `gathered` itself: it is read (for dA) before gathered receives d loss / d hidden.
        branch = { xd, us, mask, keep: drop === null ? 1 : 1 / (1 - drop.p) };
      }
      const probs = probsBuffer.subarray(0, count * V);
      await rowSoftmax(logits, count, V, probs);
      for (let i = 0; i < count; i++) {
        const label = targets.labels[from + i]!;
        total += crossEntropyOf(logits.subarray(i * V, (i + 1) * V), probs[i * V + label]!, label);
        probs[i * V + label] = probs[i * V + label]! - 1;
      }
      if (grads === null) continue;
      // probs now holds d loss / d logits.
      if (lora !== null && branch !== null && grads.lora !== null) {
        addInto(grads.lora.B, await gemm(probs, branch.us, V, count, lora.r, { transA: true }));
        const du = await gemm(probs, lora.B, count, V, lora.r);
        for (let i = 0; i < du.length; i++) du[i] = du[i]! * lora.scale;
        addInto(grads.lora.A, await gemm(du, branch.xd, lora.r, count, H, { transA: true }));
        if (grads.dHidden === null) continue;
        const dxd = await gemm(du, lora.A, count, lora.r, H);
        if (branch.mask !== null) for (let i = 0; i < dxd.length; i++) dxd[i] = branch.mask[i] === 1 ? dxd[i]! * branch.keep : 0;
        await gemm(probs, this.W, count, V, H, { c: dxd, out: gathered.subarray(0, count * H) });
      } else {
        if (grads.dHidden === null) continue;
        await gemm(probs, this.W, count, V, H, { out: gathered.subarray(0, count * H) });
      }
      const dHidden = grads.dHidden;
      if (dHidden === null) continue;
      for (let i = 0; i < count; i++) {
        const o = targets.rows[from + i]! * H;
        for (let j = 0; j < H; j++) dHidden[o + j] = dHidden[o + j]! + gathered[i * H + j]!;
      }
    }
    return total;
  }
}

function addInto(into: Float32Array, more: Float32Array): void {
  for (let i = 0; i < into.length; i++) into[i] = into[i]! + more[i]!;
}

/**
 * -log p(label): from the softmax output when it is representable, else (the label's probability
 * underflowed float32) as log-sum-exp minus the label's logit.
 */
function crossEntropyOf(logits: Float32Array, p: number, label: number): number {
  if (p > 1e-30) return -Math.log(p);
  let max = -Infinity;
  for (let j = 0; j < logits.length; j++) if (logits[j]! > max) max = logits[j]!;
  let sum = 0;
  for (let j = 0; j < logits.length; j++) sum += Math.exp(logits[j]! - max);
  return Math.log(sum) + max - logits[label]!;
}
