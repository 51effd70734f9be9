/**
 * An ONNX graph computing Hugging Face's LlamaForCausalLM forward pass (also Qwen2's, whose q/k/v
 * projections carry biases) from a config and its weights: an independent reference, run by
 * onnxruntime, to check aiduck's own implementation against. No cache and no padding:
 *   input  input_ids [batch, seq] (int64)
 *   output logits [batch, seq, vocab] (float32)
 *
 * Each decoder layer: x + o_proj(attention(rope(q), rope(k), v)) over input_layernorm(x), then
 * x + down_proj(silu(gate_proj(h)) · up_proj(h)) over post_attention_layernorm(x); a final norm and the
 * LM head. RMSNorm is x / sqrt(mean(x²) + eps) · w; rotary embeddings follow HF's rotate_half convention
 * (the two halves of each head are the pair's parts), from cos/sin tables computed in float64; each
 * key/value head serves numHeads / numKvHeads query heads; attention is causal. Any `.bias` tensor next
 * to a linear weight is added (Qwen2's q/k/v, Llama's attention_bias and mlp_bias).
 */
import type { LlamaConfig, Tensor, WeightMap } from '../llm/llama-config.js';
import { ModelGraph, NEG } from './graph.js';
import { int, ints } from '../onnx/graph.js';
import { DataType, encodeModel } from '../onnx/proto.js';
import { Prng } from './prng.js';

const BATCH = 'batch_size';
const SEQ = 'sequence_length';

function weight(weights: WeightMap, name: string): Tensor {
  const t = weights.get(name);
  if (t === undefined) throw new Error(`missing weight ${name}`);
  return t;
}

/** The [out, in] matrix transposed to [in, out], for x · Wᵀ as a MatMul. */
function transposed(t: Tensor): Float32Array {
  const [rows = 0, cols = 0] = t.shape;
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = t.data[r * cols + c] ?? 0;
  return out;
}

/** cos and sin of position · inverse frequency, [positions, headDim], each frequency repeated in both halves. */
function rotaryTables(c: LlamaConfig): { cos: Float32Array; sin: Float32Array } {
  const d = c.headDim;
  const cos = new Float32Array(c.maxPositionEmbeddings * d);
  const sin = new Float32Array(c.maxPositionEmbeddings * d);
  for (let p = 0; p < c.maxPositionEmbeddings; p++) {
    for (let i = 0; i < d / 2; i++) {
      const angle = p / c.ropeTheta ** ((2 * i) / d);
      cos[p * d + i] = cos[p * d + i + d / 2] = Math.cos(angle);
      sin[p * d + i] = sin[p * d + i + d / 2] = Math.sin(angle);
    }
  }
  return { cos, sin };
}

class LlamaGraph {
  readonly g = new ModelGraph('llama-reference', new Prng(0));

  constructor(
    private readonly c: LlamaConfig,
    private readonly weights: WeightMap,
  ) {}

  /** x · Wᵀ (+ b when the weights hold `{path}.bias`). */
  linear(x: string, path: string): string {
    const w = weight(this.weights, `${path}.weight`);
    const [out = 0, inDim = 0] = w.shape;
    const y = this.g.op('MatMul', [x, this.g.tensor(`${path}.weight.T`, [inDim, out], transposed(w))]);
    const b = this.weights.get(`${path}.bias`);
    return b === undefined ? y : this.g.op('Add', [y, this.g.tensor(`${path}.bias`, [out], b.data)]);
  }

  rmsNorm(x: string, name: string): string {
    const w = weight(this.weights, name);
    const variance = this.g.op('ReduceMean', [this.g.op('Mul', [x, x])], { axes: ints([-1]), keepdims: int(1) });
    const rms = this.g.op('Sqrt', [this.g.op('Add', [variance, this.g.f32([this.c.rmsNormEps], [])])]);
    return this.g.op('Mul', [this.g.op('Div', [x, rms]), this.g.tensor(name, w.shape, w.data)]);
  }

