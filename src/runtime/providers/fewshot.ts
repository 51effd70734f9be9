import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { predict, type Head } from './fewshot/head.js';
import type { Classification, ModelSpec, Provider, RowResult } from '../provider.js';

/** A fitted head (fit_classifier) over the embedding model it was fitted on. */
export function createFewShotProvider(spec: ModelSpec, embedder: (spec: ModelSpec) => Promise<Provider>): Provider {
  const head = JSON.parse(readFileSync(join(spec.location, 'head.json'), 'utf8')) as Head;
  return {
    classify: async (inputs, options): Promise<Array<RowResult<Classification>>> => {
      const base = await embedder(head.embedding);
      if (!base.embed) throw new Error(`the head's embedding model ${head.embedding.name}/${head.embedding.version} cannot embed`);
      const vectors = await base.embed(inputs, options.signal);
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
