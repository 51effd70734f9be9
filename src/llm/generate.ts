/**
 * Text generation with a KV cache: all prompts are prefilled in one packed pass, then every unfinished
 * row advances one token per step, its linears batched with the other rows' and its attention against
 * its own cache. Greedy at temperature 0, else temperature sampling with nucleus (top-p) filtering from
 * a seeded stream per prompt. The adapter, if any, is applied unmerged.
 */
import { SqlError } from '../errors/sql-error.js';
import { PackedCausalAttention, type Span } from './attention.js';
import { KvCache } from './kv-cache.js';
import type { LlamaModel } from './llama-model.js';
import type { LoraAdapter } from './lora-types.js';
import { SeededRandom } from './seeded-random.js';

export interface GenerateOptions {
  maxNewTokens: number;
  /** 0 (the default) picks the most likely token. */
  temperature?: number | undefined;
  /** Sample only from the most likely tokens whose probabilities add up to topP (default 1). */
  topP?: number | undefined;
  /** Seeds the sampling stream (default 0); the same seed, prompts and options give the same tokens. */
  seed?: number | undefined;
  /** End a row without emitting the token (default: the config's eos_token_id). */
  eosTokenIds?: readonly number[] | undefined;
  /** Called after each new token with the row's new tokens so far (that token included); true ends the row. */
  shouldStop?: ((row: number, tokens: number[]) => boolean) | undefined;
  /** Checked between steps; when true, generation ends and each row keeps what it has. */
  isCancelled?: (() => boolean) | undefined;
}

/** The new tokens of each prompt. */
export async function generate(model: LlamaModel, prompts: readonly (readonly number[])[], options: GenerateOptions, adapter?: LoraAdapter): Promise<number[][]> {
  const c = model.config;
  const results: number[][] = prompts.map(() => []);
  if (prompts.length === 0 || options.maxNewTokens <= 0) return results;
  let longest = 0;
  prompts.forEach((p, i) => {
    if (p.length === 0) throw new SqlError('22023', `prompt ${i + 1} has no tokens`);
    if (p.length > c.maxPositionEmbeddings) {
      throw new SqlError('22023', `prompt ${i + 1} has ${p.length} tokens, more than the model's ${c.maxPositionEmbeddings} positions`);
    }
    for (const t of p) if (!(Number.isInteger(t) && t >= 0 && t < c.vocabSize)) throw new SqlError('22023', `prompt ${i + 1} has token id ${t}, outside the vocabulary [0, ${c.vocabSize})`);
    longest = Math.max(longest, p.length);
  });
  const eos = new Set(options.eosTokenIds ?? c.eosTokenIds);
  // Each prompt draws from a stream of its own, so its answer does not depend on the batch it is in.
  const samplers = prompts.map((p) => new Sampler(options.temperature ?? 0, options.topP ?? 1, streamSeed(options.seed ?? 0, p)));
  const cache = new KvCache(c, model.rope, c.numLayers, prompts.length, Math.min(longest + options.maxNewTokens, c.maxPositionEmbeddings));

  const spans: Span[] = [];
  let total = 0;
  for (const p of prompts) {
    spans.push({ offset: total, length: p.length });
    total += p.length;
  }
  const prefill = new PackedCausalAttention(c, model.rope, spans, {
    keepTapeFrom: Infinity,
    keepProbs: false,
    onKv: (layer, slot, kh, vh) => cache.write(layer, slot, kh, vh),
  });
  const hidden = await model.hidden(Int32Array.from(prompts.flat()), prefill, adapter);
  const H = c.hiddenSize;
  const last = new Float32Array(prompts.length * H);
  spans.forEach((s, i) => last.set(hidden.subarray((s.offset + s.length - 1) * H, (s.offset + s.length) * H), i * H));
  let logits = await model.headLogits(last, prompts.length, adapter);

  /** The prompt each cache slot generates for. */
  let rows = prompts.map((_, i) => i);
  for (;;) {
    const next: number[] = [];
    const keep: number[] = [];
    rows.forEach((row, slot) => {
      const token = samplers[row]!.pick(logits.subarray(slot * c.vocabSize, (slot + 1) * c.vocabSize));
      if (eos.has(token)) return;
      const out = results[row]!;
      out.push(token);
      if (out.length >= options.maxNewTokens || cache.lengths[slot]! >= cache.capacity) return;
      if (options.shouldStop?.(row, out) === true) return;
      keep.push(slot);
      next.push(token);
    });
    if (keep.length === 0 || options.isCancelled?.() === true) break;
    if (keep.length < rows.length) {
      cache.keep(keep);
      rows = keep.map((s) => rows[s]!);
    }
    const h = await model.hidden(Int32Array.from(next), cache, adapter);
    cache.advance();
    logits = await model.headLogits(h, rows.length, adapter);
  }
  return results;
}

/** The seed of one prompt's sampling stream: the user's seed mixed with the prompt's tokens (FNV-1a). */
function streamSeed(seed: number, prompt: readonly number[]): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (const t of prompt) h = Math.imul(h ^ t, 0x01000193) >>> 0;
  return h;
}

/** Picks the next token from a row of logits. */
class Sampler {
  private readonly rng: SeededRandom;

  constructor(
    private readonly temperature: number,
    private readonly topP: number,
    seed: number,
  ) {
    this.rng = new SeededRandom(seed);
  }

  pick(logits: Float32Array): number {
    let best = 0;
    for (let i = 1; i < logits.length; i++) if (logits[i]! > logits[best]!) best = i;
    if (this.temperature <= 0) return best;
    const max = logits[best]!;
    const probs = new Float64Array(logits.length);
    let sum = 0;
    for (let i = 0; i < logits.length; i++) {
      const e = Math.exp((logits[i]! - max) / this.temperature);
      probs[i] = e;
      sum += e;
    }
    let candidates: Uint32Array;
    let mass: number;
    if (this.topP >= 1) {
      candidates = Uint32Array.from({ length: logits.length }, (_, i) => i);
      mass = sum;
    } else {
      // The smallest set of most likely tokens reaching topP (at least one), ties broken by token id.
      const order = Uint32Array.from({ length: logits.length }, (_, i) => i).sort((a, b) => probs[b]! - probs[a]! || a - b);
      let kept = 0;
      mass = 0;
      while (kept < order.length && (kept === 0 || mass < this.topP * sum)) mass += probs[order[kept++]!]!;
      candidates = order.subarray(0, kept);
    }
    let u = this.rng.next() * mass;
    for (const i of candidates) {
      u -= probs[i]!;
      if (u < 0) return i;
    }
    return candidates[candidates.length - 1]!;
  }
}
