/**
 * The tiny Llama chat test model (Hugging Face layout, safetensors weights, ChatML tokenizer) and the ONNX
 * reference forward pass that will judge aiduck's own Llama runtime. The reference is checked here
 * against a plain float64 forward pass written from the Hugging Face modeling code's definitions.
 */
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AutoTokenizer, env } from '@huggingface/transformers';
import { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-node';
import {
  CHATML_TEMPLATE,
  TEST_MODELS,
  TINY_LLAMA,
  llamaModelFiles,
  llamaParameterCount,
  llamaReferenceOnnx,
  tinyLlamaChat,
  writeModelFiles,
  writeTestModels,
  type LlamaSize,
} from '../src/testmodels/index.js';
import { parseLlamaConfig, type LlamaConfig, type WeightMap } from '../src/llm/llama-config.js';
import { loadFolderWeights, parseSafetensors, serializeSafetensors } from '../src/llm/safetensors.js';
import { SqlError } from '../src/errors/sql-error.js';

let dir: string;
let folder: string;
let config: LlamaConfig;
let weights: WeightMap;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'aiduck-llama-'));
  folder = join(dir, 'tiny-llama-chat');
  await writeModelFiles(folder, tinyLlamaChat());
  config = parseLlamaConfig(JSON.parse(await readFile(join(folder, 'config.json'), 'utf8')));
  weights = await loadFolderWeights(folder);
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.localModelPath = dir;
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The tensors a Llama model of `c` holds, with their shapes. */
function expectedShapes(c: LlamaConfig): Map<string, number[]> {
  const H = c.hiddenSize;
  const q = c.numHeads * c.headDim;
  const kv = c.numKvHeads * c.headDim;
  const shapes = new Map<string, number[]>([['model.embed_tokens.weight', [c.vocabSize, H]]]);
  for (let l = 0; l < c.numLayers; l++) {
    const p = `model.layers.${l}`;
    shapes.set(`${p}.self_attn.q_proj.weight`, [q, H]);
    shapes.set(`${p}.self_attn.k_proj.weight`, [kv, H]);
    shapes.set(`${p}.self_attn.v_proj.weight`, [kv, H]);
    shapes.set(`${p}.self_attn.o_proj.weight`, [H, q]);
    shapes.set(`${p}.mlp.gate_proj.weight`, [c.intermediateSize, H]);
    shapes.set(`${p}.mlp.up_proj.weight`, [c.intermediateSize, H]);
    shapes.set(`${p}.mlp.down_proj.weight`, [H, c.intermediateSize]);
    shapes.set(`${p}.input_layernorm.weight`, [H]);
    shapes.set(`${p}.post_attention_layernorm.weight`, [H]);
  }
  shapes.set('model.norm.weight', [H]);
  if (!c.tieWordEmbeddings) shapes.set('lm_head.weight', [c.vocabSize, H]);
  return shapes;
}

// ---------------------------------------------------------------------------------------------------
// A plain float64 Llama forward pass, straight from the definitions (HF modeling_llama.py).

type Matrix = Float64Array[];

function linear(x: Matrix, w: WeightMap, path: string): Matrix {
  const W = w.get(`${path}.weight`)!;
  const b = w.get(`${path}.bias`);
  const [out, inDim] = W.shape as [number, number];
  return x.map((row) => {
    const y = new Float64Array(out);
    for (let o = 0; o < out; o++) {
      let s = b ? b.data[o]! : 0;
      for (let i = 0; i < inDim; i++) s += row[i]! * W.data[o * inDim + i]!;
      y[o] = s;
    }
    return y;
  });
}

function rmsNorm(x: Matrix, weight: Float32Array, eps: number): Matrix {
  return x.map((row) => {
    const mean = row.reduce((s, v) => s + v * v, 0) / row.length;
    const scale = 1 / Math.sqrt(mean + eps);
    return row.map((v, i) => v * scale * weight[i]!);
  });
}

/** Rotates each head of each position in place: HF's q·cos + rotate_half(q)·sin. */
function rope(x: Matrix, heads: number, c: LlamaConfig): void {
  const d = c.headDim;
  x.forEach((row, pos) => {
    for (let h = 0; h < heads; h++) {
      for (let i = 0; i < d / 2; i++) {
        const angle = pos * c.ropeTheta ** (-(2 * i) / d);
        const a = row[h * d + i]!;
        const b = row[h * d + i + d / 2]!;
        row[h * d + i] = a * Math.cos(angle) - b * Math.sin(angle);
        row[h * d + i + d / 2] = b * Math.cos(angle) + a * Math.sin(angle);
      }
    }
  });
}

