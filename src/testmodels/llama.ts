/**
 * tiny-llama-chat: a Llama-architecture chat model (LlamaForCausalLM) in the Hugging Face layout, with
 * float32 weights in model.safetensors and a ChatML byte-level BPE tokenizer; no ONNX files. It is the
 * base model aiduck fine-tunes with LoRA and serves with its own runtime. llamaModelFiles builds the same
 * kind of folder at any shape (e.g. SMOLLM_135M for benchmarks).
 *
 * Weights are seeded random normals. So that the untrained model's greedy output reads as words, every
 * token gets a fixed logit bias (Llama's LM head has no bias term, so it is carried by the weights): channel
 * 0 of every token embedding holds the same constant, no layer writes into channel 0 (row 0 of o_proj and
 * down_proj is zero), so after the final norm channel 0 is positive and nearly constant, and column 0 of
 * lm_head holds each token's bias. Whole words of the corpus (after a space) are favoured; <|im_end|> sits
 * a little below them, so the base model does not end its turn at once, yet fine-tuning can teach it to.
 * With tied embeddings (SMOLLM_135M) column 0 is the embedding's, so there is no per-word bias, but the
 * rows that pad the vocabulary past the tokenizer's get a very negative channel 0 and are never predicted.
 *
 * A LlamaLayout picks the rotary scaling and how the folder is written: as transformers 4 saved it
 * (rope_theta + rope_scaling, the chat template in tokenizer_config.json) or as transformers 5 does
 * (rope_parameters, the chat template only in chat_template.jinja, eos ids listed in generation_config.json);
 * the weights are the same either way, in one model.safetensors or, with maxShardBytes, in shards.
 */
import type { Tensor, WeightMap } from '../llm/llama-config.js';
import { serializeSafetensors } from '../llm/safetensors.js';
import type { ModelFiles } from './files.js';
import { shardedSafetensors } from './shards.js';
import { CHATML_SPECIAL_TOKENS, CHAT_WORDS, END_OF_TEXT, IM_END, IM_START, chatTokenizerFiles, tokenId, trainChatBpe } from './llama-tokenizer.js';
import { Prng, seedFrom } from './prng.js';
import type { Bpe, Json } from './tokenizers.js';

export interface LlamaSize {
  hidden: number;
  layers: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  intermediate: number;
  /** config.json's vocab_size: null for the tokenizer's; a larger value pads with rows never predicted. */
  vocab: number | null;
  tiedEmbeddings: boolean;
  maxPositions: number;
  ropeTheta: number;
  /** BPE merges learned for the tokenizer. */
  merges: number;
}

export const TINY_LLAMA: LlamaSize = {
  hidden: 64,
  layers: 2,
  heads: 4,
  kvHeads: 2,
  headDim: 16,
  intermediate: 128,
  vocab: null,
  tiedEmbeddings: false,
  maxPositions: 512,
  ropeTheta: 10000,
  /** 256 bytes + 1021 merges + 3 special tokens = 1280 tokens. */
  merges: 1021,
};

/** The shape of SmolLM-135M (about 134.5M parameters), for benchmarks. */
export const SMOLLM_135M: LlamaSize = {
  hidden: 576,
  layers: 30,
  heads: 9,
  kvHeads: 3,
  headDim: 64,
  intermediate: 1536,
  vocab: 49152,
  tiedEmbeddings: true,
  maxPositions: 2048,
  ropeTheta: 10000,
  merges: TINY_LLAMA.merges,
};

/** A rope type and its parameters as config.json spells them (yarn is written only to be refused). */
export type LlamaRope =
  | { type: 'default' }
  | { type: 'linear' | 'dynamic'; factor: number }
  | { type: 'llama3'; factor: number; lowFreqFactor: number; highFreqFactor: number; originalMaxPositionEmbeddings: number }
  | { type: 'yarn'; factor: number; originalMaxPositionEmbeddings: number };

export interface LlamaLayout {
  /** Written as transformers 5 saves a model (default: as transformers 4 did). */
  transformers5?: boolean;
  rope?: LlamaRope;
  /** Split the weights into shards of at most this many bytes, with model.safetensors.index.json (default: one model.safetensors). */
  maxShardBytes?: number;
}

const RMS_NORM_EPS = 1e-5;
/** Channel 0 of every token embedding, and so of the residual stream (see the file comment). */
const BIAS_CHANNEL_VALUE = 0.5;
/** Channel 0 of the embeddings of padding rows; with tied embeddings, their logits fall by about 8. */
const PADDING_CHANNEL_VALUE = -4;
/** Roughly what that channel becomes after the final RMSNorm; column 0 of lm_head is bias / this. */
const BIAS_CHANNEL_NORMALIZED = 2;

