/**
 * BERT-style test models: a sentence embedder (BertModel → last_hidden_state) and an NLI classifier
 * (BertForSequenceClassification → logits over contradiction / neutral / entailment), both with the
 * WordPiece tokenizer from tokenizers.ts.
 *
 * The encoder is a real post-LayerNorm BERT: word + position + token-type embeddings, then per layer
 * multi-head self-attention with the padding mask, residual + LayerNorm, a GELU feed-forward block,
 * residual + LayerNorm. Word embeddings are large next to the position and type embeddings and the
 * residual path dominates, so mean-pooled vectors behave like a bag of words: texts that share words are
 * closer than texts that do not.
 */
import { ModelGraph } from './graph.js';
import { int, ints } from '../onnx/graph.js';
import { DataType, encodeModel } from '../onnx/proto.js';
import { Prng, seedFrom } from './prng.js';
import {
  bertSpecialTokensMap,
  bertTokenizerConfig,
  wordPieceTokenizerJson,
  wordPieceVocab,
  type Json,
} from './tokenizers.js';
import { STOPWORDS, TOPICS } from './words.js';
import type { ModelFiles } from './files.js';
import { parseBertConfig } from '../llm/bert-config.js';
import { bertWeightsFromOnnx } from '../llm/bert-weights.js';
import { serializeSafetensors } from '../llm/safetensors.js';
import type { PoolingMode } from '../llm/sentence-embedding.js';

export interface BertSize {
  hidden: number;
  layers: number;
  heads: number;
  intermediate: number;
  maxPositions: number;
  typeVocabSize: number;
  layerNormEps: number;
}

export const TINY_BERT: BertSize = {
  hidden: 64,
  layers: 2,
  heads: 4,
  intermediate: 128,
  maxPositions: 512,
  typeVocabSize: 2,
  layerNormEps: 1e-12,
};

const BATCH = 'batch_size';
const SEQ = 'sequence_length';

interface EncoderInputs {
  inputIds: string;
  attentionMask: string;
  tokenTypeIds: string;
}

function declareInputs(g: ModelGraph): EncoderInputs {
  return {
    inputIds: g.input('input_ids', DataType.INT64, [BATCH, SEQ]),
    attentionMask: g.input('attention_mask', DataType.INT64, [BATCH, SEQ]),
    tokenTypeIds: g.input('token_type_ids', DataType.INT64, [BATCH, SEQ]),
  };
}

/** The BERT encoder; returns the final hidden states [batch, seq, hidden]. */
function encoder(g: ModelGraph, size: BertSize, vocabSize: number, x: EncoderInputs): string {
  const H = size.hidden;
  const headDim = H / size.heads;

  g.scope = 'embeddings';
  const words = g.op('Gather', [g.weight('word_embeddings.weight', [vocabSize, H], 1), x.inputIds], { axis: int(0) });
  const positionIds = g.op('Range', [g.i64([0], []), g.dim(x.inputIds, 1), g.i64([1], [])]);
  const positions = g.op('Gather', [g.weight('position_embeddings.weight', [size.maxPositions, H], 0.1), positionIds], { axis: int(0) });
  const types = g.op('Gather', [g.weight('token_type_embeddings.weight', [size.typeVocabSize, H], 0.1), x.tokenTypeIds], { axis: int(0) });
  let h = g.layerNorm(g.op('Add', [g.op('Add', [words, positions]), types]), 'LayerNorm', H, size.layerNormEps);

  g.scope = '';
  const maskBias = g.paddingBias(x.attentionMask);
  const std = (fanIn: number): number => 0.5 / Math.sqrt(fanIn);

  for (let l = 0; l < size.layers; l++) {
    g.scope = `encoder.layer.${l}`;
    const q = g.splitHeads(g.linear(h, 'attention.self.query', H, H, std(H)), size.heads, headDim);
    const k = g.splitHeads(g.linear(h, 'attention.self.key', H, H, std(H)), size.heads, headDim);
    const v = g.splitHeads(g.linear(h, 'attention.self.value', H, H, std(H)), size.heads, headDim);
    const context = g.mergeHeads(g.attention(q, k, v, maskBias, 1 / Math.sqrt(headDim)), size.heads, headDim);
    const attnOut = g.linear(context, 'attention.output.dense', H, H, std(H));
    h = g.layerNorm(g.op('Add', [attnOut, h]), 'attention.output.LayerNorm', H, size.layerNormEps);
    const inter = g.gelu(g.linear(h, 'intermediate.dense', H, size.intermediate, std(H)));
    const out = g.linear(inter, 'output.dense', size.intermediate, H, std(size.intermediate));
    h = g.layerNorm(g.op('Add', [out, h]), 'output.LayerNorm', H, size.layerNormEps);
  }
  g.scope = '';
  return h;
}