function naiveForward(c: LlamaConfig, w: WeightMap, ids: number[]): Matrix {
  const H = c.hiddenSize;
  const d = c.headDim;
  const embed = w.get('model.embed_tokens.weight')!;
  let x: Matrix = ids.map((id) => Float64Array.from(embed.data.subarray(id * H, (id + 1) * H)));
  for (let l = 0; l < c.numLayers; l++) {
    const p = `model.layers.${l}`;
    const a = rmsNorm(x, w.get(`${p}.input_layernorm.weight`)!.data, c.rmsNormEps);
    const q = linear(a, w, `${p}.self_attn.q_proj`);
    const k = linear(a, w, `${p}.self_attn.k_proj`);
    const v = linear(a, w, `${p}.self_attn.v_proj`);
    rope(q, c.numHeads, c);
    rope(k, c.numKvHeads, c);
    const context: Matrix = ids.map(() => new Float64Array(c.numHeads * d));
    const group = c.numHeads / c.numKvHeads;
    for (let h = 0; h < c.numHeads; h++) {
      const kvh = Math.floor(h / group);
      for (let i = 0; i < ids.length; i++) {
        const scores: number[] = [];
        for (let j = 0; j <= i; j++) {
          let s = 0;
          for (let e = 0; e < d; e++) s += q[i]![h * d + e]! * k[j]![kvh * d + e]!;
          scores.push(s / Math.sqrt(d));
        }
        const max = Math.max(...scores);
        const exps = scores.map((s) => Math.exp(s - max));
        const total = exps.reduce((s, e) => s + e, 0);
        for (let j = 0; j <= i; j++) {
          for (let e = 0; e < d; e++) context[i]![h * d + e]! += (exps[j]! / total) * v[j]![kvh * d + e]!;
        }
      }
    }
    const attn = linear(context, w, `${p}.self_attn.o_proj`);
    x = x.map((row, i) => row.map((val, j) => val + attn[i]![j]!));
    const m = rmsNorm(x, w.get(`${p}.post_attention_layernorm.weight`)!.data, c.rmsNormEps);
    const gate = linear(m, w, `${p}.mlp.gate_proj`);
    const up = linear(m, w, `${p}.mlp.up_proj`);
    const act = gate.map((row, i) => row.map((g, j) => (g / (1 + Math.exp(-g))) * up[i]![j]!));
    const down = linear(act, w, `${p}.mlp.down_proj`);
    x = x.map((row, i) => row.map((val, j) => val + down[i]![j]!));
  }
  x = rmsNorm(x, w.get('model.norm.weight')!.data, c.rmsNormEps);
  const head = w.get('lm_head.weight') ? 'lm_head' : 'model.embed_tokens';
  return linear(x, w, head);
}

async function referenceLogits(c: LlamaConfig, w: WeightMap, ids: number[]): Promise<{ dims: readonly number[]; data: Float32Array }> {
  const session = await InferenceSession.create(llamaReferenceOnnx(c, w));
  try {
    const out = await session.run({ input_ids: new OrtTensor('int64', BigInt64Array.from(ids.map(BigInt)), [1, ids.length]) });
    const logits = out['logits']!;
    return { dims: logits.dims, data: logits.data as Float32Array };
  } finally {
    await session.release();
  }
}

function maxDifference(reference: Float32Array, naive: Matrix): number {
  const V = naive[0]!.length;
  let max = 0;
  naive.forEach((row, i) => row.forEach((v, j) => (max = Math.max(max, Math.abs(v - reference[i * V + j]!)))));
  return max;
}

