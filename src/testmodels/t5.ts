/**
 * tiny-t5-summarizer: a T5-style encoder-decoder (T5ForConditionalGeneration) in the two-file layout
 * optimum exports and transformers.js loads for seq2seq models:
 *
 *   onnx/encoder_model.onnx         input_ids, attention_mask [batch, enc]  →  last_hidden_state [batch, enc, d_model]
 *   onnx/decoder_model_merged.onnx  encoder_attention_mask [batch, enc], input_ids [batch, dec],
 *                                   encoder_hidden_states [batch, enc, d_model],
 *                                   past_key_values.{i}.decoder.key/value [batch, heads, past, d_kv],
 *                                   past_key_values.{i}.encoder.key/value [batch, heads, past_enc, d_kv]
 *                               →  logits [batch, dec, vocab], present.{i}.decoder.key/value,
 *                                   present.{i}.encoder.key/value
 *
 * As in T5: RMS norms before each block, no biases, ReLU feed-forward, relative position biases (here one
 * learned bias per clamped distance and head, computed once and shared by the layers of a stack),
 * unscaled dot-product attention, tied input/output embeddings with the d_model^-0.5 rescale.
 * The decoder recomputes the cross-attention keys and values from encoder_hidden_states at every step
 * (cheap at this size); its past encoder inputs are accepted so the cache layout is the usual one.
 *
 * With random weights a decoder says the same thing whatever the input, so a few fixed terms make the
 * output an extractive "summary" instead, all computed in the graph:
 * - the LM head favours pieces that occur in the input (inputPresence) and whole words in general;
 * - it penalizes pieces already generated, read from the layer-0 value cache (generatedPenalty);
 * - </s> never comes first, wins once the input's words are used up, rises past T5_EOS_AFTER, and stays
 *   chosen once chosen.
 * Greedy decoding therefore emits distinct words of the input in an order set by the weights, then stops.
 */
import { ModelGraph, NEG } from './graph.js';
import { int, ints } from '../onnx/graph.js';
import { DataType, encodeModel } from '../onnx/proto.js';
import { Prng, seedFrom } from './prng.js';
import { t5TokenizerConfig, unigramTokenizerJson, unigramVocab } from './tokenizers.js';
import type { ModelFiles } from './files.js';

export interface T5Size {
  dModel: number;
  dKv: number;
  dFf: number;
  heads: number;
  layers: number;
  decoderLayers: number;
  /** Relative distances are clamped to ±maxDistance. */
  maxDistance: number;
  layerNormEps: number;
  maxLength: number;
}

export const TINY_T5: T5Size = {
  dModel: 64,
  dKv: 16,
  dFf: 128,
  heads: 4,
  layers: 2,
  decoderLayers: 2,
  maxDistance: 16,
  layerNormEps: 1e-6,
  maxLength: 512,
};

/** From this decoder position on, the end-of-sequence logit rises by EOS_SLOPE per position. */
export const T5_EOS_AFTER = 16;
const EOS_SLOPE = 1;

const PAD_ID = 0;
const EOS_ID = 1;

const BATCH = 'batch_size';
const ENC = 'encoder_sequence_length';
const DEC = 'decoder_sequence_length';
const PAST = 'past_decoder_sequence_length';
const PAST_ENC = 'past_encoder_sequence_length';
const TOTAL = 'total_decoder_sequence_length';

/** Relative position bias [1, heads, q, k] for query positions `qPos` [q] and key positions `kPos` [k]. */
function relativeBias(g: ModelGraph, qPos: string, kPos: string, size: T5Size): string {
  const R = size.maxDistance;
  const distance = g.op('Sub', [g.op('Unsqueeze', [kPos, g.i64([0])]), g.op('Unsqueeze', [qPos, g.i64([1])])]);
  const bucket = g.op('Add', [g.op('Max', [g.op('Min', [distance, g.i64([R], [])]), g.i64([-R], [])]), g.i64([R], [])]);
  const table = g.weight('relative_attention_bias.weight', [2 * R + 1, size.heads], 0.5);
  const perHead = g.op('Transpose', [g.op('Gather', [table, bucket], { axis: int(0) })], { perm: ints([2, 0, 1]) });
  return g.op('Unsqueeze', [perHead, g.i64([0])]);
}

