/**
 * sentence-transformers' Pooling (and Normalize) on token states, for a padded batch as a model returns
 * it, and for SetFit's packed sentences with the gradient back to the tokens. Per mode, over the tokens
 * the mask keeps (less the prompt's, when include_prompt is false):
 *
 *   cls                   the state at position 0
 *   max                   the maximum of each channel (−1e9 when no token is kept, as sentence-transformers)
 *   mean                  the mean
 *   mean_sqrt_len_tokens  the sum divided by √(tokens)
 *   weightedmean          the mean weighted by position + 1
 *   lasttoken             the state at the last position the mask keeps
 *
 * Several modes are concatenated in that order. Sums run in float64.
 */
import type { PoolingMode, SentenceEmbedding } from './sentence-embedding.js';

/** One text's tokens: its states start at `base` (token t at (base + t)·H); `kept` lists the positions pooled, in order. */
interface Row {
  base: number;
  kept: number[];
}

const MAX_OF_NOTHING = -1e9;

function poolRow(hidden: ArrayLike<number>, H: number, row: Row, modes: readonly PoolingMode[], out: Float32Array, at: number): void {
  const acc = new Float64Array(H);
  const { base, kept } = row;
  let o = at;
  for (const mode of modes) {
    acc.fill(0);
    switch (mode) {
      case 'cls': {
        const off = base * H;
        for (let h = 0; h < H; h++) acc[h] = hidden[off + h]!;
        break;
      }
      case 'max': {
        acc.fill(kept.length ? -Infinity : MAX_OF_NOTHING);
        for (const t of kept) {
          const off = (base + t) * H;
          for (let h = 0; h < H; h++) if (hidden[off + h]! > acc[h]!) acc[h] = hidden[off + h]!;
        }
        break;
      }
      case 'mean': case 'mean_sqrt_len_tokens': case 'weightedmean': {
        const weighted = mode === 'weightedmean';
        let weightSum = 0;
        for (const t of kept) {
          const off = (base + t) * H;
          if (weighted) {
            const w = t + 1;
            weightSum += w;
            for (let h = 0; h < H; h++) acc[h] = acc[h]! + w * hidden[off + h]!;
          } else {
            weightSum += 1;
            for (let h = 0; h < H; h++) acc[h] = acc[h]! + hidden[off + h]!;
          }
        }
        const scale = 1 / (mode === 'mean_sqrt_len_tokens' ? Math.sqrt(Math.max(weightSum, 1e-9)) : Math.max(weightSum, 1e-9));
        for (let h = 0; h < H; h++) acc[h] = acc[h]! * scale;
        break;
      }
      case 'lasttoken': {
        const last = kept.at(-1);
        if (last !== undefined) {
          const off = (base + last) * H;
          for (let h = 0; h < H; h++) acc[h] = hidden[off + h]!;
        }
        break;
      }
    }
    for (let h = 0; h < H; h++) out[o + h] = acc[h]!;
    o += H;
  }
}

function normalizeInPlace(v: Float32Array): void {
  let norm = 0;
  for (let i = 0; i < v.length; i++) norm += v[i]! * v[i]!;
  // torch.nn.functional.normalize divides by max(‖v‖, 1e-12).
  const scale = 1 / Math.max(Math.sqrt(norm), 1e-12);
  for (let i = 0; i < v.length; i++) v[i] = v[i]! * scale;
}

/** The vector length of a pooling over states of H channels. */
export const pooledLength = (e: Pick<SentenceEmbedding, 'pooling'>, H: number): number => e.pooling.length * H;

/**
 * Sentence vectors of a padded batch: `hidden` [rows, tokens, H], `mask` [rows, tokens] (1 for a real
 * token), `promptTokens` tokens at the start of each text left out of the pooling (0 unless the
 * prompt is excluded).
 */