/** A small deterministic generator for the hand-built test weights. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
}

// ---------------------------------------------------------------------------------------------------

describe('tiny-llama-chat folder', () => {
  it('has a Llama config that parseLlamaConfig accepts', async () => {
    const raw = JSON.parse(await readFile(join(folder, 'config.json'), 'utf8')) as Record<string, unknown>;
    expect(raw).toMatchObject({
      architectures: ['LlamaForCausalLM'], model_type: 'llama', hidden_act: 'silu', torch_dtype: 'float32',
      attention_bias: false, mlp_bias: false, tie_word_embeddings: false, max_position_embeddings: 512,
    });
    expect(config).toMatchObject({
      architecture: 'LlamaForCausalLM', modelType: 'llama', hiddenSize: 64, intermediateSize: 128, numLayers: 2,
      numHeads: 4, numKvHeads: 2, headDim: 16, rmsNormEps: 1e-5, ropeTheta: 10000, ropeScaling: null,
      tieWordEmbeddings: false, qkvBias: false, oBias: false, mlpBias: false,
    });
    const tokenizer = JSON.parse(await readFile(join(folder, 'tokenizer.json'), 'utf8')) as { model: { vocab: Record<string, number> }; added_tokens: unknown[] };
    expect(config.vocabSize).toBe(Object.keys(tokenizer.model.vocab).length);
    const generation = JSON.parse(await readFile(join(folder, 'generation_config.json'), 'utf8')) as Record<string, unknown>;
    expect(generation).toMatchObject({ bos_token_id: config.bosTokenId, eos_token_id: config.eosTokenIds[0], do_sample: false });
    expect(existsSync(join(folder, 'onnx'))).toBe(false);
  });

  it('holds every weight under its Hugging Face name with the right shape', () => {
    const shapes = expectedShapes(config);
    expect([...weights.keys()].sort()).toEqual([...shapes.keys()].sort());
    for (const [name, shape] of shapes) {
      const t = weights.get(name)!;
      expect(t.shape, name).toEqual(shape);
      expect(t.data.length).toBe(shape.reduce((a, b) => a * b, 1));
    }
    expect([...weights.get('model.norm.weight')!.data].every((x) => x === 1)).toBe(true);
    const q = weights.get('model.layers.0.self_attn.q_proj.weight')!.data;
    const std = Math.sqrt(q.reduce((s, x) => s + x * x, 0) / q.length);
    expect(std).toBeGreaterThan(0.02);
    expect(std).toBeLessThan(0.1);
  });

  it('writes the same bytes every time', () => {
    const a = tinyLlamaChat()['model.safetensors'] as Uint8Array;
    const b = tinyLlamaChat()['model.safetensors'] as Uint8Array;
    expect(Buffer.compare(a, b)).toBe(0);
  });
});

describe('safetensors', () => {
  /** A safetensors file from raw little-endian tensor bytes, as a reference writer lays it out. */
  function handBuilt(tensors: Array<{ name: string; dtype: string; shape: number[]; bytes: Uint8Array }>): Uint8Array {
    const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
    let offset = 0;
    for (const t of tensors) {
      header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + t.bytes.length] };
      offset += t.bytes.length;
    }
    const json = Buffer.from(JSON.stringify(header));
    const out = Buffer.alloc(8 + json.length + offset);
    out.writeBigUInt64LE(BigInt(json.length), 0);
    json.copy(out, 8);
    let at = 8 + json.length;
    for (const t of tensors) {
      out.set(t.bytes, at);
      at += t.bytes.length;
    }
    return new Uint8Array(out);
  }
  const u16 = (values: number[]): Uint8Array => new Uint8Array(Uint16Array.from(values).buffer);

  it('reads F16, BF16 and F32 tensors into float32', () => {
    // F16: 1, -2, 0.5, 65504 (largest), 2^-24 (smallest subnormal), -0, Infinity.
    const f16 = [0x3c00, 0xc000, 0x3800, 0x7bff, 0x0001, 0x8000, 0x7c00];
    // BF16: the top halves of float32 values that fit in 8 bits of mantissa.
    const bf16Values = [1, -2, 0.5, 3.140625, -1e-3, 1e30].map((v) => Math.fround(v));
    const bf16 = bf16Values.map((v) => new Uint32Array(Float32Array.of(v).buffer)[0]! >>> 16);
    const f32 = Float32Array.of(0.1, -7.25, 1e-20, 3e38);
    const file = handBuilt([
      { name: 'a', dtype: 'F16', shape: [7], bytes: u16(f16) },
      { name: 'b', dtype: 'BF16', shape: [2, 3], bytes: u16(bf16) },
      { name: 'c', dtype: 'F32', shape: [2, 2], bytes: new Uint8Array(f32.buffer) },
    ]);
    const { tensors, metadata } = parseSafetensors(file);
    expect(metadata).toEqual({ format: 'pt' });
    expect([...tensors.get('a')!.data]).toEqual([1, -2, 0.5, 65504, 2 ** -24, -0, Infinity]);
    expect(tensors.get('b')!.shape).toEqual([2, 3]);
    const bf = [...tensors.get('b')!.data];
    expect(bf.slice(0, 4)).toEqual([1, -2, 0.5, 3.140625]);
    expect(bf[4]).toBeCloseTo(-1e-3, 5);
    expect(bf[5]! / 1e30).toBeCloseTo(1, 2);
    expect(tensors.get('c')!.data).toEqual(f32);
    // `only` skips tensors.
    expect([...parseSafetensors(file, (n) => n === 'c').tensors.keys()]).toEqual(['c']);
  });

  it('round-trips F32 through serialize and parse', () => {
    const map: WeightMap = new Map([
      ['x.weight', { shape: [2, 3], data: Float32Array.of(1, 2, 3, -4, 5.5, 1e-30) }],
      ['y', { shape: [1], data: Float32Array.of(-0.125) }],
    ]);
    const bytes = serializeSafetensors(map, { format: 'pt' });
    expect((8 + Number(Buffer.from(bytes).readBigUInt64LE(0))) % 8).toBe(0);
    const back = parseSafetensors(bytes);
    expect(back.metadata).toEqual({ format: 'pt' });
    expect([...back.tensors.keys()]).toEqual(['x.weight', 'y']);
    for (const [name, t] of map) expect(back.tensors.get(name)).toEqual(t);
  });

  it('refuses malformed files with SqlErrors', () => {
    const good = handBuilt([{ name: 'w', dtype: 'F32', shape: [2], bytes: new Uint8Array(8) }]);
    const headerLength = Number(Buffer.from(good).readBigUInt64LE(0));
    const withLength = (n: bigint): Uint8Array => {
      const copy = Buffer.from(good);
      copy.writeBigUInt64LE(n, 0);
      return new Uint8Array(copy);
    };
    const notJson = Buffer.from(good);
    notJson[8] = 0x7b + 1;
    const cases: Array<[string, Uint8Array, string]> = [
      ['too short', new Uint8Array(5), '22P02'],
      ['header past the end', withLength(BigInt(good.length)), '22P02'],
      ['header not JSON', new Uint8Array(notJson), '22P02'],
      ['wrong byte count', handBuilt([{ name: 'w', dtype: 'F32', shape: [3], bytes: new Uint8Array(8) }]), '22P02'],
      ['data past the end', good.subarray(0, 8 + headerLength + 4), '22P02'],
      ['unsupported dtype', handBuilt([{ name: 'w', dtype: 'I8', shape: [2], bytes: new Uint8Array(2) }]), '0A000'],
    ];
    for (const [what, bytes, code] of cases) {
      let error: unknown;
      try {
        parseSafetensors(bytes);
      } catch (e) {
        error = e;
      }
      expect(error, what).toBeInstanceOf(SqlError);
      expect((error as SqlError).code, what).toBe(code);
    }
  });

  it('loads sharded folders and says when a folder has no weights', async () => {
    const sharded = join(dir, 'sharded');
    await writeModelFiles(sharded, {
      'model-00001-of-00002.safetensors': serializeSafetensors(new Map([['a', { shape: [1], data: Float32Array.of(1) }]])),
      'model-00002-of-00002.safetensors': serializeSafetensors(new Map([['b', { shape: [2], data: Float32Array.of(2, 3) }]])),
      'model.safetensors.index.json': { metadata: {}, weight_map: { a: 'model-00001-of-00002.safetensors', b: 'model-00002-of-00002.safetensors' } },
    });
    const loaded = await loadFolderWeights(sharded);
    expect([...loaded.get('b')!.data]).toEqual([2, 3]);
    expect([...loaded.keys()].sort()).toEqual(['a', 'b']);
    await expect(loadFolderWeights(join(dir, 'nowhere'))).rejects.toBeInstanceOf(SqlError);
  });
});

