/**
 * Weights split as transformers' save_pretrained splits a checkpoint above its max_shard_size:
 * tensors in order, a new shard whenever the next one would not fit (a tensor larger than the limit
 * gets a shard of its own), files model-0000i-of-0000n.safetensors, and model.safetensors.index.json
 * mapping every tensor to its shard (keys sorted, the tensors' total byte size in its metadata).
 */
import type { WeightMap } from '../llm/llama-config.js';
import { SAFETENSORS_INDEX_FILE, serializeSafetensors } from '../llm/safetensors.js';
import type { ModelFiles } from './files.js';

const shardName = (i: number, n: number): string => `model-${String(i + 1).padStart(5, '0')}-of-${String(n).padStart(5, '0')}.safetensors`;

export function shardedSafetensors(weights: WeightMap, maxShardBytes: number, metadata: Record<string, string> = {}): ModelFiles {
  const shards: WeightMap[] = [];
  let current: WeightMap = new Map();
  let size = 0;
  let total = 0;
  for (const [name, t] of weights) {
    const bytes = t.data.byteLength;
    if (current.size > 0 && size + bytes > maxShardBytes) {
      shards.push(current);
      current = new Map();
      size = 0;
    }
    current.set(name, t);
    size += bytes;
    total += bytes;
  }
  if (current.size > 0) shards.push(current);
  const files: ModelFiles = {};
  const weightMap: Record<string, string> = {};
  shards.forEach((shard, i) => {
    const file = shardName(i, shards.length);
    files[file] = serializeSafetensors(shard, metadata);
    for (const name of shard.keys()) weightMap[name] = file;
  });
  const sorted = Object.fromEntries(Object.entries(weightMap).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  files[SAFETENSORS_INDEX_FILE] = { metadata: { total_size: total }, weight_map: sorted };
  return files;
}
