import type { Provider, RowResult, Task } from '../provider.js';

/** Models aiduck carries itself: nothing to download, deterministic, fast. */
export interface BuiltinModel {
  name: string;
  task: Task;
  dimension: number;
  description: string;
}

export const BUILTIN_MODELS: readonly BuiltinModel[] = [
  {
    name: 'hash-embed-256',
    task: 'embedding',
    dimension: 256,
    description: 'feature-hashed words and character trigrams, L2-normalised: lexical similarity with no download',
  },
];

/** FNV-1a over UTF-16 code units: stable across platforms and releases. */
function fnv1a(text: string, seed: number): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/**
 * Embeds text as a signed feature-hashing of its lower-cased words and the character trigrams of
 * each word, so texts sharing words or word pieces land close under cosine similarity.
 */
export function hashEmbed(text: string, dimension: number): Float32Array {
  const v = new Float32Array(dimension);
  const add = (feature: string, weight: number): void => {
    const h = fnv1a(feature, 0);
    v[h % dimension]! += (h & 0x80000000 ? -1 : 1) * weight;
  };
  for (const word of text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []) {
    add(`w:${word}`, 1);
    const padded = `<${word}>`;
    for (let i = 0; i + 3 <= padded.length; i++) add(`t:${padded.slice(i, i + 3)}`, 0.5);
  }
  let norm = 0;
  for (const x of v) norm += x * x;
  norm = Math.sqrt(norm);
  if (norm > 0) for (let i = 0; i < dimension; i++) v[i]! /= norm;
  return v;
}

export function createBuiltinProvider(name: string): Provider {
  const model = BUILTIN_MODELS.find((b) => b.name === name);
  if (!model) throw new Error(`unknown builtin model "${name}"`);
  return {
    embed: async (inputs): Promise<Array<RowResult<Float32Array>>> => inputs.map((t) => ({ ok: true, value: hashEmbed(t, model.dimension) })),
    // Its tokens are the words it hashes.
    countTokens: async (inputs): Promise<Array<RowResult<string>>> =>
      inputs.map((t) => ({ ok: true, value: String(t.toLowerCase().match(/[\p{L}\p{N}]+/gu)?.length ?? 0) })),
    close: async () => {},
  };
}
