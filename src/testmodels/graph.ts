/**
 * The transformer blocks the test models share, on top of the ONNX graph builder: random weights,
 * linear layers, LayerNorm/RMSNorm, GELU, multi-head attention.
 */
import { GraphBuilder, float, int, ints } from '../onnx/graph.js';
import { DataType } from '../onnx/proto.js';
import { Prng } from './prng.js';

export class ModelGraph extends GraphBuilder {
  constructor(name: string, readonly rng: Prng) {
    super(name);
  }

  /** A float32 initializer drawn from N(0, std²). */
  weight(name: string, dims: readonly number[], std: number): string {
    return this.tensor(name, dims, this.rng.normals(dims.reduce((a, b) => a * b, 1), std));
  }

  // --- building blocks ------------------------------------------------------------------------------

  /**
   * x · W + b with W [in, out] drawn from N(0, std²) (then passed to `edit`, if given, to fix some
   * entries) and b zero (or omitted).
   */
  linear(x: string, name: string, inDim: number, outDim: number, std: number, bias = true, edit?: (w: Float32Array) => void): string {
    const w = this.rng.normals(inDim * outDim, std);
    edit?.(w);
    const y = this.op('MatMul', [x, this.tensor(`${name}.weight`, [inDim, outDim], w)]);
    return bias ? this.op('Add', [y, this.filled(`${name}.bias`, [outDim], 0)]) : y;
  }

  layerNorm(x: string, name: string, dim: number, epsilon: number): string {
    return this.op('LayerNormalization', [x, this.filled(`${name}.weight`, [dim], 1), this.filled(`${name}.bias`, [dim], 0)], {
      axis: int(-1),
      epsilon: float(epsilon),
    });
  }

  /** T5's RMS norm: x / sqrt(mean(x²) + eps) · w. */
  rmsNorm(x: string, name: string, dim: number, epsilon: number): string {
    const variance = this.op('ReduceMean', [this.op('Mul', [x, x])], { axes: ints([-1]), keepdims: int(1) });
    const rms = this.op('Sqrt', [this.op('Add', [variance, this.f32([epsilon], [])])]);
    return this.op('Mul', [this.op('Div', [x, rms]), this.filled(`${name}.weight`, [dim], 1)]);
  }

  /** GELU, exact form: 0.5 · x · (1 + erf(x / √2)). */
  gelu(x: string): string {
    const erf = this.op('Erf', [this.op('Div', [x, this.f32([Math.SQRT2], [])])]);
    return this.op('Mul', [this.op('Mul', [x, this.f32([0.5], [])]), this.op('Add', [erf, this.f32([1], [])])]);
  }

  /** [batch, seq, heads·headDim] → [batch, heads, seq, headDim]. */
  splitHeads(x: string, heads: number, headDim: number): string {
    return this.op('Transpose', [this.op('Reshape', [x, this.i64([0, 0, heads, headDim])])], { perm: ints([0, 2, 1, 3]) });
  }

  /** [batch, heads, seq, headDim] → [batch, seq, heads·headDim]. */
  mergeHeads(x: string, heads: number, headDim: number): string {
    return this.op('Reshape', [this.op('Transpose', [x], { perm: ints([0, 2, 1, 3]) }), this.i64([0, 0, heads * headDim])]);
  }

  /**
   * Scaled dot-product attention over heads: softmax(q·kᵀ · scale + bias) · v, with q [b, h, s, d],
   * k and v [b, h, t, d], and `bias` broadcastable to [b, h, s, t] (0 where allowed, very negative where
   * masked; null for none). Returns [b, h, s, d].
   */
  attention(q: string, k: string, v: string, bias: string | null, scale: number): string {
    const kT = this.op('Transpose', [k], { perm: ints([0, 1, 3, 2]) });
    let scores = this.op('MatMul', [q, kT]);
    if (scale !== 1) scores = this.op('Mul', [scores, this.f32([scale], [])]);
    if (bias !== null) scores = this.op('Add', [scores, bias]);
    return this.op('MatMul', [this.op('Softmax', [scores], { axis: int(-1) }), v]);
  }

  /** Additive mask [b, 1, 1, t] from a 0/1 int64 attention mask [b, t]. */
  paddingBias(attentionMask: string): string {
    const keep = this.op('Cast', [attentionMask], { to: int(DataType.FLOAT) });
    const bias = this.op('Mul', [this.op('Sub', [this.f32([1], []), keep]), this.f32([NEG], [])]);
    return this.op('Unsqueeze', [bias, this.i64([1, 2])]);
  }

  /** The size of dimension `axis` of `x`, as an int64 scalar. */
  dim(x: string, axis: number): string {
    return this.op('Gather', [this.op('Shape', [x]), this.i64([axis], [])], { axis: int(0) });
  }
}

/** The additive bias for masked attention positions: large enough to zero them, small enough to stay finite. */
export const NEG = -1e9;