describe('tiny-llama-chat tokenizer in transformers.js', () => {
  it('tokenizes banking chat into few tokens and round-trips any text', async () => {
    const tok = await AutoTokenizer.from_pretrained('tiny-llama-chat');
    for (const text of ['What is the balance of my savings account?', 'I want to transfer money to my checking account.',
      "I'm sorry, I cannot help with that topic.", 'The loan rate and the card fee are lower at the branch.']) {
      const words = text.split(' ').length;
      expect(tok.encode(text, { add_special_tokens: false }).length, text).toBeLessThanOrEqual(words + 3);
      expect(tok.decode(tok.encode(text))).toBe(text);
    }
    for (const text of ['ünïcödé 😀 and 漢字', 'tabs\tand\nnewlines', 'Your balance is $1,250.00']) expect(tok.decode(tok.encode(text))).toBe(text);
    expect(tok.tokenize(' balance')).toEqual(['Ġbalance']);
    expect(tok.model_max_length).toBe(512);
  });

  it('renders ChatML exactly and encodes <|im_end|> as the eos token', async () => {
    const tok = await AutoTokenizer.from_pretrained('tiny-llama-chat');
    const messages = [
      { role: 'system', content: 'You are a bank assistant.' },
      { role: 'user', content: 'What is my balance?' },
      { role: 'assistant', content: 'Your balance is $10.' },
      { role: 'user', content: 'Thanks!' },
    ];
    const text = tok.apply_chat_template(messages, { tokenize: false, add_generation_prompt: true });
    expect(text).toBe(
      '<|im_start|>system\nYou are a bank assistant.<|im_end|>\n<|im_start|>user\nWhat is my balance?<|im_end|>\n' +
        '<|im_start|>assistant\nYour balance is $10.<|im_end|>\n<|im_start|>user\nThanks!<|im_end|>\n<|im_start|>assistant\n',
    );
    expect(tok.apply_chat_template(messages.slice(0, 2), { tokenize: false, add_generation_prompt: false })).toBe(
      '<|im_start|>system\nYou are a bank assistant.<|im_end|>\n<|im_start|>user\nWhat is my balance?<|im_end|>\n',
    );
    const eos = tok.encode('<|im_end|>', { add_special_tokens: false });
    expect(eos).toEqual([config.eosTokenIds[0]]);
    expect(tok.encode('<|im_start|>', { add_special_tokens: false })).toEqual([config.bosTokenId]);
    // No BOS is added: the template's tokens are all there is.
    const ids = tok.encode(text);
    expect(ids[0]).toBe(config.bosTokenId);
    expect(ids.filter((i) => i === eos[0])).toHaveLength(4);
    expect(tok.decode(ids, { skip_special_tokens: true })).toContain('What is my balance?');
    const tokenizerConfig = JSON.parse(await readFile(join(folder, 'tokenizer_config.json'), 'utf8')) as Record<string, unknown>;
    expect(tokenizerConfig).toMatchObject({ chat_template: CHATML_TEMPLATE, eos_token: '<|im_end|>', model_max_length: 512 });
  });
});