function bertConfig(size: BertSize, vocabSize: number, architecture: string, extra: Record<string, Json>): Json {
  return {
    architectures: [architecture],
    model_type: 'bert',
    vocab_size: vocabSize,
    hidden_size: size.hidden,
    num_hidden_layers: size.layers,
    num_attention_heads: size.heads,
    intermediate_size: size.intermediate,
    hidden_act: 'gelu',
    hidden_dropout_prob: 0.1,
    attention_probs_dropout_prob: 0.1,
    max_position_embeddings: size.maxPositions,
    type_vocab_size: size.typeVocabSize,
    initializer_range: 0.02,
    layer_norm_eps: size.layerNormEps,
    pad_token_id: 0,
    position_embedding_type: 'absolute',
    use_cache: true,
    torch_dtype: 'float32',
    ...extra,
  };
}

function tokenizerFiles(vocab: readonly string[], maxLength: number): ModelFiles {
  return {
    'tokenizer.json': wordPieceTokenizerJson(vocab, maxLength),
    'tokenizer_config.json': bertTokenizerConfig(vocab, maxLength),
    'special_tokens_map.json': bertSpecialTokensMap(),
    'vocab.txt': vocab.join('\n') + '\n',
  };
}

/** How a sentence-transformers folder says to pool (modules.json and the module configs beside it). */
export interface SentenceTransformerLayout {
  pooling: readonly PoolingMode[];
  /** A Normalize module after the Pooling. */
  normalize: boolean;
  includePrompt?: boolean;
  /** config_sentence_transformers.json's default prompt (named "default"). */
  defaultPrompt?: string;
  maxSeqLength?: number;
  doLowerCase?: boolean;
}

const POOLING_KEYS: Record<PoolingMode, string> = {
  cls: 'pooling_mode_cls_token',
  max: 'pooling_mode_max_tokens',
  mean: 'pooling_mode_mean_tokens',
  mean_sqrt_len_tokens: 'pooling_mode_mean_sqrt_len_tokens',
  weightedmean: 'pooling_mode_weightedmean_tokens',
  lasttoken: 'pooling_mode_lasttoken',
};

/** The files sentence-transformers saves beside a Transformer's: modules.json, 1_Pooling/config.json, its two configs. */
export function sentenceTransformerFiles(hidden: number, st: SentenceTransformerLayout): ModelFiles {
  return {
    'modules.json': [
      { idx: 0, name: '0', path: '', type: 'sentence_transformers.models.Transformer' },
      { idx: 1, name: '1', path: '1_Pooling', type: 'sentence_transformers.models.Pooling' },
      ...(st.normalize ? [{ idx: 2, name: '2', path: '2_Normalize', type: 'sentence_transformers.models.Normalize' }] : []),
    ],
    '1_Pooling/config.json': {
      word_embedding_dimension: hidden,
      ...Object.fromEntries(Object.entries(POOLING_KEYS).map(([mode, key]) => [key, st.pooling.includes(mode as PoolingMode)])),
      include_prompt: st.includePrompt ?? true,
    },
    'sentence_bert_config.json': { max_seq_length: st.maxSeqLength ?? 512, do_lower_case: st.doLowerCase ?? false },
    'config_sentence_transformers.json': {
      model_type: 'SentenceTransformer',
      prompts: st.defaultPrompt === undefined ? {} : { default: st.defaultPrompt },
      default_prompt_name: st.defaultPrompt === undefined ? null : 'default',
      similarity_fn_name: 'cosine',
    },
  };
}

/**
 * tiny-bert-embedder: BertModel with output last_hidden_state [batch, seq, hidden]. With `safetensors`,
 * the folder also holds the same weights as model.safetensors under transformers' names, as
 * sentence-transformers repositories ship both; with `sentenceTransformers`, the modules that say how
 * to pool.
 */
export function bertEmbedder(size: BertSize = TINY_BERT, options: { safetensors?: boolean; sentenceTransformers?: SentenceTransformerLayout } = {}): ModelFiles {
  const vocab = wordPieceVocab();
  const g = new ModelGraph('tiny-bert-embedder', new Prng(seedFrom('tiny-bert-embedder')));
  const h = encoder(g, size, vocab.length, declareInputs(g));
  g.output(h, 'last_hidden_state', DataType.FLOAT, [BATCH, SEQ, size.hidden]);
  const config = bertConfig(size, vocab.length, 'BertModel', {});
  const onnx = encodeModel({ graph: g.build(), docString: 'aiduck tiny BERT embedder (random weights)' });
  const files: ModelFiles = { 'config.json': config, ...tokenizerFiles(vocab, size.maxPositions), 'onnx/model.onnx': onnx };
  if (options.safetensors) files['model.safetensors'] = serializeSafetensors(bertWeightsFromOnnx(onnx, parseBertConfig(config)), { format: 'pt' });
  if (options.sentenceTransformers) Object.assign(files, sentenceTransformerFiles(size.hidden, options.sentenceTransformers));
  return files;
}

export const NLI_LABELS = ['contradiction', 'neutral', 'entailment'] as const;

/**
 * How far the logits move with word overlap: logits += overlap · SLOPE + OFFSET, where overlap is the
 * share of the hypothesis' content words that also occur in the premise (0 when there is no pair).
 */
