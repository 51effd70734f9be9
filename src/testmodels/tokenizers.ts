/**
 * Tokenizers for the test models, written in the Hugging Face `tokenizers` JSON format (tokenizer.json)
 * with the tokenizer_config.json that transformers (Python) and transformers.js read next to it.
 *
 * - WordPiece (BERT): BertNormalizer (lower case, accents stripped), BertPreTokenizer, `##` continuations,
 *   [CLS] A [SEP] (B [SEP]) template. Every lower-case letter and digit is in the vocabulary both as a word
 *   start and as a `##` continuation, so any ASCII word tokenizes without [UNK].
 * - Byte-level BPE (GPT-2): merges learned deterministically from the word list; the 256 byte symbols make
 *   every string encodable and decoding exact.
 * - Unigram with Metaspace (T5 / SentencePiece style): word pieces prefixed with `▁`, scored by frequency.
 */
import { SENTENCES, SUFFIXES, WORDS } from './words.js';

export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

// ---------------------------------------------------------------------------------------------------
// WordPiece (BERT)

export const BERT_SPECIAL_TOKENS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'] as const;

const ASCII_PUNCTUATION = Array.from({ length: 128 }, (_, c) => String.fromCharCode(c)).filter((ch) =>
  /[!-/:-@[-`{-~]/.test(ch),
);
const LETTERS = 'abcdefghijklmnopqrstuvwxyz'.split('');
const DIGITS = '0123456789'.split('');

/** The WordPiece vocabulary: special tokens, punctuation, characters, `##` characters, suffixes, words. */
export function wordPieceVocab(): string[] {
  const tokens: string[] = [...BERT_SPECIAL_TOKENS, ...ASCII_PUNCTUATION, ...DIGITS, ...LETTERS];
  for (const ch of [...DIGITS, ...LETTERS]) tokens.push(`##${ch}`);
  for (const s of SUFFIXES) tokens.push(`##${s}`);
  for (const w of WORDS) if (/^[a-z]+$/.test(w)) tokens.push(w);
  return [...new Set(tokens)];
}

function addedToken(id: number, content: string): Json {
  return { id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true };
}

export function wordPieceTokenizerJson(vocab: readonly string[], maxLength: number): Json {
  const id = (t: string): number => {
    const i = vocab.indexOf(t);
    if (i < 0) throw new Error(`token ${t} is not in the vocabulary`);
    return i;
  };
  const cls = id('[CLS]');
  const sep = id('[SEP]');
  return {
    version: '1.0',
    truncation: { direction: 'Right', max_length: maxLength, strategy: 'LongestFirst', stride: 0 },
    padding: null,
    added_tokens: BERT_SPECIAL_TOKENS.map((t) => addedToken(id(t), t)),
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [
        { SpecialToken: { id: '[CLS]', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '[SEP]', type_id: 0 } },
      ],
      pair: [
        { SpecialToken: { id: '[CLS]', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '[SEP]', type_id: 0 } },
        { Sequence: { id: 'B', type_id: 1 } },
        { SpecialToken: { id: '[SEP]', type_id: 1 } },
      ],
      special_tokens: {
        '[CLS]': { id: '[CLS]', ids: [cls], tokens: ['[CLS]'] },
        '[SEP]': { id: '[SEP]', ids: [sep], tokens: ['[SEP]'] },
      },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: '[UNK]',
      continuing_subword_prefix: '##',
      max_input_chars_per_word: 100,
      vocab: Object.fromEntries(vocab.map((t, i) => [t, i])),
    },
  };
}

export function addedTokensDecoder(vocab: readonly string[], specials: readonly string[]): Json {
  return Object.fromEntries(
    specials.map((t) => {
      const i = vocab.indexOf(t);
      return [String(i), { content: t, lstrip: false, normalized: false, rstrip: false, single_word: false, special: true }];
    }),
  );
}

export function bertTokenizerConfig(vocab: readonly string[], maxLength: number): Json {
  return {
    tokenizer_class: 'BertTokenizer',
    do_lower_case: true,
    do_basic_tokenize: true,
    tokenize_chinese_chars: true,
    strip_accents: null,
    model_max_length: maxLength,
    padding_side: 'right',
    truncation_side: 'right',
    clean_up_tokenization_spaces: true,
    unk_token: '[UNK]',
    sep_token: '[SEP]',
    pad_token: '[PAD]',
    cls_token: '[CLS]',
    mask_token: '[MASK]',
    added_tokens_decoder: addedTokensDecoder(vocab, BERT_SPECIAL_TOKENS),
  };
}

export function bertSpecialTokensMap(): Json {
  return { unk_token: '[UNK]', sep_token: '[SEP]', pad_token: '[PAD]', cls_token: '[CLS]', mask_token: '[MASK]' };
}

// ---------------------------------------------------------------------------------------------------
// Byte-level BPE (GPT-2)

export const GPT2_EOS = '<|endoftext|>';

/**
 * GPT-2's reversible map from bytes to printable characters: printable Latin-1 bytes map to themselves,
 * the others (controls, space, ...) to code points from 256 up, in byte order. Returned in GPT-2's
 * vocabulary order: [byte, char] for the printable bytes first, then the remapped ones.
 */
export function byteLevelAlphabet(): Array<[number, string]> {
  const printable = (b: number): boolean => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const out: Array<[number, string]> = [];
  for (let b = 0; b < 256; b++) if (printable(b)) out.push([b, String.fromCharCode(b)]);
  let n = 0;
  for (let b = 0; b < 256; b++) if (!printable(b)) out.push([b, String.fromCharCode(256 + n++)]);
  return out;
}

/** The GPT-2 pre-tokenization pattern (the one the ByteLevel pre-tokenizer applies). */
const BYTE_LEVEL_SPLIT = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

export interface Bpe {
  /** Token strings by id. */
  vocab: string[];
  /** Merge rules, highest priority first. */
  merges: Array<[string, string]>;
}

/**
 * Learns `numMerges` byte-level BPE merges from a weighted corpus: at each step the most frequent adjacent
 * pair is merged (ties broken by the pair's text, so the result is the same everywhere).
 */
export function trainByteLevelBpe(corpus: ReadonlyArray<[string, number]>, numMerges: number, specials: readonly string[]): Bpe {
  const alphabet = byteLevelAlphabet();
  const vocab = alphabet.map(([, ch]) => ch);
  const idOfByte = new Map(alphabet.map(([b], i) => [b, i]));
  const encoder = new TextEncoder();
  const counts = new Map<string, number>();
  for (const [text, weight] of corpus) {
    for (const piece of text.match(BYTE_LEVEL_SPLIT) ?? []) counts.set(piece, (counts.get(piece) ?? 0) + weight);
  }
  const words = [...counts.entries()]
    .sort((a, b) => (a[0] < b[0] ? -1 : 1))
    .map(([w, count]) => ({ symbols: Array.from(encoder.encode(w), (b) => idOfByte.get(b) ?? 0), count }));

  // Pair counts are kept up to date incrementally: a merge only touches the words that contain the pair.
  const KEY = 1 << 20;
  const pairCounts = new Map<number, number>();
  const pairWords = new Map<number, Set<number>>();
  const addPairs = (wi: number, sign: 1 | -1): void => {
    const w = words[wi];
    if (w === undefined) return;
    for (let i = 0; i + 1 < w.symbols.length; i++) {
      const key = (w.symbols[i] ?? 0) * KEY + (w.symbols[i + 1] ?? 0);
      pairCounts.set(key, (pairCounts.get(key) ?? 0) + sign * w.count);
      if (sign > 0) {
        let set = pairWords.get(key);
        if (set === undefined) pairWords.set(key, (set = new Set()));
        set.add(wi);
      }
    }
  };
  words.forEach((_, wi) => addPairs(wi, 1));

  const pairText = (key: number): string => `${vocab[Math.floor(key / KEY)]} ${vocab[key % KEY]}`;
  const merges: Array<[string, string]> = [];
  for (let m = 0; m < numMerges; m++) {
    let best = -1;
    let bestCount = 1;
    for (const [key, c] of pairCounts) {
      if (c > bestCount || (c === bestCount && best >= 0 && pairText(key) < pairText(best))) {
        best = key;
        bestCount = c;
      }
    }
    if (best < 0) break;
    const a = Math.floor(best / KEY);
    const b = best % KEY;
    const merged = vocab.length;
    merges.push([vocab[a] ?? '', vocab[b] ?? '']);
    vocab.push((vocab[a] ?? '') + (vocab[b] ?? ''));
    for (const wi of pairWords.get(best) ?? []) {
      const w = words[wi];
      if (w === undefined) continue;
      addPairs(wi, -1);
      const s = w.symbols;
      for (let i = 0; i + 1 < s.length; i++) if (s[i] === a && s[i + 1] === b) s.splice(i, 2, merged);
      addPairs(wi, 1);
    }
    pairWords.delete(best);
    for (const [key, c] of pairCounts) if (c <= 0) pairCounts.delete(key);
  }
  vocab.push(...specials);
  return { vocab, merges };
}

/** The default corpus: the word list (earlier words weigh more), a few capitalized forms, some sentences. */
export function defaultBpeCorpus(): Array<[string, number]> {
  const corpus: Array<[string, number]> = [];
  WORDS.forEach((w, rank) => {
    const weight = Math.max(2, Math.round(400 / (10 + rank)));
    corpus.push([` ${w}`, weight * 3]);
    corpus.push([w, weight]);
    if (rank < 150) corpus.push([` ${w[0]?.toUpperCase()}${w.slice(1)}`, weight]);
  });
  for (const s of SENTENCES) corpus.push([s, 20]);
  return corpus;
}

export function byteLevelBpeTokenizerJson(bpe: Bpe, specials: readonly string[]): Json {
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: specials.map((t) => addedToken(bpe.vocab.indexOf(t), t)),
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: '',
      end_of_word_suffix: '',
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab: Object.fromEntries(bpe.vocab.map((t, i) => [t, i])),
      merges: bpe.merges.map(([a, b]) => `${a} ${b}`),
    },
  };
}

