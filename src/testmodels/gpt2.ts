/**
 * tiny-gpt2-generator: a GPT-2 style decoder-only language model (GPT2LMHeadModel) with a key/value cache,
 * in the layout optimum exports and transformers.js expects for text generation.
 *
 * transformers.js feeds only the newly generated token after the first step and carries the cache itself,
 * so the cache inputs and outputs are required for the model to see its whole context:
 *   inputs  input_ids [batch, seq], attention_mask [batch, past + seq], position_ids [batch, seq],
 *           past_key_values.{i}.key / .value [batch, heads, past, head_dim]   (past = 0 on the first step)
 *   outputs logits [batch, seq, vocab], present.{i}.key / .value [batch, heads, past + seq, head_dim]
 *
 * Blocks are pre-LayerNorm (GPT-2): x + attn(ln_1(x)), then x + mlp(ln_2(x)), a final ln_f and an LM head.
 * The LM head has a fixed bias that favours whole-word tokens (so greedy output reads as words) and an
 * end-of-text logit that grows once more than EOS_AFTER tokens have been generated, so generation without
 * a length limit stops, however long the prompt. The count comes from the cache itself: head 0 of layer 0
 * attends uniformly (zero keys) to values that are 1 for tokens fed in a generation step (past > 0) and
 * 0 for prompt tokens, so its output is the share of generated tokens among the visible ones; that head
 * does not feed the residual stream.
 */
import { ModelGraph, NEG } from './graph.js';
import { int } from '../onnx/graph.js';
import { DataType, encodeModel } from '../onnx/proto.js';
import { Prng, seedFrom } from './prng.js';
import {
  GPT2_EOS,
  byteLevelBpeTokenizerJson,
  defaultBpeCorpus,
  gpt2TokenizerConfig,
  mergesTxt,
  trainByteLevelBpe,
  type Bpe,
} from './tokenizers.js';
import type { ModelFiles } from './files.js';

export interface Gpt2Size {
  hidden: number;
  layers: number;
  heads: number;
  inner: number;
  positions: number;
  merges: number;
  layerNormEps: number;
}

export const TINY_GPT2: Gpt2Size = {
  hidden: 64,
  layers: 2,
  heads: 4,
  inner: 256,
  positions: 512,
  merges: 740,
  layerNormEps: 1e-5,
};

/** Once this many tokens have been generated, the end-of-text logit rises by EOS_SLOPE per token. */
export const EOS_AFTER = 40;
const EOS_SLOPE = 1;

const BATCH = 'batch_size';
const SEQ = 'sequence_length';
const PAST = 'past_sequence_length';
const TOTAL = 'total_sequence_length';

/** Logit bias per token: whole words with a leading space up, bare bytes and fragments down. */
function tokenBias(bpe: Bpe): number[] {
  return bpe.vocab.map((t, i) => {
    if (t === GPT2_EOS) return 0;
    if (/^\u0120[a-z]{2,}$/.test(t)) return 2;
    if (i < 256) return /^[a-z.,]$/.test(t) ? -1 : -6;
    return -1;
  });
}