const OVERLAP_SLOPE = [-4, -1, 4];
const OVERLAP_OFFSET = [1, 0.5, -2];
/** A hypothesis word that shares a topic group with a premise word counts as this much of a match. */
const TOPIC_MATCH = 0.8;

/**
 * tiny-nli-classifier: the encoder, BERT's pooler (tanh dense on [CLS]) and a 3-way classifier, plus a
 * deterministic lexical-overlap term computed in the graph from input_ids and token_type_ids, so that
 * zero-shot classification prefers labels whose words (or words of the same topic group, see TOPICS in
 * words.ts) occur in the text.
 */
export function nliClassifier(size: BertSize = TINY_BERT): ModelFiles {
  const vocab = wordPieceVocab();
  const g = new ModelGraph('tiny-nli-classifier', new Prng(seedFrom('tiny-nli-classifier')));
  const x = declareInputs(g);
  const h = encoder(g, size, vocab.length, x);
  const H = size.hidden;

  g.scope = 'bert.pooler';
  const cls = g.op('Gather', [h, g.i64([0], [])], { axis: int(1) });
  const pooled = g.op('Tanh', [g.linear(cls, 'dense', H, H, 1 / Math.sqrt(H))]);
  g.scope = 'classifier';
  const neural = g.linear(pooled, 'head', H, NLI_LABELS.length, 0.1 / Math.sqrt(H));

  // Lexical overlap between segment A (premise) and segment B (hypothesis), over content-word tokens.
  g.scope = 'overlap';
  const contentTable = g.tensor(
    'content_words',
    [vocab.length],
    vocab.map((t) => (/^[a-z]{2,}$/.test(t) && !STOPWORDS.has(t) ? 1 : 0)),
  );
  const content = g.op('Gather', [contentTable, x.inputIds], { axis: int(0) });
  const present = g.op('Mul', [content, g.op('Cast', [x.attentionMask], { to: int(DataType.FLOAT) })]);
  const segB = g.op('Cast', [x.tokenTypeIds], { to: int(DataType.FLOAT) });
  const inA = g.op('Mul', [present, g.op('Sub', [g.f32([1], []), segB])]);
  const inB = g.op('Mul', [present, segB]);
  const same = g.op('Cast', [g.op('Equal', [g.op('Unsqueeze', [x.inputIds, g.i64([2])]), g.op('Unsqueeze', [x.inputIds, g.i64([1])])])], {
    to: int(DataType.FLOAT),
  });
  const exact = g.op('ReduceMax', [g.op('Mul', [same, g.op('Unsqueeze', [inA, g.i64([1])])])], { axes: ints([2]), keepdims: int(0) });
  // A different word of the same topic group counts as a partial match.
  const topicNames = Object.keys(TOPICS);
  const topicTable = new Float32Array(vocab.length * topicNames.length);
  topicNames.forEach((topic, t) => {
    for (const w of TOPICS[topic] ?? []) {
      const i = vocab.indexOf(w);
      if (i >= 0) topicTable[i * topicNames.length + t] = 1;
    }
  });
  const topicOf = g.op('Gather', [g.tensor('topics', [vocab.length, topicNames.length], topicTable), x.inputIds], { axis: int(0) });
  const topicsOfA = g.op('ReduceMax', [g.op('Mul', [topicOf, g.op('Unsqueeze', [inA, g.i64([2])])])], { axes: ints([1]), keepdims: int(1) });
  const topical = g.op('ReduceMax', [g.op('Mul', [topicOf, topicsOfA])], { axes: ints([2]), keepdims: int(0) });
  const matched = g.op('Max', [exact, g.op('Mul', [topical, g.f32([TOPIC_MATCH], [])])]);
  const covered = g.op('ReduceSum', [g.op('Mul', [matched, inB]), g.i64([1])], { keepdims: int(0) });
  const total = g.op('ReduceSum', [inB, g.i64([1])], { keepdims: int(0) });
  const overlap = g.op('Div', [covered, g.op('Max', [total, g.f32([1], [])])]);
  const lexical = g.op('Add', [g.op('Mul', [g.op('Unsqueeze', [overlap, g.i64([1])]), g.f32(OVERLAP_SLOPE, [1, 3])]), g.f32(OVERLAP_OFFSET, [1, 3])]);
  g.scope = '';
  g.output(g.op('Add', [neural, lexical]), 'logits', DataType.FLOAT, [BATCH, NLI_LABELS.length]);

  const id2label = Object.fromEntries(NLI_LABELS.map((l, i) => [String(i), l]));
  const label2id = Object.fromEntries(NLI_LABELS.map((l, i) => [l, i]));
  return {
    'config.json': bertConfig(size, vocab.length, 'BertForSequenceClassification', {
      id2label,
      label2id,
      problem_type: 'single_label_classification',
      classifier_dropout: null,
    }),
    ...tokenizerFiles(vocab, size.maxPositions),
    'onnx/model.onnx': encodeModel({ graph: g.build(), docString: 'aiduck tiny NLI classifier (random weights + word-overlap term)' }),
  };
}
