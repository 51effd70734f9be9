/**
 * LayerNorm over the last axis of row-major [rows, dim] float32 buffers, forward and backward:
 * y = (x − mean) / sqrt(var + eps) · γ + β, the variance biased (divided by dim), as torch computes it.
 */

/** y = LayerNorm(x); keeps x̂ and 1/σ per row for the backward pass. */
export function layerNorm(x: Float32Array, gamma: Float32Array, beta: Float32Array, rows: number, eps: number, y: Float32Array, xhat: Float32Array, invStd: Float32Array): void {
  const D = gamma.length;
  for (let r = 0; r < rows; r++) {
    const o = r * D;
    let mean = 0;
    for (let i = 0; i < D; i++) mean += x[o + i]!;
    mean /= D;
    let variance = 0;
    for (let i = 0; i < D; i++) {
      const c = x[o + i]! - mean;
      variance += c * c;
    }
    const inv = 1 / Math.sqrt(variance / D + eps);
    invStd[r] = inv;
    for (let i = 0; i < D; i++) {
      const h = (x[o + i]! - mean) * inv;
      xhat[o + i] = h;
      y[o + i] = h * gamma[i]! + beta[i]!;
    }
  }
}

/**
 * Backward through LayerNorm given dy: writes dx = (1/σ) · (ĝ − mean(ĝ) − x̂ · mean(ĝ · x̂)) with ĝ = dy · γ,
 * and adds dγ += Σ dy · x̂, dβ += Σ dy.
 */
export function layerNormBackward(dy: Float32Array, xhat: Float32Array, invStd: Float32Array, gamma: Float32Array, rows: number, dx: Float32Array, dGamma: Float32Array, dBeta: Float32Array): void {
  const D = gamma.length;
  for (let r = 0; r < rows; r++) {
    const o = r * D;
    let sumG = 0;
    let sumGX = 0;
    for (let i = 0; i < D; i++) {
      const g = dy[o + i]! * gamma[i]!;
      sumG += g;
      sumGX += g * xhat[o + i]!;
      dGamma[i] = dGamma[i]! + dy[o + i]! * xhat[o + i]!;
      dBeta[i] = dBeta[i]! + dy[o + i]!;
    }
    const inv = invStd[r]!;
    const meanG = sumG / D;
    const meanGX = sumGX / D;
    for (let i = 0; i < D; i++) dx[o + i] = inv * (dy[o + i]! * gamma[i]! - meanG - xhat[o + i]! * meanGX);
  }
}