/** How strongly the cross-attention context (the attended input tokens) drives the decoder state. */
const CROSS_GAIN = 4;
/** The decoder's own token embeddings are scaled down so that the input, not the last token, dominates. */
const DECODER_EMBED_SCALE = 0.3;
/** Cross-attention logits are sharper than self-attention ones, so each step focuses on a few input tokens. */
const CROSS_SHARPNESS = 3;
/** Pieces whose embedding is this close (cosine) to an encoder state count as present in the input... */
const PRESENCE_THRESHOLD = 0.6;
/** ...and get up to (1 - threshold) · gain added to their logit. */
const PRESENCE_GAIN = 15;
/** Pieces already generated lose up to (1 - threshold) · this from their logit. */
const REPEAT_PENALTY = 30;
/** End of sequence wins once the input's words are used up (other pieces score around 2 + noise). */
const EOS_BIAS = 5;
/** The tied LM head's logits are scaled down so that presence and repetition terms decide most steps. */
const NEURAL_SCALE = 0.5;

function identity(n: number, gain: number): Float32Array {
  const m = new Float32Array(n * n);
  for (let i = 0; i < n; i++) m[i * n + i] = gain;
  return m;
}

function range(g: ModelGraph, length: string): string {
  return g.op('Range', [g.i64([0], []), length, g.i64([1], [])]);
}

/**
 * Query, key and value projections (no biases). T5 does not scale q·kᵀ, so the query weights are drawn
 * with the 1/√d_kv folded in; `sharpness` scales the typical attention logit.
 */
function attentionProjections(g: ModelGraph, x: string, size: T5Size, kv: string = x, sharpness = 0.5) {
  const inner = size.heads * size.dKv;
  const std = 1 / Math.sqrt(size.dModel);
  return {
    q: g.splitHeads(g.linear(x, 'q', size.dModel, inner, (std * sharpness) / Math.sqrt(size.dKv), false), size.heads, size.dKv),
    k: g.splitHeads(g.linear(kv, 'k', size.dModel, inner, std, false), size.heads, size.dKv),
    v: () => g.splitHeads(g.linear(kv, 'v', size.dModel, inner, 0.5 * std, false), size.heads, size.dKv),
  };
}

function feedForward(g: ModelGraph, h: string, size: T5Size): string {
  const x = g.rmsNorm(h, 'layer_norm', size.dModel, size.layerNormEps);
  const hidden = g.op('Relu', [g.linear(x, 'DenseReluDense.wi', size.dModel, size.dFf, 1 / Math.sqrt(size.dModel), false)]);
  return g.op('Add', [h, g.linear(hidden, 'DenseReluDense.wo', size.dFf, size.dModel, 0.5 / Math.sqrt(size.dFf), false)]);
}

function sharedEmbedding(g: ModelGraph, vocabSize: number, size: T5Size): string {
  // Each graph holds its own copy of the tied embedding; the same seed makes the copies identical.
  const saved = g.scope;
  g.scope = '';
  const rng = new Prng(seedFrom('tiny-t5-summarizer/shared'));
  const name = g.tensor('shared.weight', [vocabSize, size.dModel], rng.normals(vocabSize * size.dModel, 1));
  g.scope = saved;
  return name;
}

function encoderGraph(size: T5Size, vocabSize: number): ModelGraph {
  const g = new ModelGraph('tiny-t5-encoder', new Prng(seedFrom('tiny-t5-summarizer/encoder')));
  const inputIds = g.input('input_ids', DataType.INT64, [BATCH, ENC]);
  const attentionMask = g.input('attention_mask', DataType.INT64, [BATCH, ENC]);
  let h = g.op('Gather', [sharedEmbedding(g, vocabSize, size), inputIds], { axis: int(0) });

  g.scope = 'encoder.block.0.layer.0.SelfAttention';
  const positions = range(g, g.dim(inputIds, 1));
  const bias = g.op('Add', [relativeBias(g, positions, positions, size), g.paddingBias(attentionMask)]);
  for (let l = 0; l < size.layers; l++) {
    g.scope = `encoder.block.${l}.layer.0`;
    const x = g.rmsNorm(h, 'layer_norm', size.dModel, size.layerNormEps);
    g.scope = `encoder.block.${l}.layer.0.SelfAttention`;
    const { q, k, v } = attentionProjections(g, x, size);
    const context = g.mergeHeads(g.attention(q, k, v(), bias, 1), size.heads, size.dKv);
    h = g.op('Add', [h, g.linear(context, 'o', size.heads * size.dKv, size.dModel, 0.5 / Math.sqrt(size.dModel), false)]);
    g.scope = `encoder.block.${l}.layer.1`;
    h = feedForward(g, h, size);
  }
  g.scope = 'encoder';
  h = g.rmsNorm(h, 'final_layer_norm', size.dModel, size.layerNormEps);
  g.scope = '';
  g.output(h, 'last_hidden_state', DataType.FLOAT, [BATCH, ENC, size.dModel]);
  return g;
}

