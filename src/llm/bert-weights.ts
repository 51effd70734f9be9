/**
 * A BERT encoder's weights under BertModel's Hugging Face names, from a model folder: model.safetensors
 * (as sentence-transformers and transformers save it), or else the initializers of onnx/model.onnx.
 *
 * In an ONNX export the linear layers are MatMul (or Gemm) nodes whose weight is stored [in, out] and
 * often under a generated name (onnx::MatMul_123); the bias added right after keeps its Hugging Face
 * name, which names the weight too. Embeddings and LayerNorm parameters keep their names.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SqlError } from '../errors/sql-error.js';
import { bertWeightShapes, type BertConfig } from './bert-config.js';
import type { Tensor, WeightMap } from './llama-config.js';
import { readOnnxGraph, type OnnxGraph } from './onnx-graph.js';
import { hasFolderWeights, loadFolderWeights } from './safetensors.js';

export const ONNX_MODEL_FILE = join('onnx', 'model.onnx');

const HINT = 'register the embedding model from a folder with model.safetensors (sentence-transformers and transformers save one), or use fine_tune_body => false';

/** BertModel's name of a weight saved by a model with the encoder under `bert.` (BertForX, some exports). */
const bertName = (name: string): string => name.replace(/^bert\./, '');

function transpose(t: Tensor): Tensor {
  const [rows = 0, cols = 0] = t.shape;
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = t.data[r * cols + c]!;
  return { shape: [cols, rows], data: out };
}

/** The linear weights of the graph, [out, in], by the Hugging Face name their bias (or they themselves) carry. */
function linearWeights(graph: OnnxGraph): WeightMap {
  const consumers = new Map<string, typeof graph.nodes>();
  for (const n of graph.nodes) for (const input of n.inputs) consumers.set(input, [...(consumers.get(input) ?? []), n]);
  const weights: WeightMap = new Map();
  for (const n of graph.nodes) {
    const isGemm = n.opType === 'Gemm' && (n.ints.transA ?? 0) === 0;
    if (n.opType !== 'MatMul' && !isGemm) continue;
    const wName = n.inputs[1] ?? '';
    const w = graph.initializers.get(wName);
    if (w === undefined || w.shape.length !== 2) continue;
    let biasName: string | undefined = isGemm ? n.inputs[2] : undefined;
    if (!isGemm) {
      for (const add of consumers.get(n.outputs[0] ?? '') ?? []) {
        if (add.opType !== 'Add') continue;
        biasName = add.inputs.find((i) => i !== n.outputs[0] && graph.initializers.has(i));
      }
    }
    const name = biasName?.endsWith('.bias') ? biasName.replace(/\.bias$/, '.weight') : wName;
    const stored = isGemm && (n.ints.transB ?? 0) === 1 ? w : transpose(w);
    weights.set(bertName(name), stored);
  }
  return weights;
}

/** The weights of onnx/model.onnx, matched to BertModel's names. */
export function bertWeightsFromOnnx(bytes: Uint8Array, c: BertConfig): WeightMap {
  const graph = readOnnxGraph(bytes);
  const found = linearWeights(graph);
  for (const [name, t] of graph.initializers) if (!found.has(bertName(name))) found.set(bertName(name), t);
  return checkWeights(found, c, 'onnx/model.onnx');
}

/** Only BertModel's weights, each checked against the config (0A000 when they cannot all be found). */
function checkWeights(all: WeightMap, c: BertConfig, where: string): WeightMap {
  const out: WeightMap = new Map();
  const missing: string[] = [];
  for (const [name, shape] of bertWeightShapes(c)) {
    const t = all.get(name);
    if (t === undefined) {
      missing.push(name);
      continue;
    }
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw new SqlError('0A000', `${where}: ${name} has shape [${t.shape.join(', ')}], BertModel with this config.json has [${shape.join(', ')}]`, HINT);
    }
    out.set(name, t);
  }
  if (missing.length > 0) {
    throw new SqlError('0A000', `${where}: cannot find BertModel's weights ${missing.slice(0, 3).join(', ')}${missing.length > 3 ? ` and ${missing.length - 3} more` : ''}`, HINT);
  }
  return out;
}

/** The encoder's weights from a model folder: model.safetensors when it has one, else onnx/model.onnx. */
export async function loadBertWeights(folder: string, c: BertConfig): Promise<{ weights: WeightMap; source: 'safetensors' | 'onnx' }> {
  if (hasFolderWeights(folder)) {
    const all = await loadFolderWeights(folder);
    const renamed: WeightMap = new Map([...all].map(([k, v]) => [bertName(k), v]));
    return { weights: checkWeights(renamed, c, 'model.safetensors'), source: 'safetensors' };
  }
  const onnx = join(folder, ONNX_MODEL_FILE);
  if (!existsSync(onnx)) throw new SqlError('58P01', `${folder} has neither model.safetensors nor ${ONNX_MODEL_FILE}`);
  return { weights: bertWeightsFromOnnx(await readFile(onnx), c), source: 'onnx' };
}
