/**
 * Creating and merging LoRA adapters. A new adapter is initialized as PEFT does: for a linear module
 * (the output layer included) A from kaiming_uniform_(a = √5), i.e. U(-1/√in, 1/√in), and B = 0; for the
 * token embedding A = 0 and B from N(0, 1). Either way it starts as the identity edit.
 */
import { SqlError } from '../errors/sql-error.js';
import type { LlamaConfig, Tensor, WeightMap } from './llama-config.js';
import { EMBED_MODULE, EMBED_PATH, HEAD_MODULE, HEAD_PATH, LORA_TARGETS, isLinearModule, loraPath, loraShape, loraSites } from './lora-targets.js';
import { loraScale, type LoraAdapter, type LoraPair, type LoraSpec } from './lora-types.js';
import { SeededRandom } from './seeded-random.js';

/**
 * A fresh adapter for the spec's target modules. Values are drawn from one seeded stream: layer by layer
 * and, within a layer, in LORA_TARGETS order (whatever order the spec lists them in), then the embedding,
 * then the output layer.
 */
export function initAdapter(config: LlamaConfig, spec: LoraSpec, seed: number): LoraAdapter {
  const rng = new SeededRandom(seed);
  const modules = new Map<string, LoraPair>();
  const pair = (out: number, inDim: number): LoraPair => ({ A: { shape: [spec.r, inDim], data: new Float32Array(spec.r * inDim) }, B: { shape: [out, spec.r], data: new Float32Array(out * spec.r) } });
  const linear = (path: string, out: number, inDim: number): void => {
    const p = pair(out, inDim);
    const bound = 1 / Math.sqrt(inDim);
    for (let i = 0; i < p.A.data.length; i++) p.A.data[i] = (2 * rng.next() - 1) * bound;
    modules.set(path, p);
  };
  const layerTargets = LORA_TARGETS.filter((m) => isLinearModule(m) && spec.targetModules.includes(m));
  for (let l = 0; l < config.numLayers; l++) {
    for (const m of layerTargets) {
      const [out, inDim] = loraShape(config, m);
      linear(loraPath(m, l), out, inDim);
    }
  }
  if (spec.targetModules.includes(EMBED_MODULE)) {
    const [out, inDim] = loraShape(config, EMBED_MODULE);
    const p = pair(out, inDim);
    // N(0, 1) by Box–Muller from the same stream.
    for (let i = 0; i < p.B.data.length; i++) p.B.data[i] = Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
    modules.set(EMBED_PATH, p);
  }
  if (spec.targetModules.includes(HEAD_MODULE)) {
    const [out, inDim] = loraShape(config, HEAD_MODULE);
    linear(HEAD_PATH, out, inDim);
  }
  return { spec, modules };
}

/**
 * Whether merging the adapter into tied embeddings must untie them: a LoRA on the embedding or on the
 * output layer changes one of the two and not the other, so the merged model stores both
 * (and its config.json must say tie_word_embeddings: false).
 */
export function mergeUnties(config: LlamaConfig, adapter: LoraAdapter): boolean {
  return config.tieWordEmbeddings && (adapter.modules.has(EMBED_PATH) || adapter.modules.has(HEAD_PATH));
}

/**
 * Base weights with the adapter folded in: W' = W + (alpha / r) · B · A for each adapted linear (the
 * output layer included) and E' = E + (alpha / r) · (B · A)ᵀ for the embedding; every other tensor is
 * shared with `weights`, not copied. With tied embeddings that an adapter edits (mergeUnties), the result
 * holds lm_head.weight apart from model.embed_tokens.weight.
 */
export function mergeAdapter(config: LlamaConfig, weights: WeightMap, adapter: LoraAdapter): WeightMap {
  const merged: WeightMap = new Map(weights);
  const s = loraScale(adapter.spec);
  const r = adapter.spec.r;
  const sites = loraSites(config);
  const embedding = weights.get('model.embed_tokens.weight');
  if (mergeUnties(config, adapter)) {
    if (embedding === undefined) throw new SqlError('22023', 'the base model has no model.embed_tokens.weight to merge into');
    merged.set(HEAD_PATH + '.weight', { shape: [...embedding.shape], data: Float32Array.from(embedding.data) });
  }
  for (const [path, pair] of adapter.modules) {
    const site = sites.get(path);
    const name = path === HEAD_PATH && config.tieWordEmbeddings ? HEAD_PATH + '.weight' : `${path}.weight`;
    const base: Tensor | undefined = merged.get(name);
    if (site === undefined || base === undefined) throw new SqlError('22023', `adapter module ${path} has no weight ${name} to merge into`);
    const { out, in: inDim } = site;
    if (pair.A.data.length !== r * inDim || pair.B.data.length !== out * r || base.data.length !== out * inDim) {
      throw new SqlError('22023', `adapter module ${path}: shapes A [${pair.A.shape.join(', ')}], B [${pair.B.shape.join(', ')}] do not fit weight [${base.shape.join(', ')}] with r = ${r}`);
    }
    const W = Float32Array.from(base.data);
    const A = pair.A.data;
    const B = pair.B.data;
    // The embedding is stored [vocab, hidden], the transpose of its pair's [out = hidden, in = vocab].
    const [rowStride, colStride] = site.target === EMBED_MODULE ? [1, out] : [inDim, 1];
    for (let o = 0; o < out; o++) {
      for (let k = 0; k < r; k++) {
        const b = s * B[o * r + k]!;
        if (b === 0) continue;
        const a = k * inDim;
        for (let i = 0; i < inDim; i++) {
          const at = o * rowStride + i * colStride;
          W[at] = W[at]! + b * A[a + i]!;
        }
      }
    }
    merged.set(name, { shape: [...base.shape], data: W });
  }
  return merged;
}
