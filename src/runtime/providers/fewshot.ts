import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { predict, type Head } from './fewshot/head.js';
import type { Classification, ModelSpec, Provider, RowResult } from '../provider.js';

/**
 * A fitted head (fit_classifier) over the embedding model it was fitted on: the registered embedding
 * model, or the body fine-tuned with it (SetFit), kept in the version's own folder. ai_embed on the
 * version embeds with that model; ai_classify adds the head.
 */
export function createFewShotProvider(spec: ModelSpec, embedder: (spec: ModelSpec) => Promise<Provider>): Provider {
  const head = JSON.parse(readFileSync(join(spec.location, 'head.json'), 'utf8')) as Head;
  // A fine-tuned body pools as the embedding model it was trained from (its folder says so too).
  const embedding: ModelSpec = head.body === undefined
    ? head.embedding
    : { name: spec.name, version: spec.version, task: 'embedding', provider: 'onnx', location: join(spec.location, head.body), ...(head.embedding.embedding ? { embedding: head.embedding.embedding } : {}) };
  const embed = async (inputs: string[], signal?: AbortSignal): Promise<Array<RowResult<Float32Array>>> => {
    const base = await embedder(embedding);
    if (!base.embed) throw new Error(`the head's embedding model ${embedding.name}/${embedding.version} cannot embed`);
    return base.embed(inputs, signal);
  };
  return {
    embed,
    classify: async (inputs, options): Promise<Array<RowResult<Classification>>> => {
      const vectors = await embed(inputs, options.signal);
      return vectors.map((v) => {
        if (!v.ok) return v;
        const p = predict(head, v.value);
        const order = p.map((s, i) => [s, i] as const).sort((a, b) => b[0] - a[0]);
        return { ok: true, value: { labels: order.map(([, i]) => head.labels[i]!), scores: order.map(([s]) => s) } };
      });
    },
    close: async () => {},
  };
}
