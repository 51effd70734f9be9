import type { Tensor } from '@huggingface/transformers';

/** Texts up to this long are tokenized whole. */
const WHOLE_CHARS = 64 * 1024;

/** A transformers.js tokenizer, as far as this module calls it. */
export interface PrefixTokenizer {
  (text: string, options: Record<string, unknown>): Record<string, Tensor>;
  model_max_length?: number;
}

/**
 * The part of a long text that a model truncating to `maxTokens` tokens (by default the tokenizer's
 * `model_max_length`) actually reads.
 * Tokenizing 10 MB to keep the first 512 tokens costs seconds and a gigabyte of garbage, which the
 * runtime thread then holds until V8 gets round to collecting it. The text is cut at a whitespace
 * boundary after twice as many words as the model reads; the cut is used only when it holds more
 * tokens than the model reads and a cut twice as far gives the same first tokens (so the cut does
 * not change what the model sees). Otherwise the whole text is tokenized, as before.
 */
export function readablePrefix(tokenizer: PrefixTokenizer, text: string, maxTokens = tokenizer.model_max_length): string {
  const max = maxTokens;
  if (text.length <= WHOLE_CHARS || !max || max > 100_000) return text;
  const near = endOfWord(text, 2 * max);
  if (near === null) return text;
  const far = endOfWord(text, 4 * max) ?? text.length;
  const a = ids(tokenizer, text.slice(0, near));
  if (a.length < max + 2) return text;
  const b = ids(tokenizer, text.slice(0, far));
  for (let i = 0; i < max; i++) if (a[i] !== b[i]) return text;
  return text.slice(0, near);
}

/** Where the n-th run of non-whitespace characters ends, or null when the text has fewer. */
function endOfWord(text: string, n: number): number | null {
  const word = /\S+/g;
  let m: RegExpExecArray | null = null;
  for (let i = 0; i < n; i++) {
    m = word.exec(text);
    if (!m) return null;
  }
  return m ? m.index + m[0].length : null;
}

function ids(tokenizer: PrefixTokenizer, text: string): ArrayLike<bigint | number> {
  return tokenizer(text, { add_special_tokens: false })['input_ids']!.data as ArrayLike<bigint | number>;
}