describe('ONNX reference forward pass', () => {
  it('equals a float64 forward pass on the tiny model', async () => {
    const tok = await AutoTokenizer.from_pretrained('tiny-llama-chat');
    const ids = tok.encode(tok.apply_chat_template([{ role: 'user', content: 'How do I open a savings account?' }], { tokenize: false, add_generation_prompt: true }));
    const reference = await referenceLogits(config, weights, ids);
    expect(reference.dims).toEqual([1, ids.length, config.vocabSize]);
    expect(maxDifference(reference.data, naiveForward(config, weights, ids))).toBeLessThan(1e-4);

    // The untrained model does not end its turn at once: <|im_end|> is far from the top.
    const last = reference.data.subarray((ids.length - 1) * config.vocabSize);
    const eosLogit = last[config.eosTokenIds[0]!]!;
    expect([...last].filter((x) => x > eosLogit).length).toBeGreaterThan(100);
  });

  it('equals a float64 forward pass with q/k/v biases, tied embeddings and one key/value head (Qwen2 style)', async () => {
    const c = parseLlamaConfig({
      architectures: ['Qwen2ForCausalLM'], model_type: 'qwen2', vocab_size: 50, hidden_size: 32, intermediate_size: 48,
      num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 1, rms_norm_eps: 1e-6, rope_theta: 1000000,
      max_position_embeddings: 64, tie_word_embeddings: true,
    });
    expect(c.qkvBias).toBe(true);
    const random = lcg(7);
    const w: WeightMap = new Map();
    const add = (name: string, shape: number[], scale: number, offset = 0): void => {
      const n = shape.reduce((a, b) => a * b, 1);
      w.set(name, { shape, data: Float32Array.from({ length: n }, () => offset + scale * random()) });
    };
    add('model.embed_tokens.weight', [50, 32], 1);
    for (let l = 0; l < 2; l++) {
      const p = `model.layers.${l}`;
      add(`${p}.self_attn.q_proj.weight`, [32, 32], 0.4);
      add(`${p}.self_attn.q_proj.bias`, [32], 0.5);
      add(`${p}.self_attn.k_proj.weight`, [8, 32], 0.4);
      add(`${p}.self_attn.k_proj.bias`, [8], 0.5);
      add(`${p}.self_attn.v_proj.weight`, [8, 32], 0.4);
      add(`${p}.self_attn.v_proj.bias`, [8], 0.5);
      add(`${p}.self_attn.o_proj.weight`, [32, 32], 0.4);
      add(`${p}.mlp.gate_proj.weight`, [48, 32], 0.4);
      add(`${p}.mlp.up_proj.weight`, [48, 32], 0.4);
      add(`${p}.mlp.down_proj.weight`, [32, 48], 0.3);
      add(`${p}.input_layernorm.weight`, [32], 0.5, 1);
      add(`${p}.post_attention_layernorm.weight`, [32], 0.5, 1);
    }
    add('model.norm.weight', [32], 0.5, 1);
    const ids = [3, 17, 42, 0, 49, 17, 8, 8, 25, 11, 30, 2];
    const reference = await referenceLogits(c, w, ids);
    expect(reference.dims).toEqual([1, ids.length, 50]);
    expect(maxDifference(reference.data, naiveForward(c, w, ids))).toBeLessThan(1e-4);
  });
});

