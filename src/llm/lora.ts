/**
 * Creating and merging LoRA adapters. A new adapter is initialized as PEFT does: A from
 * kaiming_uniform_(a = √5), i.e. U(-1/√in, 1/√in), and B = 0, so it starts as the identity edit.
 */
import { SqlError } from '../errors/sql-error.js';
import { LINEAR_MODULES, linearShape, modulePath, type LlamaConfig, type WeightMap } from './llama-config.js';
import { loraScale, type LoraAdapter, type LoraPair, type LoraSpec } from './lora-types.js';
import { SeededRandom } from './seeded-random.js';

/**
 * A fresh adapter for every layer's target modules. A's values are drawn from one seeded stream, layer
 * by layer and, within a layer, in LINEAR_MODULES order (whatever order the spec lists them in).
 */
export function initAdapter(config: LlamaConfig, spec: LoraSpec, seed: number): LoraAdapter {
  const rng = new SeededRandom(seed);
  const modules = new Map<string, LoraPair>();
  const targets = LINEAR_MODULES.filter((m) => spec.targetModules.includes(m));
  for (let l = 0; l < config.numLayers; l++) {
    for (const m of targets) {
      const [out, inDim] = linearShape(config, m);
      const bound = 1 / Math.sqrt(inDim);
      const A = new Float32Array(spec.r * inDim);
      for (let i = 0; i < A.length; i++) A[i] = (2 * rng.next() - 1) * bound;
      modules.set(modulePath(l, m), { A: { shape: [spec.r, inDim], data: A }, B: { shape: [out, spec.r], data: new Float32Array(out * spec.r) } });
    }
  }
  return { spec, modules };
}

/**
 * Base weights with the adapter folded in: W' = W + (alpha / r) · B · A for each adapted module's
 * weight; every other tensor is shared with `weights`, not copied.
 */
export function mergeAdapter(config: LlamaConfig, weights: WeightMap, adapter: LoraAdapter): WeightMap {
  const merged: WeightMap = new Map(weights);
  const s = loraScale(adapter.spec);
  const r = adapter.spec.r;
  const paths = new Map<string, readonly [number, number]>();
  for (let l = 0; l < config.numLayers; l++) for (const m of LINEAR_MODULES) paths.set(modulePath(l, m), linearShape(config, m));
  for (const [path, { A, B }] of adapter.modules) {
    const shape = paths.get(path);
    const name = `${path}.weight`;
    const base = weights.get(name);
    if (shape === undefined || base === undefined) throw new SqlError('22023', `adapter module ${path} has no weight ${name} to merge into`);
    const [out, inDim] = shape;
    if (A.data.length !== r * inDim || B.data.length !== out * r || base.data.length !== out * inDim) {
      throw new SqlError('22023', `adapter module ${path}: shapes A [${A.shape.join(', ')}], B [${B.shape.join(', ')}] do not fit weight [${base.shape.join(', ')}] with r = ${r}`);
    }
    const W = Float32Array.from(base.data);
    for (let o = 0; o < out; o++) {
      const row = o * inDim;
      for (let k = 0; k < r; k++) {
        const b = s * B.data[o * r + k]!;
        if (b === 0) continue;
        const a = k * inDim;
        for (let i = 0; i < inDim; i++) W[row + i] = W[row + i]! + b * A.data[a + i]!;
      }
    }
    merged.set(name, { shape: [out, inDim], data: W });
  }
  return merged;
}