/** A plain "role: content" chat format, one message per line, so chat-style inputs work too. */
export const CHAT_TEMPLATE =
  "{% for message in messages %}{{ message['role'] }}: {{ message['content'] }}\n{% endfor %}" +
  "{% if add_generation_prompt %}assistant:{% endif %}";

export function gpt2TokenizerConfig(bpe: Bpe, maxLength: number): Json {
  return {
    tokenizer_class: 'GPT2Tokenizer',
    model_max_length: maxLength,
    add_bos_token: false,
    add_prefix_space: false,
    bos_token: GPT2_EOS,
    eos_token: GPT2_EOS,
    unk_token: GPT2_EOS,
    pad_token: GPT2_EOS,
    padding_side: 'left',
    clean_up_tokenization_spaces: false,
    errors: 'replace',
    chat_template: CHAT_TEMPLATE,
    added_tokens_decoder: addedTokensDecoder(bpe.vocab, [GPT2_EOS]),
  };
}

/** merges.txt as the slow GPT-2 tokenizer reads it. */
export function mergesTxt(bpe: Bpe): string {
  return ['#version: 0.2', ...bpe.merges.map(([a, b]) => `${a} ${b}`)].join('\n') + '\n';
}

// ---------------------------------------------------------------------------------------------------
// Unigram with Metaspace (T5)

