/**
 * A BERT encoder's weights as an ONNX graph (BertModel: input_ids, attention_mask, token_type_ids →
 * last_hidden_state), so that a fine-tuned body is served by the same transformers.js path as any
 * ONNX embedding model. The graph computes what bert-model.ts computes, with the padding mask of a
 * padded batch: standard operators (opset 17), linear weights stored [in, out] for MatMul.
 */
import { GraphBuilder, float, int, ints } from '../onnx/graph.js';
import { DataType, encodeModel } from '../onnx/proto.js';
import type { BertConfig } from './bert-config.js';
import type { Tensor, WeightMap } from './llama-config.js';

const BATCH = 'batch_size';
/** Added to the scores of padding positions: large enough to zero them after softmax, small enough to stay finite. */
const PADDING_BIAS = -1e9;
const SEQ = 'sequence_length';

function transposed(t: Tensor): Float32Array {
  const [rows = 0, cols = 0] = t.shape;
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = t.data[r * cols + c]!;
  return out;
}

export interface BertOnnxOptions {
  docString?: string;
  /** Name the linear weights as torch.onnx.export does when it folds them (onnx::MatMul_<n>), as optimum's exports have them. */
  anonymousLinearWeights?: boolean;
}

export function bertOnnx(c: BertConfig, weights: WeightMap, options: BertOnnxOptions = {}): Uint8Array {
  const g = new GraphBuilder('bert-encoder');
  const H = c.hiddenSize;
  const heads = c.numHeads;
  const headDim = H / heads;
  const get = (name: string): Tensor => {
    const t = weights.get(name);
    if (t === undefined) throw new Error(`bertOnnx: no weight ${name}`);
    return t;
  };
  let anonymous = 1000;
  const param = (name: string): string => g.tensor(name, get(name).shape, get(name).data);
  const linear = (x: string, name: string): string => {
    const w = get(`${name}.weight`);
    const [out = 0, inDim = 0] = w.shape;
    const stored = options.anonymousLinearWeights ? `onnx::MatMul_${anonymous++}` : `${name}.weight`;
    const y = g.op('MatMul', [x, g.tensor(stored, [inDim, out], transposed(w))]);
    return g.op('Add', [y, param(`${name}.bias`)]);
  };
  const layerNorm = (x: string, name: string): string =>
    g.op('LayerNormalization', [x, param(`${name}.weight`), param(`${name}.bias`)], { axis: int(-1), epsilon: float(c.layerNormEps) });

  // [batch, seq, heads·d] ↔ [batch, heads, seq, d]
  const splitHeads = (x: string): string => g.op('Transpose', [g.op('Reshape', [x, g.i64([0, 0, heads, headDim])])], { perm: ints([0, 2, 1, 3]) });
  const mergeHeads = (x: string): string => g.op('Reshape', [g.op('Transpose', [x], { perm: ints([0, 2, 1, 3]) }), g.i64([0, 0, H])]);
  const gelu = (x: string): string =>
    g.op('Mul', [g.op('Mul', [x, g.f32([0.5], [])]), g.op('Add', [g.op('Erf', [g.op('Div', [x, g.f32([Math.SQRT2], [])])]), g.f32([1], [])])]);
  /** softmax(q·kᵀ/√d + mask) · v, the mask 0 where attended and very negative on padding. */
  const attention = (q: string, k: string, v: string, maskBias: string): string => {
    const scores = g.op('Mul', [g.op('MatMul', [q, g.op('Transpose', [k], { perm: ints([0, 1, 3, 2]) })]), g.f32([1 / Math.sqrt(headDim)], [])]);
    return g.op('MatMul', [g.op('Softmax', [g.op('Add', [scores, maskBias])], { axis: int(-1) }), v]);
  };

  const inputIds = g.input('input_ids', DataType.INT64, [BATCH, SEQ]);
  const attentionMask = g.input('attention_mask', DataType.INT64, [BATCH, SEQ]);
  const tokenTypeIds = g.input('token_type_ids', DataType.INT64, [BATCH, SEQ]);

  const words = g.op('Gather', [param('embeddings.word_embeddings.weight'), inputIds], { axis: int(0) });
  const seqLength = g.op('Gather', [g.op('Shape', [inputIds]), g.i64([1], [])], { axis: int(0) });
  const positionIds = g.op('Range', [g.i64([0], []), seqLength, g.i64([1], [])]);
  const positions = g.op('Gather', [param('embeddings.position_embeddings.weight'), positionIds], { axis: int(0) });
  const types = g.op('Gather', [param('embeddings.token_type_embeddings.weight'), tokenTypeIds], { axis: int(0) });
  let h = layerNorm(g.op('Add', [g.op('Add', [words, positions]), types]), 'embeddings.LayerNorm');
  const keep = g.op('Cast', [attentionMask], { to: int(DataType.FLOAT) });
  const maskBias = g.op('Unsqueeze', [g.op('Mul', [g.op('Sub', [g.f32([1], []), keep]), g.f32([PADDING_BIAS], [])]), g.i64([1, 2])]);
  for (let l = 0; l < c.numLayers; l++) {
    const p = `encoder.layer.${l}`;
    const q = splitHeads(linear(h, `${p}.attention.self.query`));
    const k = splitHeads(linear(h, `${p}.attention.self.key`));
    const v = splitHeads(linear(h, `${p}.attention.self.value`));
    const context = mergeHeads(attention(q, k, v, maskBias));
    h = layerNorm(g.op('Add', [linear(context, `${p}.attention.output.dense`), h]), `${p}.attention.output.LayerNorm`);
    const inter = gelu(linear(h, `${p}.intermediate.dense`));
    h = layerNorm(g.op('Add', [linear(inter, `${p}.output.dense`), h]), `${p}.output.LayerNorm`);
  }
  g.output(h, 'last_hidden_state', DataType.FLOAT, [BATCH, SEQ, H]);
  return encodeModel({ graph: g.build(), docString: options.docString ?? 'BERT encoder fine-tuned by aiduck' });
}