/** Logit bias per piece: whole words (▁word) up, single characters and fragments down, <pad>/<unk> off. */
function pieceBias(vocab: ReadonlyArray<[string, number]>): number[] {
  return vocab.map(([p], i) => {
    if (i === PAD_ID || p === '<unk>') return -20;
    if (i === EOS_ID) return EOS_BIAS;
    if (/^\u2581[a-z]{2,}$/.test(p)) return 2;
    return -3;
  });
}

/**
 * A boost [batch, vocab] for the pieces that occur in the input: the encoder states stay close to the
 * embeddings of their tokens (cosine ≈ 0.9 against < 0.5 for other pieces), so the largest cosine between
 * a piece's embedding and any unpadded encoder state tells whether the piece was in the input. Special
 * tokens get no boost (the input always ends with </s>), nor does the task prefix word "summarize".
 */
function inputPresence(g: ModelGraph, encoderStates: string, encoderMask: string, unitSharedT: string, vocab: ReadonlyArray<[string, number]>): string {
  const cosine = g.op('MatMul', [unit(g, encoderStates), unitSharedT]);
  const masked = g.op('Add', [cosine, g.op('Unsqueeze', [g.op('Squeeze', [g.paddingBias(encoderMask), g.i64([1, 2])]), g.i64([-1])])]);
  const best = g.op('ReduceMax', [masked], { axes: ints([1]), keepdims: int(0) });
  const strength = g.op('Mul', [g.op('Relu', [g.op('Sub', [best, g.f32([PRESENCE_THRESHOLD], [])])]), g.f32([PRESENCE_GAIN], [])]);
  const eligible = vocab.map(([p], i) => (i === PAD_ID || i === EOS_ID || p === '<unk>' || p === '\u2581summarize' ? 0 : 1));
  return g.op('Mul', [strength, g.tensor('presence_mask', [vocab.length], eligible)]);
}

/**
 * A penalty [batch, dec, vocab] for the pieces the decoder has already produced up to each position: the
 * layer-0 value cache holds the normalized embeddings of the decoder's tokens, so a cosine near 1 with a
 * piece's embedding means that piece was generated. This keeps greedy decoding from repeating itself.
 */
function generatedPenalty(g: ModelGraph, values: string, causal: string, unitSharedT: string, size: T5Size, vocabSize: number): string {
  const seen = g.op('Reshape', [g.op('Transpose', [values], { perm: ints([0, 2, 1, 3]) }), g.i64([0, 0, size.dModel])]);
  const cosine = g.op('MatMul', [unit(g, seen), unitSharedT]);
  // [batch, 1, total, vocab] + [1, dec, total, 1]: each query position only looks at itself and earlier.
  const visible = g.op('Add', [g.op('Unsqueeze', [cosine, g.i64([1])]), g.op('Unsqueeze', [causal, g.i64([0, 3])])]);
  const best = g.op('ReduceMax', [visible], { axes: ints([2]), keepdims: int(0) });
  const strength = g.op('Mul', [g.op('Relu', [g.op('Sub', [best, g.f32([PRESENCE_THRESHOLD], [])])]), g.f32([REPEAT_PENALTY], [])]);
  // Once </s> has been produced it is favoured instead: transformers.js keeps stepping finished rows of
  // a batch until every row is done, and those rows should keep producing </s> (dropped when decoding).
  const sign = Array.from({ length: vocabSize }, (_, i) => (i === EOS_ID ? -1 : 1));
  return g.op('Mul', [strength, g.tensor('repeat_sign', [vocabSize], sign)]);
}

function unit(g: ModelGraph, x: string): string {
  return g.op('Div', [x, g.op('ReduceL2', [x], { axes: ints([-1]), keepdims: int(1) })]);
}