function graph(size: Gpt2Size, bpe: Bpe): ModelGraph {
  const V = bpe.vocab.length;
  const H = size.hidden;
  const headDim = H / size.heads;
  const eosId = bpe.vocab.indexOf(GPT2_EOS);
  const g = new ModelGraph('tiny-gpt2-generator', new Prng(seedFrom('tiny-gpt2-generator')));

  const inputIds = g.input('input_ids', DataType.INT64, [BATCH, SEQ]);
  const attentionMask = g.input('attention_mask', DataType.INT64, [BATCH, TOTAL]);
  const positionIds = g.input('position_ids', DataType.INT64, [BATCH, SEQ]);
  const past: Array<{ key: string; value: string }> = [];
  for (let l = 0; l < size.layers; l++) {
    past.push({
      key: g.input(`past_key_values.${l}.key`, DataType.FLOAT, [BATCH, size.heads, PAST, headDim]),
      value: g.input(`past_key_values.${l}.value`, DataType.FLOAT, [BATCH, size.heads, PAST, headDim]),
    });
  }

  g.scope = 'transformer';
  const clampedPositions = g.op('Min', [positionIds, g.i64([size.positions - 1], [])]);
  const tokens = g.op('Gather', [g.weight('wte.weight', [V, H], 1), inputIds], { axis: int(0) });
  const positions = g.op('Gather', [g.weight('wpe.weight', [size.positions, H], 0.3), clampedPositions], { axis: int(0) });
  let h = g.op('Add', [tokens, positions]);

  // Attention bias [batch, 1, seq, total]: query i (at absolute position past + i) may see key j when
  // j <= past + i and the key is not padding.
  const seq = g.dim(inputIds, 1);
  const total = g.dim(attentionMask, 1);
  const queryPos = g.op('Add', [g.op('Range', [g.i64([0], []), seq, g.i64([1], [])]), g.op('Sub', [total, seq])]);
  const keyPos = g.op('Range', [g.i64([0], []), total, g.i64([1], [])]);
  const future = g.op('Greater', [g.op('Unsqueeze', [keyPos, g.i64([0])]), g.op('Unsqueeze', [queryPos, g.i64([1])])]);
  const padding = g.op('Unsqueeze', [g.op('Equal', [attentionMask, g.i64([0], [])]), g.i64([1, 2])]);
  const blocked = g.op('Or', [g.op('Unsqueeze', [future, g.i64([0, 1])]), padding]);
  const bias = g.op('Where', [blocked, g.f32([NEG], []), g.f32([0], [])]);

  // Head 0 of layer 0 counts generated tokens (see the file comment): zero key and value columns, so
  // it attends uniformly; its value is 1 for tokens fed after the first step (past > 0), else 0; and
  // its output does not enter the residual stream (zero rows in c_proj).
  const zeroColumns = (w: Float32Array): void => {
    for (let r = 0; r < H; r++) w.fill(0, r * H, r * H + headDim);
  };
  const zeroRows = (w: Float32Array): void => void w.fill(0, 0, headDim * H);
  const isGenerationStep = g.op('Cast', [g.op('Greater', [g.op('Sub', [total, seq]), g.i64([0], [])])], { to: int(DataType.FLOAT) });
  const counterChannel = Array.from({ length: H }, (_, i) => (i === 0 ? 1 : 0));
  let counter = '';

  const std = (fanIn: number): number => 0.5 / Math.sqrt(fanIn);
  for (let l = 0; l < size.layers; l++) {
    g.scope = `transformer.h.${l}`;
    const counting = l === 0;
    const a = g.layerNorm(h, 'ln_1', H, size.layerNormEps);
    const q = g.splitHeads(g.linear(a, 'attn.q_proj', H, H, std(H)), size.heads, headDim);
    const kNew = g.splitHeads(g.linear(a, 'attn.k_proj', H, H, std(H), true, counting ? zeroColumns : undefined), size.heads, headDim);
    let vFlat = g.linear(a, 'attn.v_proj', H, H, std(H), true, counting ? zeroColumns : undefined);
    if (counting) vFlat = g.op('Add', [vFlat, g.op('Mul', [g.tensor('attn.counter', [H], counterChannel), isGenerationStep])]);
    const vNew = g.splitHeads(vFlat, size.heads, headDim);
    const layerPast = past[l];
    if (layerPast === undefined) throw new Error('missing cache input');
    const k = g.op('Concat', [layerPast.key, kNew], { axis: int(2) }, `present.${l}.key`);
    const v = g.op('Concat', [layerPast.value, vNew], { axis: int(2) }, `present.${l}.value`);
    const heads = g.attention(q, k, v, bias, 1 / Math.sqrt(headDim));
    if (counting) {
      // Share of generated tokens among the visible ones, [batch, seq].
      counter = g.op('Gather', [g.op('Gather', [heads, g.i64([0], [])], { axis: int(1) }), g.i64([0], [])], { axis: int(2) });
    }
    const context = g.mergeHeads(heads, size.heads, headDim);
    h = g.op('Add', [h, g.linear(context, 'attn.c_proj', H, H, std(H), true, counting ? zeroRows : undefined)]);
    const m = g.layerNorm(h, 'ln_2', H, size.layerNormEps);
    const ff = g.linear(g.gelu(g.linear(m, 'mlp.c_fc', H, size.inner, std(H))), 'mlp.c_proj', size.inner, H, std(size.inner));
    h = g.op('Add', [h, ff]);
  }
  g.scope = 'transformer';
  h = g.layerNorm(h, 'ln_f', H, size.layerNormEps);

  g.scope = 'lm_head';
  let logits = g.op('Add', [g.op('MatMul', [h, g.weight('weight', [H, V], 1 / Math.sqrt(H))]), g.tensor('bias', [V], tokenBias(bpe))]);
  // End of text becomes likely once more than EOS_AFTER tokens have been generated: the counter head's
  // share times the number of visible (unpadded) tokens is the number of tokens generated so far.
  const visible = g.op('ReduceSum', [g.op('Cast', [attentionMask], { to: int(DataType.FLOAT) }), g.i64([1])], { keepdims: int(1) });
  const generated = g.op('Mul', [counter, visible]);
  const late = g.op('Relu', [g.op('Sub', [generated, g.f32([EOS_AFTER], [])])]);
  const eosOneHot = Array.from({ length: V }, (_, i) => (i === eosId ? EOS_SLOPE : 0));
  logits = g.op('Add', [logits, g.op('Mul', [g.op('Unsqueeze', [late, g.i64([2])]), g.tensor('eos_ramp', [V], eosOneHot)])]);
  g.scope = '';

  g.output(logits, 'logits', DataType.FLOAT, [BATCH, SEQ, V]);
  for (let l = 0; l < size.layers; l++) {
    g.output(`present.${l}.key`, `present.${l}.key`, DataType.FLOAT, [BATCH, size.heads, TOTAL, headDim]);
    g.output(`present.${l}.value`, `present.${l}.value`, DataType.FLOAT, [BATCH, size.heads, TOTAL, headDim]);
  }
  return g;
}

