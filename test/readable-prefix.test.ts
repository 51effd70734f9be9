import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AutoTokenizer } from '@huggingface/transformers';
import { writeTestModels } from '../src/testmodels/index.js';
import { readablePrefix, type PrefixTokenizer } from '../src/runtime/providers/readable-prefix.js';

// A model that truncates its input to 512 tokens reads the same tokens from the prefix as from the
// whole text: checked with the real tokenizers of the generated models (WordPiece, byte-level BPE,
// SentencePiece unigram), on long texts of several shapes.
let dir: string;
const tokenizers = new Map<string, PrefixTokenizer>();

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'aiduck-prefix-'));
  await writeTestModels(dir);
  for (const name of ['tiny-bert-embedder', 'tiny-gpt2-generator', 'tiny-t5-summarizer']) {
    tokenizers.set(name, (await AutoTokenizer.from_pretrained(join(dir, name))) as unknown as PrefixTokenizer);
  }
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Each a little over the 64 kB below which texts are tokenized whole (T5's tokenizer overflows the
// stack on a few hundred kB, so the whole text could not be the reference beyond that).
const texts: Record<string, string> = {
  'repeated words': 'the quick brown fox jumps over the lazy dog. '.repeat(2_000),
  'leading whitespace': ' \n\t'.repeat(10_000) + 'word another, third! '.repeat(3_000),
  'long words': ('x'.repeat(150) + ' ').repeat(300) + 'tail words here '.repeat(3_000),
  'no whitespace at all': 'abcdefghij'.repeat(8_000),
  'accents and CJK': 'café naïve 東京 都市 ünïcödé 😀 '.repeat(3_000),
  'mostly punctuation': '... !!! ??? --- ,,, '.repeat(4_000),
};

describe('readablePrefix', () => {
  for (const model of ['tiny-bert-embedder', 'tiny-gpt2-generator', 'tiny-t5-summarizer']) {
    for (const [shape, text] of Object.entries(texts)) {
      it(`${model}, ${shape}: the truncated tokens of the prefix are those of the whole text`, () => {
        const tok = tokenizers.get(model)!;
        const prefix = readablePrefix(tok, text);
        const truncated = (t: string): number[] => Array.from(tok(t, { truncation: true })['input_ids']!.data as ArrayLike<bigint>, Number);
        expect(truncated(prefix)).toEqual(truncated(text));
        // Cut short, unless no whitespace gives a place to cut.
        if (shape === 'no whitespace at all') expect(prefix).toBe(text);
        else expect(prefix.length).toBeLessThan(text.length);
      });
    }
  }

  it('cuts a long text of words to a small part of it, and leaves short texts and unbroken runs whole', () => {
    const tok = tokenizers.get('tiny-bert-embedder')!;
    expect(readablePrefix(tok, texts['repeated words']!).length).toBeLessThan(texts['repeated words']!.length / 2);
    expect(readablePrefix(tok, 'short text')).toBe('short text');
    expect(readablePrefix(tok, texts['no whitespace at all']!)).toBe(texts['no whitespace at all']);
  });

  it('cuts to what a smaller limit reads (a folder\'s max_seq_length), and keeps those tokens', () => {
    const tok = tokenizers.get('tiny-bert-embedder')!;
    const text = texts['accents and CJK']!;
    const ids = (t: string): number[] => Array.from(tok(t, { truncation: true, max_length: 128 })['input_ids']!.data as ArrayLike<bigint>, Number);
    const prefix = readablePrefix(tok, text, 128);
    expect(prefix.length).toBeLessThan(readablePrefix(tok, text).length);
    expect(ids(prefix)).toEqual(ids(text));
  });
});
