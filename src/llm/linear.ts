/**
 * A linear module y = x Wᵀ + b with an optional LoRA branch + s · dropout(x) Aᵀ Bᵀ, forward and
 * backward. W and b are frozen: the backward pass yields the input gradient and LoRA's dA, dB only.
 */
import { dropout, type Rng } from './kernels.js';
import { gemm } from './matmul.js';

export interface LinearWeights {
  /** [out, in] */
  W: Float32Array;
  bias: Float32Array | null;
  out: number;
  in: number;
}

export interface LoraWeights {
  /** [r, in] */
  A: Float32Array;
  /** [out, r] */
  B: Float32Array;
  r: number;
  /** alpha / r */
  scale: number;
}

export interface Dropout {
  p: number;
  rng: Rng;
}

/** What the LoRA branch's backward pass needs from its forward pass. */
export interface LoraTape {
  /** The branch's input after dropout, [M, in]. */
  xd: Float32Array;
  /** s · xd Aᵀ, [M, r]. */
  us: Float32Array;
  /** Kept elements when dropout was applied. */
  mask: Uint8Array | null;
  keepScale: number;
}

export async function linearForward(
  x: Float32Array,
  M: number,
  lin: LinearWeights,
  lora: LoraWeights | null,
  drop: Dropout | null,
): Promise<{ y: Float32Array; tape: LoraTape | null }> {
  const base = await gemm(x, lin.W, M, lin.in, lin.out, lin.bias === null ? { transB: true } : { transB: true, c: lin.bias });
  if (lora === null) return { y: base, tape: null };
  let xd = x;
  let mask: Uint8Array | null = null;
  if (drop !== null && drop.p > 0) ({ out: xd, mask } = dropout(x, drop.p, drop.rng));
  const us = await gemm(xd, lora.A, M, lin.in, lora.r, { transB: true });
  for (let i = 0; i < us.length; i++) us[i] = us[i]! * lora.scale;
  const y = await gemm(us, lora.B, M, lora.r, lin.out, { transB: true, c: base });
  return { y, tape: { xd, us, mask, keepScale: drop === null ? 1 : 1 / (1 - drop.p) } };
}

/**
 * Backward through the module given dy [M, out]: writes dA [r, in] and dB [out, r] into `grads` when
 * there is a LoRA branch, and returns dx [M, in] (plus `accumulate` when given) if `wantDx`, else null.
 */
export async function linearBackward(
  dy: Float32Array,
  M: number,
  lin: LinearWeights,
  lora: LoraWeights | null,
  tape: LoraTape | null,
  grads: { A: Float32Array; B: Float32Array } | null,
  wantDx: boolean,
  accumulate: Float32Array | null = null,
): Promise<Float32Array | null> {
  let dx: Float32Array | null = null;
  if (wantDx) dx = await gemm(dy, lin.W, M, lin.out, lin.in, accumulate === null ? {} : { c: accumulate });
  if (lora === null || tape === null || grads === null) return dx;
  await gemm(dy, tape.us, lin.out, M, lora.r, { transA: true, out: grads.B });
  const du = await gemm(dy, lora.B, M, lin.out, lora.r);
  for (let i = 0; i < du.length; i++) du[i] = du[i]! * lora.scale;
  await gemm(du, tape.xd, lora.r, M, lin.in, { transA: true, out: grads.A });
  if (dx === null) return null;
  if (tape.mask === null) return gemm(du, lora.A, M, lora.r, lin.in, { c: dx });
  const dxd = await gemm(du, lora.A, M, lora.r, lin.in);
  const mask = tape.mask;
  const k = tape.keepScale;
  for (let i = 0; i < dx.length; i++) if (mask[i] === 1) dx[i] = dx[i]! + dxd[i]! * k;
  return dx;
}