describe('model generation', () => {
  it('writeTestModels writes every test model, the Llama one with safetensors and no ONNX', async () => {
    const all = join(dir, 'all');
    const paths = await writeTestModels(all);
    expect(paths).toHaveLength(TEST_MODELS.length);
    const llama = TEST_MODELS.find((m) => m.name === 'tiny-llama-chat')!;
    expect(llama.runtime).toBe('safetensors');
    for (const m of TEST_MODELS) {
      const files = await readdir(join(all, m.name), { recursive: true });
      expect(files).toContain('config.json');
      expect(files).toContain('tokenizer.json');
      expect(files.some((f) => f.endsWith('.onnx')), m.name).toBe(m.runtime === 'transformers.js');
      expect(files.includes('model.safetensors'), m.name).toBe(m.runtime === 'safetensors');
    }
    const a = await readFile(join(all, 'tiny-llama-chat', 'model.safetensors'));
    expect(Buffer.compare(a, await readFile(join(folder, 'model.safetensors')))).toBe(0);
  });

  it('builds larger shapes with the configured parameter count, padding the vocabulary', async () => {
    const medium: LlamaSize = { ...TINY_LLAMA, hidden: 96, layers: 3, heads: 6, kvHeads: 2, headDim: 16, intermediate: 256, vocab: 4096, tiedEmbeddings: true };
    const files = llamaModelFiles(medium);
    const raw = files['config.json'] as Record<string, unknown>;
    expect(raw).toMatchObject({ vocab_size: 4096, tie_word_embeddings: true, hidden_size: 96, num_key_value_heads: 2 });
    const c = parseLlamaConfig(raw);
    const { tensors } = parseSafetensors(files['model.safetensors'] as Uint8Array);
    expect([...tensors.keys()].sort()).toEqual([...expectedShapes(c).keys()].sort());
    let count = 0;
    for (const t of tensors.values()) count += t.data.length;
    const perLayer = 96 * 96 * 2 + 96 * 32 * 2 + 96 * 256 * 3 + 96 * 2;
    expect(count).toBe(4096 * 96 + 3 * perLayer + 96);
    expect(llamaParameterCount(medium, 4096)).toBe(count);
    expect(llamaParameterCount({ ...medium, tiedEmbeddings: false }, 4096)).toBe(count + 4096 * 96);

    // The padded, tied model still runs and matches the float64 forward pass.
    const ids = [5, 900, 1200, 33];
    const reference = await referenceLogits(c, tensors, ids);
    expect(reference.dims).toEqual([1, 4, 4096]);
    expect(maxDifference(reference.data, naiveForward(c, tensors, ids))).toBeLessThan(1e-4);
    // Rows past the tokenizer's vocabulary are never the most likely token.
    const tokenizerVocab = Object.keys((files['tokenizer.json'] as { model: { vocab: object } }).model.vocab).length;
    for (let i = 0; i < ids.length; i++) {
      const row = reference.data.subarray(i * 4096, (i + 1) * 4096);
      expect(row.indexOf(Math.max(...row))).toBeLessThan(tokenizerVocab);
      expect(Math.max(...row.subarray(tokenizerVocab))).toBeLessThan(Math.max(...row.subarray(0, tokenizerVocab)) - 4);
    }
  });
});