export function poolBatch(hidden: ArrayLike<number>, rows: number, tokens: number, H: number, mask: ArrayLike<number | bigint>,
  e: Pick<SentenceEmbedding, 'pooling' | 'normalize'>, promptTokens = 0): Float32Array[] {
  const out: Float32Array[] = [];
  for (let r = 0; r < rows; r++) {
    const masked: number[] = [];
    // Loose comparison: the mask is int64 (bigint) from a tokenizer, or numbers.
    for (let t = 0; t < tokens; t++) if (mask[r * tokens + t] != 0) masked.push(t);
    const v = new Float32Array(pooledLength(e, H));
    poolRow(hidden, H, { base: r * tokens, kept: masked.slice(promptTokens) }, e.pooling, v, 0);
    if (e.normalize) normalizeInPlace(v);
    out.push(v);
  }
  return out;
}

/** A sentence of a packed batch: its tokens are `length` states from token `offset`, none padding. */
export interface PackedSpan {
  offset: number;
  length: number;
}

const packedRow = ({ offset, length }: PackedSpan): Row => ({ base: offset, kept: Array.from({ length }, (_, t) => t) });

/** Pooled (not normalised) vectors of packed sentences, one after another: [spans, pooledLength]. */
export function poolSpans(hidden: Float32Array, spans: readonly PackedSpan[], H: number, modes: readonly PoolingMode[]): Float32Array {
  const D = modes.length * H;
  const out = new Float32Array(spans.length * D);
  spans.forEach((span, s) => poolRow(hidden, H, packedRow(span), modes, out, s * D));
  return out;
}

/** The gradient of the token states [T, H] from that of the pooled vectors poolSpans made. */
export function poolSpansBackward(dPooled: Float32Array, hidden: Float32Array, spans: readonly PackedSpan[], H: number, T: number, modes: readonly PoolingMode[]): Float32Array {
  const dHidden = new Float32Array(T * H);
  const D = modes.length * H;
  spans.forEach(({ offset, length }, s) => {
    modes.forEach((mode, m) => {
      const g = s * D + m * H;
      const add = (t: number, h: number, v: number): void => {
        dHidden[(offset + t) * H + h] = dHidden[(offset + t) * H + h]! + v;
      };
      switch (mode) {
        case 'cls':
          for (let h = 0; h < H; h++) add(0, h, dPooled[g + h]!);
          break;
        case 'lasttoken':
          for (let h = 0; h < H; h++) add(length - 1, h, dPooled[g + h]!);
          break;
        case 'max':
          for (let h = 0; h < H; h++) {
            let best = 0;
            for (let t = 1; t < length; t++) if (hidden[(offset + t) * H + h]! > hidden[(offset + best) * H + h]!) best = t;
            add(best, h, dPooled[g + h]!);
          }
          break;
        case 'mean': case 'mean_sqrt_len_tokens': case 'weightedmean': {
          const weightSum = mode === 'weightedmean' ? (length * (length + 1)) / 2 : length;
          const scale = mode === 'mean_sqrt_len_tokens' ? 1 / Math.sqrt(length) : 1 / weightSum;
          for (let t = 0; t < length; t++) {
            const w = (mode === 'weightedmean' ? t + 1 : 1) * scale;
            for (let h = 0; h < H; h++) add(t, h, w * dPooled[g + h]!);
          }
          break;
        }
      }
    });
  });
  return dHidden;
}

/** Pooled and, as the folder says, L2-normalised vectors of packed sentences. */
export function embedSpans(hidden: Float32Array, spans: readonly PackedSpan[], H: number, e: Pick<SentenceEmbedding, 'pooling' | 'normalize'>): Float32Array[] {
  const pooled = poolSpans(hidden, spans, H, e.pooling);
  const D = pooledLength(e, H);
  return spans.map((_, s) => {
    const v = pooled.slice(s * D, (s + 1) * D);
    if (e.normalize) normalizeInPlace(v);
    return v;
  });
}
