/**
 * Row-wise and elementwise steps that stay in JavaScript, on row-major float32 buffers: RMSNorm forward
 * and backward, dropout. Matrix products live in matmul.ts, the
 * exp-heavy steps of training in ort-ops.ts.
 */

/** out[t] = x[t] / sqrt(mean(x[t]²) + eps) · w for each of the `rows` rows; 1/rms per row goes to invRms. */
export function rmsNorm(x: Float32Array, w: Float32Array, rows: number, eps: number, out: Float32Array, invRms: Float32Array): void {
  const H = w.length;
  for (let t = 0; t < rows; t++) {
    const o = t * H;
    let ss = 0;
    for (let i = 0; i < H; i++) {
      const v = x[o + i]!;
      ss += v * v;
    }
    const inv = Math.fround(1 / Math.sqrt(Math.fround(ss / H) + eps));
    invRms[t] = inv;
    for (let i = 0; i < H; i++) out[o + i] = Math.fround(x[o + i]! * inv) * w[i]!;
  }
}

/**
 * Adds the gradient of rmsNorm's input to dx, given the gradient dOut of its output:
 * with x̂ = x · inv, dx += inv · (g - x̂ · mean(g · x̂)) where g = dOut · w.
 */
export function rmsNormBackwardAdd(dOut: Float32Array, x: Float32Array, w: Float32Array, invRms: Float32Array, rows: number, dx: Float32Array): void {
  const H = w.length;
  for (let t = 0; t < rows; t++) {
    const o = t * H;
    const inv = invRms[t]!;
    let dot = 0;
    for (let i = 0; i < H; i++) dot += dOut[o + i]! * w[i]! * x[o + i]!;
    const k = (dot * inv * inv) / H;
    for (let i = 0; i < H; i++) dx[o + i] = dx[o + i]! + inv * (dOut[o + i]! * w[i]! - x[o + i]! * k);
  }
}

/** A source of uniform numbers in [0, 1), e.g. testmodels' Prng. */
export interface Rng {
  next(): number;
}

/** Inverted dropout: each value kept with probability 1 - p and scaled by 1/(1 - p); returns the kept mask. */
export function dropout(x: Float32Array, p: number, rng: Rng): { out: Float32Array; mask: Uint8Array } {
  const out = new Float32Array(x.length);
  const mask = new Uint8Array(x.length);
  const keep = 1 / (1 - p);
  for (let i = 0; i < x.length; i++) {
    if (rng.next() >= p) {
      mask[i] = 1;
      out[i] = x[i]! * keep;
    }
  }
  return { out, mask };
}

/** dst += src */
export function addInPlace(dst: Float32Array, src: Float32Array): void {
  for (let i = 0; i < dst.length; i++) dst[i] = dst[i]! + src[i]!;
}