/** Logit bias per token id; rows past the tokenizer's vocabulary are padding. */
function tokenBias(bpe: Bpe, vocabSize: number): Float32Array {
  const bias = new Float32Array(vocabSize).fill(-8);
  bpe.vocab.forEach((t, i) => {
    if (t === IM_END) bias[i] = -0.5;
    else if ((CHATML_SPECIAL_TOKENS as readonly string[]).includes(t)) bias[i] = -3;
    else if (t.startsWith('\u0120') && CHAT_WORDS.has(t.slice(1))) bias[i] = 1.5;
    else if (/^[.,?!]$/.test(t)) bias[i] = 0.5;
    else if (i < 256) bias[i] = /^[a-z0-9]$/.test(t) ? -0.5 : -2;
    else bias[i] = 0;
  });
  return bias;
}

/**
 * 65,536 standard normal values to draw weights from. A fast xorshift generator picks from the pool, so a
 * 135M-parameter model takes a fraction of a second; Box–Muller per value (log, sqrt, sin, cos) takes seconds.
 */
let normalPool: Float32Array | null = null;

function fillNormal(out: Float32Array, std: number, seed: number): void {
  normalPool ??= new Prng(seedFrom('llama:normal-pool')).normals(1 << 16, 1);
  const pool = normalPool;
  let state = seed | 0 || 1;
  for (let i = 0; i < out.length; i += 2) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    out[i] = pool[state & 0xffff]! * std;
    if (i + 1 < out.length) out[i + 1] = pool[state >>> 16]! * std;
  }
}

function normalTensor(name: string, shape: number[], std: number): Tensor {
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  fillNormal(data, std, seedFrom(`llama:${name}`));
  return { shape, data };
}

const ones = (n: number): Tensor => ({ shape: [n], data: new Float32Array(n).fill(1) });

/** The vocabulary size config.json declares for `size` with tokenizer `bpe`. */
export function llamaVocabSize(size: LlamaSize, bpe: Bpe): number {
  const v = size.vocab ?? bpe.vocab.length;
  if (v < bpe.vocab.length) throw new Error(`vocab ${v} is smaller than the tokenizer's ${bpe.vocab.length} tokens`);
  return v;
}

/** The number of weights a model of this shape has. */
export function llamaParameterCount(size: LlamaSize, vocabSize: number): number {
  const q = size.heads * size.headDim;
  const kv = size.kvHeads * size.headDim;
  const perLayer = 2 * size.hidden * q + 2 * size.hidden * kv + 3 * size.hidden * size.intermediate + 2 * size.hidden;
  return vocabSize * size.hidden * (size.tiedEmbeddings ? 1 : 2) + size.layers * perLayer + size.hidden;
}

/** Seeded weights under their Hugging Face names, in the order transformers lists them. */
export function llamaWeights(size: LlamaSize, bpe: Bpe): WeightMap {
  const H = size.hidden;
  const V = llamaVocabSize(size, bpe);
  const q = size.heads * size.headDim;
  const kv = size.kvHeads * size.headDim;
  const std = (fanIn: number): number => 0.5 / Math.sqrt(fanIn);
  const w: WeightMap = new Map();

  const embed = normalTensor('model.embed_tokens.weight', [V, H], 0.1);
  for (let t = 0; t < V; t++) embed.data[t * H] = t < bpe.vocab.length ? BIAS_CHANNEL_VALUE : PADDING_CHANNEL_VALUE;
  w.set('model.embed_tokens.weight', embed);
  // Output channel 0 of o_proj and down_proj stays zero, so no layer changes the bias channel.
  const outputProjection = (name: string, inDim: number): Tensor => {
    const t = normalTensor(name, [H, inDim], std(inDim));
    t.data.fill(0, 0, inDim);
    return t;
  };

  for (let l = 0; l < size.layers; l++) {
    const p = `model.layers.${l}`;
    const linear = (name: string, out: number, inDim: number): void => {
      w.set(`${p}.${name}.weight`, normalTensor(`${p}.${name}.weight`, [out, inDim], std(inDim)));
    };
    linear('self_attn.q_proj', q, H);
    linear('self_attn.k_proj', kv, H);
    linear('self_attn.v_proj', kv, H);
    w.set(`${p}.self_attn.o_proj.weight`, outputProjection(`${p}.self_attn.o_proj.weight`, q));
    linear('mlp.gate_proj', size.intermediate, H);
    linear('mlp.up_proj', size.intermediate, H);
    w.set(`${p}.mlp.down_proj.weight`, outputProjection(`${p}.mlp.down_proj.weight`, size.intermediate));
    w.set(`${p}.input_layernorm.weight`, ones(H));
    w.set(`${p}.post_attention_layernorm.weight`, ones(H));
  }
  w.set('model.norm.weight', ones(H));
  if (!size.tiedEmbeddings) {
    const head = normalTensor('lm_head.weight', [V, H], Math.min(0.1, 1 / Math.sqrt(H)));
    const bias = tokenBias(bpe, V);
    for (let t = 0; t < V; t++) head.data[t * H] = (bias[t] ?? 0) / BIAS_CHANNEL_NORMALIZED;
    w.set('lm_head.weight', head);
  }
  return w;
}