export const T5_SPECIAL_TOKENS = ['<pad>', '</s>', '<unk>'] as const;
const METASPACE = '\u2581';

/**
 * The Unigram vocabulary: [piece, log-probability]. Whole words carry a `▁` prefix; single characters (with
 * and without `▁`) and suffixes let any ASCII text be segmented. Scores fall with rank, so frequent words
 * are preferred over spelling a word out.
 */
export function unigramVocab(): Array<[string, number]> {
  const pieces: Array<[string, number]> = T5_SPECIAL_TOKENS.map((t) => [t, 0]);
  const seen = new Set<string>(T5_SPECIAL_TOKENS);
  const add = (piece: string, score: number): void => {
    if (seen.has(piece)) return;
    seen.add(piece);
    pieces.push([piece, score]);
  };
  add(METASPACE, -2);
  WORDS.forEach((w, rank) => add(`${METASPACE}${w}`, -3 - Math.log(1 + rank / 10)));
  SUFFIXES.forEach((s, rank) => add(s, -6 - rank / 100));
  for (const ch of [...LETTERS, ...DIGITS, ...ASCII_PUNCTUATION]) {
    add(`${METASPACE}${ch}`, -9);
    add(ch, -10);
  }
  for (const ch of LETTERS) add(ch.toUpperCase(), -11);
  return pieces;
}

export function unigramTokenizerJson(vocab: ReadonlyArray<[string, number]>): Json {
  const id = (t: string): number => vocab.findIndex(([p]) => p === t);
  const eos = id('</s>');
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: T5_SPECIAL_TOKENS.map((t) => addedToken(id(t), t)),
    normalizer: {
      type: 'Sequence',
      normalizers: [{ type: 'Replace', pattern: { Regex: ' {2,}' }, content: ' ' }],
    },
    pre_tokenizer: { type: 'Metaspace', replacement: METASPACE, prepend_scheme: 'always', split: true },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '</s>', type_id: 0 } }],
      pair: [
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '</s>', type_id: 0 } },
        { Sequence: { id: 'B', type_id: 0 } },
        { SpecialToken: { id: '</s>', type_id: 0 } },
      ],
      special_tokens: { '</s>': { id: '</s>', ids: [eos], tokens: ['</s>'] } },
    },
    decoder: { type: 'Metaspace', replacement: METASPACE, prepend_scheme: 'always', split: true },
    model: { type: 'Unigram', unk_id: id('<unk>'), vocab: vocab.map(([p, s]) => [p, s]), byte_fallback: false },
  };
}

export function t5TokenizerConfig(vocab: ReadonlyArray<[string, number]>, maxLength: number): Json {
  return {
    tokenizer_class: 'T5Tokenizer',
    model_max_length: maxLength,
    eos_token: '</s>',
    unk_token: '<unk>',
    pad_token: '<pad>',
    extra_ids: 0,
    additional_special_tokens: [],
    clean_up_tokenization_spaces: false,
    added_tokens_decoder: addedTokensDecoder(
      vocab.map(([p]) => p),
      T5_SPECIAL_TOKENS,
    ),
  };
}