export function gpt2Generator(size: Gpt2Size = TINY_GPT2): ModelFiles {
  const bpe = trainByteLevelBpe(defaultBpeCorpus(), size.merges, [GPT2_EOS]);
  const eos = bpe.vocab.indexOf(GPT2_EOS);
  return {
    'config.json': {
      architectures: ['GPT2LMHeadModel'],
      model_type: 'gpt2',
      vocab_size: bpe.vocab.length,
      n_positions: size.positions,
      n_ctx: size.positions,
      n_embd: size.hidden,
      n_layer: size.layers,
      n_head: size.heads,
      n_inner: size.inner,
      activation_function: 'gelu',
      layer_norm_epsilon: size.layerNormEps,
      resid_pdrop: 0.1,
      embd_pdrop: 0.1,
      attn_pdrop: 0.1,
      initializer_range: 0.02,
      bos_token_id: eos,
      eos_token_id: eos,
      tie_word_embeddings: false,
      use_cache: true,
      torch_dtype: 'float32',
    },
    'generation_config.json': { bos_token_id: eos, eos_token_id: eos, pad_token_id: eos, do_sample: false },
    'tokenizer.json': byteLevelBpeTokenizerJson(bpe, [GPT2_EOS]),
    'tokenizer_config.json': gpt2TokenizerConfig(bpe, size.positions),
    'special_tokens_map.json': { bos_token: GPT2_EOS, eos_token: GPT2_EOS, unk_token: GPT2_EOS, pad_token: GPT2_EOS },
    'vocab.json': Object.fromEntries(bpe.vocab.map((t, i) => [t, i])),
    'merges.txt': mergesTxt(bpe),
    'onnx/model.onnx': encodeModel({ graph: graph(size, bpe).build(), docString: 'aiduck tiny GPT-2 generator (random weights)' }),
  };
}