function decoderGraph(size: T5Size, vocab: ReadonlyArray<[string, number]>): ModelGraph {
  const V = vocab.length;
  const g = new ModelGraph('tiny-t5-decoder-merged', new Prng(seedFrom('tiny-t5-summarizer/decoder')));
  const encoderMask = g.input('encoder_attention_mask', DataType.INT64, [BATCH, ENC]);
  const inputIds = g.input('input_ids', DataType.INT64, [BATCH, DEC]);
  const encoderStates = g.input('encoder_hidden_states', DataType.FLOAT, [BATCH, ENC, size.dModel]);
  const past: Array<{ key: string; value: string }> = [];
  for (let l = 0; l < size.decoderLayers; l++) {
    past.push({
      key: g.input(`past_key_values.${l}.decoder.key`, DataType.FLOAT, [BATCH, size.heads, PAST, size.dKv]),
      value: g.input(`past_key_values.${l}.decoder.value`, DataType.FLOAT, [BATCH, size.heads, PAST, size.dKv]),
    });
    g.input(`past_key_values.${l}.encoder.key`, DataType.FLOAT, [BATCH, size.heads, PAST_ENC, size.dKv]);
    g.input(`past_key_values.${l}.encoder.value`, DataType.FLOAT, [BATCH, size.heads, PAST_ENC, size.dKv]);
  }

  const shared = sharedEmbedding(g, V, size);
  let h = g.op('Mul', [g.op('Gather', [shared, inputIds], { axis: int(0) }), g.f32([DECODER_EMBED_SCALE], [])]);

  // Self-attention bias [1, heads, dec, total]: relative positions plus the causal mask, where the
  // queries sit at absolute positions past .. past + dec - 1.
  g.scope = 'decoder.block.0.layer.0.SelfAttention';
  const seq = g.dim(inputIds, 1);
  const pastLength = g.dim(past[0]?.key ?? '', 2);
  const queryPos = g.op('Add', [range(g, seq), pastLength]);
  const keyPos = range(g, g.op('Add', [pastLength, seq]));
  const future = g.op('Greater', [g.op('Unsqueeze', [keyPos, g.i64([0])]), g.op('Unsqueeze', [queryPos, g.i64([1])])]);
  const causal = g.op('Where', [future, g.f32([NEG], []), g.f32([0], [])]);
  const selfBias = g.op('Add', [relativeBias(g, queryPos, keyPos, size), g.op('Unsqueeze', [causal, g.i64([0, 1])])]);
  g.scope = '';
  const crossBias = g.paddingBias(encoderMask);

  const outStd = 0.5 / Math.sqrt(size.dModel);
  for (let l = 0; l < size.decoderLayers; l++) {
    g.scope = `decoder.block.${l}.layer.0`;
    const x = g.rmsNorm(h, 'layer_norm', size.dModel, size.layerNormEps);
    g.scope = `decoder.block.${l}.layer.0.SelfAttention`;
    const self = attentionProjections(g, x, size);
    const layerPast = past[l];
    if (layerPast === undefined) throw new Error('missing cache input');
    const k = g.op('Concat', [layerPast.key, self.k], { axis: int(2) }, `present.${l}.decoder.key`);
    // Layer 0 keeps the (normalized) embeddings of the decoder's tokens as its values, so its cache
    // records what has been generated so far (see generatedPenalty).
    const newValues = l === 0 ? g.splitHeads(g.op('MatMul', [x, g.tensor('v.weight', [size.dModel, size.dModel], identity(size.dModel, 1))]), size.heads, size.dKv) : self.v();
    const v = g.op('Concat', [layerPast.value, newValues], { axis: int(2) }, `present.${l}.decoder.value`);
    const context = g.mergeHeads(g.attention(self.q, k, v, selfBias, 1), size.heads, size.dKv);
    h = g.op('Add', [h, g.linear(context, 'o', size.heads * size.dKv, size.dModel, outStd, false)]);

    g.scope = `decoder.block.${l}.layer.1`;
    const y = g.rmsNorm(h, 'layer_norm', size.dModel, size.layerNormEps);
    g.scope = `decoder.block.${l}.layer.1.EncDecAttention`;
    const cross = attentionProjections(g, y, size, encoderStates, CROSS_SHARPNESS);
    // Values and output projection are (scaled) identities, so the cross-attention carries the encoder
    // states, which stay close to the input tokens' embeddings, into the tied LM head: the decoder
    // mostly emits words of its input, picked by where each step attends.
    const cv0 = g.splitHeads(g.op('MatMul', [encoderStates, g.tensor('v.weight', [size.dModel, size.dModel], identity(size.dModel, 1))]), size.heads, size.dKv);
    const ck = g.op('Identity', [cross.k], {}, `present.${l}.encoder.key`);
    const cv = g.op('Identity', [cv0], {}, `present.${l}.encoder.value`);
    const crossContext = g.mergeHeads(g.attention(cross.q, ck, cv, crossBias, 1), size.heads, size.dKv);
    h = g.op('Add', [h, g.op('MatMul', [crossContext, g.tensor('o.weight', [size.dModel, size.dModel], identity(size.dModel, CROSS_GAIN))])]);

    g.scope = `decoder.block.${l}.layer.2`;
    h = feedForward(g, h, size);
  }
  g.scope = 'decoder';
  h = g.rmsNorm(h, 'final_layer_norm', size.dModel, size.layerNormEps);

  // Tied LM head: logits = (h · d_model^-0.5) · sharedᵀ, plus a fixed bias and the end-of-sequence ramp.
  g.scope = 'lm_head';
  const sharedT = g.op('Transpose', [shared], { perm: ints([1, 0]) });
  const unitSharedT = g.op('Transpose', [unit(g, shared)], { perm: ints([1, 0]) });
  let logits = g.op('MatMul', [g.op('Mul', [h, g.f32([NEURAL_SCALE / Math.sqrt(size.dModel)], [])]), sharedT]);
  logits = g.op('Add', [logits, g.tensor('bias', [V], pieceBias(vocab))]);
  logits = g.op('Add', [logits, g.op('Unsqueeze', [inputPresence(g, encoderStates, encoderMask, unitSharedT, vocab), g.i64([1])])]);
  logits = g.op('Sub', [logits, generatedPenalty(g, 'present.0.decoder.value', causal, unitSharedT, size, V)]);
  // End of sequence: never as the first token, then increasingly likely past T5_EOS_AFTER.
  const position = g.op('Cast', [queryPos], { to: int(DataType.FLOAT) });
  const late = g.op('Mul', [g.op('Relu', [g.op('Sub', [position, g.f32([T5_EOS_AFTER], [])])]), g.f32([EOS_SLOPE], [])]);
  const first = g.op('Mul', [g.op('Cast', [g.op('Equal', [queryPos, g.i64([0], [])])], { to: int(DataType.FLOAT) }), g.f32([-20], [])]);
  const eosOneHot = Array.from({ length: V }, (_, i) => (i === EOS_ID ? 1 : 0));
  const eosTerm = g.op('Unsqueeze', [g.op('Add', [late, first]), g.i64([1])]);
  logits = g.op('Add', [logits, g.op('Mul', [eosTerm, g.tensor('eos_onehot', [V], eosOneHot)])]);
  g.scope = '';

  g.output(logits, 'logits', DataType.FLOAT, [BATCH, DEC, V]);
  for (let l = 0; l < size.decoderLayers; l++) {
    g.output(`present.${l}.decoder.key`, `present.${l}.decoder.key`, DataType.FLOAT, [BATCH, size.heads, TOTAL, size.dKv]);
    g.output(`present.${l}.decoder.value`, `present.${l}.decoder.value`, DataType.FLOAT, [BATCH, size.heads, TOTAL, size.dKv]);
    g.output(`present.${l}.encoder.key`, `present.${l}.encoder.key`, DataType.FLOAT, [BATCH, size.heads, ENC, size.dKv]);
    g.output(`present.${l}.encoder.value`, `present.${l}.encoder.value`, DataType.FLOAT, [BATCH, size.heads, ENC, size.dKv]);
  }
  return g;
}