/** rope_scaling's (transformers 4) or rope_parameters' (transformers 5, with rope_theta inside) entries. */
function ropeEntries(rope: LlamaRope): Record<string, Json> {
  switch (rope.type) {
    case 'default': return { rope_type: 'default' };
    case 'linear': case 'dynamic': return { rope_type: rope.type, factor: rope.factor };
    case 'llama3': return { rope_type: 'llama3', factor: rope.factor, low_freq_factor: rope.lowFreqFactor, high_freq_factor: rope.highFreqFactor, original_max_position_embeddings: rope.originalMaxPositionEmbeddings };
    case 'yarn': return { rope_type: 'yarn', factor: rope.factor, original_max_position_embeddings: rope.originalMaxPositionEmbeddings };
  }
}

function configJson(size: LlamaSize, vocabSize: number, bos: number, eos: number, pad: number, layout: LlamaLayout): Json {
  const rope = layout.rope ?? { type: 'default' };
  const ropeFields: Record<string, Json> = layout.transformers5
    ? { rope_parameters: { ...ropeEntries(rope), rope_theta: size.ropeTheta } }
    : { rope_scaling: rope.type === 'default' ? null : ropeEntries(rope), rope_theta: size.ropeTheta };
  const dtype: Record<string, Json> = layout.transformers5 ? { dtype: 'float32', transformers_version: '5.0.0' } : { torch_dtype: 'float32' };
  return {
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    attention_bias: false,
    attention_dropout: 0,
    bos_token_id: bos,
    eos_token_id: eos,
    pad_token_id: pad,
    head_dim: size.headDim,
    hidden_act: 'silu',
    hidden_size: size.hidden,
    initializer_range: 0.02,
    intermediate_size: size.intermediate,
    max_position_embeddings: size.maxPositions,
    mlp_bias: false,
    num_attention_heads: size.heads,
    num_hidden_layers: size.layers,
    num_key_value_heads: size.kvHeads,
    pretraining_tp: 1,
    rms_norm_eps: RMS_NORM_EPS,
    ...ropeFields,
    tie_word_embeddings: size.tiedEmbeddings,
    ...dtype,
    use_cache: true,
    vocab_size: vocabSize,
  };
}

/** A Llama chat model folder of the given shape: config, generation config, tokenizer, model.safetensors. */
export function llamaModelFiles(size: LlamaSize, layout: LlamaLayout = {}): ModelFiles {
  const bpe = trainChatBpe(size.merges);
  const vocabSize = llamaVocabSize(size, bpe);
  const bos = tokenId(bpe, IM_START);
  const eos = tokenId(bpe, IM_END);
  const pad = tokenId(bpe, END_OF_TEXT);
  const tokenizer = chatTokenizerFiles(bpe, size.maxPositions);
  if (layout.transformers5) {
    // transformers 5 keeps the template out of tokenizer_config.json and lists end-of-turn ids in generation_config.json.
    const { chat_template: template, ...config } = tokenizer['tokenizer_config.json'] as Record<string, Json>;
    tokenizer['tokenizer_config.json'] = config;
    tokenizer['chat_template.jinja'] = String(template);
  }
  return {
    'config.json': configJson(size, vocabSize, bos, eos, pad, layout),
    'generation_config.json': { bos_token_id: bos, eos_token_id: layout.transformers5 ? [eos] : eos, pad_token_id: pad, do_sample: false },
    ...tokenizer,
    ...(layout.maxShardBytes === undefined
      ? { 'model.safetensors': serializeSafetensors(llamaWeights(size, bpe), { format: 'pt' }) }
      : shardedSafetensors(llamaWeights(size, bpe), layout.maxShardBytes, { format: 'pt' })),
  };
}

export function tinyLlamaChat(size: LlamaSize = TINY_LLAMA, layout: LlamaLayout = {}): ModelFiles {
  return llamaModelFiles(size, layout);
}
