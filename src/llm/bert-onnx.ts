/**
 * A BERT encoder's weights as an ONNX graph (BertModel: input_ids, attention_mask, token_type_ids →
 * last_hidden_state), so that a fine-tuned body is served by the same transformers.js path as any
 * ONNX embedding model. The graph computes what bert-model.ts computes, with the padding mask of a
 * padded batch: standard operators (opset 17), linear weights stored [in, out] for MatMul.
 */
import { GraphBuilder, float, int } from '../testmodels/graph.js';
import { DataType, encodeModel } from '../testmodels/onnx-proto.js';
import { Prng } from '../testmodels/prng.js';
import type { BertConfig } from './bert-config.js';
import type { Tensor, WeightMap } from './llama-config.js';

const BATCH = 'batch_size';
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
  const g = new GraphBuilder('bert-encoder', new Prng(0));
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

  const inputIds = g.input('input_ids', DataType.INT64, [BATCH, SEQ]);
  const attentionMask = g.input('attention_mask', DataType.INT64, [BATCH, SEQ]);
  const tokenTypeIds = g.input('token_type_ids', DataType.INT64, [BATCH, SEQ]);
  const H = c.hiddenSize;
  const heads = c.numHeads;
  const headDim = H / heads;

  const words = g.op('Gather', [param('embeddings.word_embeddings.weight'), inputIds], { axis: int(0) });
  const positionIds = g.op('Range', [g.i64([0], []), g.dim(inputIds, 1), g.i64([1], [])]);
  const positions = g.op('Gather', [param('embeddings.position_embeddings.weight'), positionIds], { axis: int(0) });
  const types = g.op('Gather', [param('embeddings.token_type_embeddings.weight'), tokenTypeIds], { axis: int(0) });
  let h = layerNorm(g.op('Add', [g.op('Add', [words, positions]), types]), 'embeddings.LayerNorm');
  const maskBias = g.paddingBias(attentionMask);
  for (let l = 0; l < c.numLayers; l++) {
    const p = `encoder.layer.${l}`;
    const q = g.splitHeads(linear(h, `${p}.attention.self.query`), heads, headDim);
    const k = g.splitHeads(linear(h, `${p}.attention.self.key`), heads, headDim);
    const v = g.splitHeads(linear(h, `${p}.attention.self.value`), heads, headDim);
    const context = g.mergeHeads(g.attention(q, k, v, maskBias, 1 / Math.sqrt(headDim)), heads, headDim);
    h = layerNorm(g.op('Add', [linear(context, `${p}.attention.output.dense`), h]), `${p}.attention.output.LayerNorm`);
    const inter = g.gelu(linear(h, `${p}.intermediate.dense`));
    h = layerNorm(g.op('Add', [linear(inter, `${p}.output.dense`), h]), `${p}.output.LayerNorm`);
  }
  g.output(h, 'last_hidden_state', DataType.FLOAT, [BATCH, SEQ, H]);
  return encodeModel({ graph: g.build(), docString: options.docString ?? 'BERT encoder fine-tuned by aiduck' });
}