  /** x · cos + rotate_half(x) · sin, with rotate_half(x) = [-x₂, x₁] over the halves of the last axis. */
  rope(x: string, cos: string, sin: string): string {
    const half = this.c.headDim / 2;
    const slice = (from: number, to: number): string => this.g.op('Slice', [x, this.g.i64([from]), this.g.i64([to]), this.g.i64([-1])]);
    const rotated = this.g.op('Concat', [this.g.op('Neg', [slice(half, this.c.headDim)]), slice(0, half)], { axis: int(-1) });
    return this.g.op('Add', [this.g.op('Mul', [x, cos]), this.g.op('Mul', [rotated, sin])]);
  }

  /** [b, kvHeads, s, d] → [b, heads, s, d]: query head h reads key/value head ⌊h / group⌋. */
  repeatKv(x: string): string {
    const group = this.c.numHeads / this.c.numKvHeads;
    if (group === 1) return x;
    const source = Array.from({ length: this.c.numHeads }, (_, h) => Math.floor(h / group));
    return this.g.op('Gather', [x, this.g.i64(source)], { axis: int(1) });
  }

  build(): Uint8Array {
    const { g, c } = this;
    const ids = g.input('input_ids', DataType.INT64, [BATCH, SEQ]);
    const embed = weight(this.weights, 'model.embed_tokens.weight');
    let h = g.op('Gather', [g.tensor('model.embed_tokens.weight', embed.shape, embed.data), ids], { axis: int(0) });

    const seq = g.dim(ids, 1);
    const seq1d = g.op('Unsqueeze', [seq, g.i64([0])]);
    const tables = rotaryTables(c);
    const table = (name: string, values: Float32Array): string =>
      g.op('Slice', [g.tensor(name, [c.maxPositionEmbeddings, c.headDim], values), g.i64([0]), seq1d, g.i64([0])]);
    const cos = table('rotary.cos', tables.cos);
    const sin = table('rotary.sin', tables.sin);
    const positions = g.op('Range', [g.i64([0], []), seq, g.i64([1], [])]);
    const future = g.op('Greater', [g.op('Unsqueeze', [positions, g.i64([0])]), g.op('Unsqueeze', [positions, g.i64([1])])]);
    const causal = g.op('Where', [future, g.f32([NEG], []), g.f32([0], [])]);

    for (let l = 0; l < c.numLayers; l++) {
      const p = `model.layers.${l}`;
      const a = this.rmsNorm(h, `${p}.input_layernorm.weight`);
      const q = this.rope(g.splitHeads(this.linear(a, `${p}.self_attn.q_proj`), c.numHeads, c.headDim), cos, sin);
      const k = this.rope(g.splitHeads(this.linear(a, `${p}.self_attn.k_proj`), c.numKvHeads, c.headDim), cos, sin);
      const v = g.splitHeads(this.linear(a, `${p}.self_attn.v_proj`), c.numKvHeads, c.headDim);
      const heads = g.attention(q, this.repeatKv(k), this.repeatKv(v), causal, 1 / Math.sqrt(c.headDim));
      h = g.op('Add', [h, this.linear(g.mergeHeads(heads, c.numHeads, c.headDim), `${p}.self_attn.o_proj`)]);

      const m = this.rmsNorm(h, `${p}.post_attention_layernorm.weight`);
      const gate = this.linear(m, `${p}.mlp.gate_proj`);
      const silu = g.op('Mul', [gate, g.op('Sigmoid', [gate])]);
      h = g.op('Add', [h, this.linear(g.op('Mul', [silu, this.linear(m, `${p}.mlp.up_proj`)]), `${p}.mlp.down_proj`)]);
    }
    h = this.rmsNorm(h, 'model.norm.weight');
    const head = this.weights.get('lm_head.weight') ?? embed;
    const vocab = head.shape[0] ?? 0;
    const logits = g.op('MatMul', [h, g.tensor('lm_head.weight.T', [c.hiddenSize, vocab], transposed(head))]);
    g.output(logits, 'logits', DataType.FLOAT, [BATCH, SEQ, vocab]);
    return encodeModel({ graph: g.build(), docString: 'aiduck Llama reference forward pass' });
  }
}

/** The bytes of an .onnx file computing the logits of the Llama-family model `config` with `weights`. */
export function llamaReferenceOnnx(config: LlamaConfig, weights: WeightMap): Uint8Array {
  if (config.ropeScaling !== null && config.ropeScaling.type !== 'default') throw new Error(`rope scaling ${config.ropeScaling.type} is not supported by the reference graph`);
  return new LlamaGraph(config, weights).build();
}