export function t5Summarizer(size: T5Size = TINY_T5): ModelFiles {
  const vocab = unigramVocab();
  return {
    'config.json': {
      architectures: ['T5ForConditionalGeneration'],
      model_type: 't5',
      is_encoder_decoder: true,
      vocab_size: vocab.length,
      d_model: size.dModel,
      d_kv: size.dKv,
      d_ff: size.dFf,
      num_heads: size.heads,
      num_layers: size.layers,
      num_decoder_layers: size.decoderLayers,
      relative_attention_num_buckets: 2 * size.maxDistance + 1,
      relative_attention_max_distance: size.maxDistance,
      feed_forward_proj: 'relu',
      dropout_rate: 0.1,
      layer_norm_epsilon: size.layerNormEps,
      initializer_factor: 1,
      pad_token_id: PAD_ID,
      eos_token_id: EOS_ID,
      decoder_start_token_id: PAD_ID,
      tie_word_embeddings: true,
      use_cache: true,
      n_positions: size.maxLength,
      task_specific_params: { summarization: { prefix: 'summarize: ' } },
      torch_dtype: 'float32',
    },
    'generation_config.json': { decoder_start_token_id: PAD_ID, eos_token_id: EOS_ID, pad_token_id: PAD_ID, do_sample: false },
    'tokenizer.json': unigramTokenizerJson(vocab),
    'tokenizer_config.json': t5TokenizerConfig(vocab, size.maxLength),
    'special_tokens_map.json': { eos_token: '</s>', unk_token: '<unk>', pad_token: '<pad>' },
    'onnx/encoder_model.onnx': encodeModel({ graph: encoderGraph(size, vocab.length).build(), docString: 'aiduck tiny T5 encoder (random weights)' }),
    'onnx/decoder_model_merged.onnx': encodeModel({
      graph: decoderGraph(size, vocab).build(),
      docString: 'aiduck tiny T5 decoder with cache (random weights)',
    }),
  };
}
