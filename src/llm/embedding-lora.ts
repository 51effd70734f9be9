/**
 * A LoRA on the token embedding, as PEFT's lora.Embedding computes it: with A [r, vocab] and B [hidden, r],
 * the embedding of token t gains s · B A[:, t].
 */
import type { LoraWeights } from './linear.js';
import { gemm } from './matmul.js';

/** Adds s · B A[:, token] to each token's embedding in x [T, hidden]. */
export function embeddingLoraForward(x: Float32Array, tokens: Int32Array, lora: LoraWeights, H: number, V: number): void {
  const { A, B, r, scale } = lora;
  const u = new Float32Array(r);
  for (let t = 0; t < tokens.length; t++) {
    const tok = tokens[t]!;
    for (let k = 0; k < r; k++) u[k] = scale * A[k * V + tok]!;
    for (let h = 0; h < H; h++) {
      let sum = 0;
      for (let k = 0; k < r; k++) sum += B[h * r + k]! * u[k]!;
      x[t * H + h] = x[t * H + h]! + sum;
    }
  }
}

/**
 * The gradient of an embedding LoRA from the gradient dx [T, hidden] of the embeddings: with
 * u_t = A[:, token_t], x_t gains s · B u_t, so dB = s · Σ_t dx_t u_tᵀ and dA[:, token_t] += s · Bᵀ dx_t.
 */
export async function embeddingLoraBackward(dx: Float32Array, tokens: Int32Array, lora: LoraWeights, H: number, V: number, grad: { A: Float32Array; B: Float32Array }): Promise<void> {
  const { A, B, r, scale } = lora;
  const T = tokens.length;
  const U = new Float32Array(T * r);
  for (let t = 0; t < T; t++) for (let k = 0; k < r; k++) U[t * r + k] = scale * A[k * V + tokens[t]!]!;
  await gemm(dx, U, H, T, r, { transA: true, out: grad.B });
  const G = await gemm(dx, B, T, H, r);
  for (let t = 0; t < T; t++) {
    const tok = tokens[t]!;
    for (let k = 0; k < r; k++) grad.A[k * V + tok] = grad.A[k * V + tok]! + scale * G[t * r + k]!;
  }
}
