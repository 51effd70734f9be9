/**
 * The formats around LoRA training: parameter counts for dry runs (checked against PEFT's arithmetic on
 * public configs), PEFT adapter folders (round trip, adapters written by other tools, refusals), and
 * training rows turned into token sequences with loss masks by real transformers.js tokenizers.
 */
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AutoTokenizer, env, type PreTrainedTokenizer } from '@huggingface/transformers';
import { parseLlamaConfig, linearShape, modulePath, type LinearModule, type LlamaConfig, type WeightMap } from '../src/llm/llama-config.js';
import { loraScale, type LoraAdapter, type LoraPair } from '../src/llm/lora-types.js';
import { countParameters, resolveTargetModules } from '../src/llm/param-count.js';
import { readPeftAdapter, readPeftAdapterInfo, writePeftAdapter } from '../src/llm/peft.js';
import { parseSafetensors, writeSafetensors } from '../src/llm/safetensors.js';
import { tokenizeExamples, type TokenizedExample, type TrainingRow } from '../src/llm/training-data.js';
import { byteLevelBpeTokenizerJson, defaultBpeCorpus, trainByteLevelBpe, CHAT_TEMPLATE } from '../src/testmodels/tokenizers.js';
import { SqlError } from '../src/errors/sql-error.js';
import { readChatTemplate } from '../src/llm/chat-template.js';
import { readEndOfTurnIds } from '../src/llm/model-folder.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'aiduck-llm-format-'));
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Runs `f` and returns the SqlError it throws (sync or async). */
async function sqlError(f: () => unknown): Promise<SqlError> {
  try {
    await f();
  } catch (e) {
    if (e instanceof SqlError) return e;
    throw e;
  }
  throw new Error('expected an SqlError');
}

// ---------------------------------------------------------------------------------------------------

const SMOLLM_135M = {
  architectures: ['LlamaForCausalLM'], model_type: 'llama', hidden_size: 576, num_hidden_layers: 30, num_attention_heads: 9,
  num_key_value_heads: 3, intermediate_size: 1536, vocab_size: 49152, tie_word_embeddings: true, max_position_embeddings: 2048,
};
const QWEN2_05B = {
  architectures: ['Qwen2ForCausalLM'], model_type: 'qwen2', hidden_size: 896, num_hidden_layers: 24, num_attention_heads: 14,
  num_key_value_heads: 2, intermediate_size: 4864, vocab_size: 151936, tie_word_embeddings: true, max_position_embeddings: 32768,
};
/** openlm-research/open_llama_3b_v2's config.json (the model of PEFT's LoRA guide). */
const OPENLLAMA_3B_V2 = {
  architectures: ['LlamaForCausalLM'], model_type: 'llama', hidden_size: 3200, num_hidden_layers: 26, num_attention_heads: 32,
  intermediate_size: 8640, vocab_size: 32000, tie_word_embeddings: false, max_position_embeddings: 2048, rms_norm_eps: 1e-6,
};
const TINYLLAMA_11B = {
  architectures: ['LlamaForCausalLM'], model_type: 'llama', hidden_size: 2048, num_hidden_layers: 22, num_attention_heads: 32,
  num_key_value_heads: 4, intermediate_size: 5632, vocab_size: 32000, tie_word_embeddings: false, max_position_embeddings: 2048,
};

describe('parameter counts', () => {
  const smol = parseLlamaConfig(SMOLLM_135M);

  it('counts base models as their published sizes', () => {
    // SmolLM-135M: embed 49152·576 = 28,311,552; per layer q 576² + k,v 2·192·576 + o 576² = 884,736,
    // mlp 3·576·1536 = 2,654,208, norms 1,152 → 3,540,096 × 30 = 106,202,880; final norm 576; tied.
    expect(countParameters(smol, { r: 8, targetModules: ['q_proj', 'v_proj'] }).baseParams).toBe(134_515_008);
    // Qwen2-0.5B: embed 136,134,656; per layer attention 1,835,008 + q/k/v biases 1,152, mlp 13,074,432,
    // norms 1,792 → 14,912,384 × 24 = 357,897,216; final norm 896; tied.
    expect(countParameters(parseLlamaConfig(QWEN2_05B), { r: 8, targetModules: ['q_proj'] }).baseParams).toBe(494_032_768);
    // TinyLlama-1.1B: embed + lm_head 2·65,536,000; per layer 9,437,184 + 34,603,008 + 4,096 = 44,044,288 × 22.
    expect(countParameters(parseLlamaConfig(TINYLLAMA_11B), { r: 8, targetModules: ['q_proj'] }).baseParams).toBe(1_100_048_384);
  });

  it('counts LoRA parameters as PEFT print_trainable_parameters does', () => {
    // r·(in + out): q 8·(576 + 576) + v 8·(576 + 192) = 15,360 per layer × 30.
    expect(countParameters(smol, { r: 8, targetModules: ['q_proj', 'v_proj'] })).toEqual({
      trainableParams: 460_800,
      baseParams: 134_515_008,
      totalParams: 134_975_808,
    });
    // all-linear adds k 6,144, o 9,216 and gate/up/down 3·8·(576 + 1536) = 50,688 → 81,408 per layer.
    const all = resolveTargetModules(smol, 'all-linear');
    expect(countParameters(smol, { r: 8, targetModules: all }).trainableParams).toBe(2_442_240);
  });

  it('counts LoRA on lm_head and embed_tokens: the LoRA guide\'s third configuration on OpenLLaMA-3b-v2 has 12,994,560', () => {
    const openLlama = parseLlamaConfig(OPENLLAMA_3B_V2);
    // r=8 on every linear layer and lm_head: per layer 4·8·(3200 + 3200) + 3·8·(3200 + 8640) = 488,960 × 26,
    // plus lm_head 8·(3200 + 32000) = 281,600.
    const third = resolveTargetModules(openLlama, ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj', 'lm_head']);
    expect(countParameters(openLlama, { r: 8, targetModules: third }).trainableParams).toBe(12_994_560);
    expect(resolveTargetModules(openLlama, ['all-linear', 'lm_head'])).toEqual(third);
    // embed_tokens: A [8, 32000] and B [3200, 8], once.
    expect(countParameters(openLlama, { r: 8, targetModules: ['embed_tokens'] }).trainableParams).toBe(8 * (32000 + 3200));
    expect(countParameters(openLlama, { r: 8, targetModules: ['q_proj'] }).baseParams).toBe(3_426_473_600);
  });

  it('resolves target modules by their PEFT names', () => {
    expect(resolveTargetModules(smol, 'all-linear')).toEqual(['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj']);
    expect(resolveTargetModules(smol, ['v_proj', 'q_proj', 'v_proj'])).toEqual(['q_proj', 'v_proj']);
    expect(resolveTargetModules(smol, ['lm_head', 'embed_tokens', 'q_proj'])).toEqual(['q_proj', 'embed_tokens', 'lm_head']);
  });

  it('refuses unknown and empty target modules', async () => {
    const unknown = await sqlError(() => resolveTargetModules(smol, ['q_proj', 'query']));
    expect(unknown.code).toBe('22023');
    expect(unknown.message).toContain('"query"');
    expect(unknown.message).toContain('q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj, embed_tokens, lm_head');
    expect((await sqlError(() => resolveTargetModules(smol, []))).code).toBe('22023');
  });
});

// ---------------------------------------------------------------------------------------------------

describe('config.json as transformers 4 and 5 write it', () => {
  const base = { architectures: ['LlamaForCausalLM'], model_type: 'llama', hidden_size: 64, num_hidden_layers: 2, num_attention_heads: 4, intermediate_size: 128, vocab_size: 100, max_position_embeddings: 4096 };
  const llama3 = { factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 2048 };

  it('reads rope_parameters (transformers 5) as the same settings as rope_theta + rope_scaling (transformers 4)', () => {
    const pairs: Array<[Record<string, unknown>, Record<string, unknown>]> = [
      [{ rope_theta: 500000, rope_scaling: null }, { rope_parameters: { rope_type: 'default', rope_theta: 500000 } }],
      [{ rope_theta: 20000, rope_scaling: { type: 'linear', factor: 2 } }, { rope_parameters: { rope_type: 'linear', rope_theta: 20000, factor: 2 } }],
      [{ rope_theta: 500000, rope_scaling: { rope_type: 'llama3', ...llama3 } }, { rope_parameters: { rope_type: 'llama3', rope_theta: 500000, ...llama3 } }],
    ];
    for (const [old, current] of pairs) {
      const a = parseLlamaConfig({ ...base, ...old });
      const b = parseLlamaConfig({ ...base, ...current });
      expect(b).toEqual(a);
      expect(b.ropeTheta).not.toBe(10000);
    }
    expect(parseLlamaConfig({ ...base, rope_parameters: { rope_type: 'llama3', rope_theta: 500000, ...llama3 } }).ropeScaling).toEqual(
      { type: 'llama3', factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 2048 });
    // transformers 5's precedence: θ inside rope_parameters over a top-level rope_theta; a non-null rope_scaling over rope_parameters.
    expect(parseLlamaConfig({ ...base, rope_theta: 1, rope_parameters: { rope_type: 'default', rope_theta: 40000 } }).ropeTheta).toBe(40000);
    expect(parseLlamaConfig({ ...base, rope_theta: 30000, rope_parameters: { rope_type: 'default' } }).ropeTheta).toBe(30000);
    expect(parseLlamaConfig({ ...base, rope_scaling: { type: 'linear', factor: 4 }, rope_parameters: { rope_type: 'default' } }).ropeScaling?.factor).toBe(4);
    // Dynamic NTK changes nothing below max_position_embeddings, the longest sequence aiduck runs.
    expect(parseLlamaConfig({ ...base, rope_parameters: { rope_type: 'dynamic', factor: 2, rope_theta: 10000 } })).toEqual(parseLlamaConfig(base));
  });

  it('refuses rope settings it does not compute with 0A000, naming them', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ rope_parameters: { rope_type: 'yarn', rope_theta: 10000, factor: 4, original_max_position_embeddings: 1024 } }, 'yarn'],
      [{ rope_scaling: { type: 'longrope', short_factor: [1], long_factor: [1] } }, 'longrope'],
      [{ rope_parameters: { rope_type: 'llama3', rope_theta: 10000, ...llama3, attention_factor: 1.2 } }, 'attention_factor'],
      [{ rope_parameters: { full_attention: { rope_type: 'default', rope_theta: 1e6 }, sliding_attention: { rope_type: 'default', rope_theta: 1e4 } } }, 'per layer type'],
      [{ rope_parameters: { rope_type: 'default', rope_theta: 10000, partial_rotary_factor: 0.5 } }, 'partial rotary'],
    ];
    for (const [extra, says] of cases) {
      const e = await sqlError(() => parseLlamaConfig({ ...base, ...extra }));
      expect(e.code, says).toBe('0A000');
      expect(e.message, says).toContain(says);
      expect(e.hint, says).toBeTruthy();
    }
    expect((await sqlError(() => parseLlamaConfig({ ...base, rope_parameters: { rope_type: 'linear', rope_theta: 10000 } }))).code).toBe('22023');
  });

  it('stops generation at generation_config.json\'s eos ids when the folder has them, else at config.json\'s', async () => {
    const folder = join(dir, 'eos');
    await mkdir(folder, { recursive: true });
    const config = parseLlamaConfig({ ...base, eos_token_id: 7 });
    expect(await readEndOfTurnIds(folder, config)).toEqual([7]);
    await writeFile(join(folder, 'generation_config.json'), JSON.stringify({ bos_token_id: 1, do_sample: false }));
    expect(await readEndOfTurnIds(folder, config)).toEqual([7]);
    await writeFile(join(folder, 'generation_config.json'), JSON.stringify({ eos_token_id: [9, 7] }));
    expect(await readEndOfTurnIds(folder, config)).toEqual([9, 7]);
    await writeFile(join(folder, 'generation_config.json'), '{oops');
    expect((await sqlError(() => readEndOfTurnIds(folder, config))).code).toBe('22P02');
  });

  it('finds the chat template where transformers does: chat_template.jinja over tokenizer_config.json', async () => {
    const folder = join(dir, 'templates');
    await mkdir(join(folder, 'additional_chat_templates'), { recursive: true });
    await writeFile(join(folder, 'tokenizer_config.json'), JSON.stringify({ chat_template: 'from config' }));
    expect(readChatTemplate(folder)).toBe('from config');
    await writeFile(join(folder, 'chat_template.jinja'), 'from file');
    expect(readChatTemplate(folder)).toBe('from file');
    await writeFile(join(folder, 'additional_chat_templates', 'tool_use.jinja'), 'tools');
    expect(readChatTemplate(folder)).toEqual({ default: 'from file', tool_use: 'tools' });
    const bare = join(dir, 'no-template');
    await mkdir(bare, { recursive: true });
    await writeFile(join(bare, 'tokenizer_config.json'), JSON.stringify({ eos_token: '</s>' }));
    expect(readChatTemplate(bare)).toBeNull();
  });
});

// ---------------------------------------------------------------------------------------------------

const TINY: LlamaConfig = parseLlamaConfig({
  architectures: ['LlamaForCausalLM'], model_type: 'llama', hidden_size: 8, num_hidden_layers: 2, num_attention_heads: 2,
  num_key_value_heads: 1, intermediate_size: 12, vocab_size: 32, tie_word_embeddings: true,
});

let seed = 1;
const random = (): number => {
  seed = (seed * 1103515245 + 12345) % 2 ** 31;
  return seed / 2 ** 31 - 0.5;
};

function randomAdapter(config: LlamaConfig, r: number, targets: LinearModule[], alpha = 2 * r): LoraAdapter {
  const modules = new Map<string, LoraPair>();
  for (let layer = 0; layer < config.numLayers; layer++) {
    for (const module of targets) {
      const [out, inp] = linearShape(config, module);
      const A = { shape: [r, inp], data: Float32Array.from({ length: r * inp }, random) };
      const B = { shape: [out, r], data: Float32Array.from({ length: out * r }, random) };
      modules.set(modulePath(layer, module), { A, B });
    }
  }
  return { spec: { r, alpha, dropout: 0.05, targetModules: targets }, modules };
}

const bits = (a: Float32Array): Uint32Array => new Uint32Array(a.buffer, a.byteOffset, a.length);

/** An adapter folder as another tool would write it: our config keys overridden, tensors by their names. */
async function handWritten(name: string, config: Record<string, unknown>, tensors: WeightMap): Promise<string> {
  const folder = join(dir, name);
  await mkdir(folder, { recursive: true });
  await writeFile(join(folder, 'adapter_config.json'), JSON.stringify({ peft_type: 'LORA', task_type: 'CAUSAL_LM', r: 2, lora_alpha: 4, target_modules: ['q_proj'], ...config }));
  await writeSafetensors(join(folder, 'adapter_model.safetensors'), tensors, { format: 'pt' });
  return folder;
}

function loraTensors(r: number, modules: LinearModule[], name: (path: string, m: 'A' | 'B') => string, layers = TINY.numLayers): WeightMap {
  const out: WeightMap = new Map();
  for (let layer = 0; layer < layers; layer++) {
    for (const module of modules) {
      const [o, i] = linearShape(TINY, module);
      const path = modulePath(layer, module);
      out.set(name(path, 'A'), { shape: [r, i], data: Float32Array.from({ length: r * i }, random) });
      out.set(name(path, 'B'), { shape: [o, r], data: Float32Array.from({ length: o * r }, random) });
    }
  }
  return out;
}
const peftName = (path: string, m: 'A' | 'B'): string => `base_model.model.${path}.lora_${m}.weight`;
const plain = (): WeightMap => loraTensors(2, ['q_proj'], peftName);

describe('PEFT adapters', () => {
  it('round-trips every value bitwise, with the spec and the PEFT file layout', async () => {
    const adapter = randomAdapter(TINY, 2, ['q_proj', 'v_proj', 'down_proj']);
    const first = adapter.modules.get(modulePath(0, 'q_proj'))!;
    first.A.data.set([-0, 1e-42, 3.4e38, -1.17549435e-38], 0);
    const folder = join(dir, 'roundtrip');
    await writePeftAdapter(folder, adapter, { baseModelNameOrPath: 'HuggingFaceTB/SmolLM2-135M-Instruct', extra: { aiduck_epochs: 3 } });

    expect((await readdir(folder)).sort()).toEqual(['adapter_config.json', 'adapter_model.safetensors']);
    const json = JSON.parse(await readFile(join(folder, 'adapter_config.json'), 'utf8')) as Record<string, unknown>;
    expect(json).toMatchObject({
      peft_type: 'LORA', task_type: 'CAUSAL_LM', r: 2, lora_alpha: 4, lora_dropout: 0.05, target_modules: ['down_proj', 'q_proj', 'v_proj'],
      bias: 'none', fan_in_fan_out: false, inference_mode: true, init_lora_weights: true, use_rslora: false, use_dora: false,
      modules_to_save: null, layers_to_transform: null, layers_pattern: null, rank_pattern: {}, alpha_pattern: {},
      base_model_name_or_path: 'HuggingFaceTB/SmolLM2-135M-Instruct', revision: null,
    });
    const file = parseSafetensors(await readFile(join(folder, 'adapter_model.safetensors')));
    expect(file.metadata).toEqual({ format: 'pt', aiduck_epochs: '3' });
    expect(file.tensors.get('base_model.model.model.layers.1.mlp.down_proj.lora_A.weight')?.shape).toEqual([2, 12]);
    expect(file.tensors.get('base_model.model.model.layers.1.mlp.down_proj.lora_B.weight')?.shape).toEqual([8, 2]);
    expect(file.tensors.size).toBe(12);

    const back = await readPeftAdapter(folder, TINY);
    expect(back.spec).toEqual(adapter.spec);
    expect([...back.modules.keys()].sort()).toEqual([...adapter.modules.keys()].sort());
    for (const [path, pair] of adapter.modules) {
      const got = back.modules.get(path)!;
      expect(got.A.shape).toEqual(pair.A.shape);
      expect(got.B.shape).toEqual(pair.B.shape);
      expect(bits(got.A.data)).toEqual(bits(pair.A.data));
      expect(bits(got.B.data)).toEqual(bits(pair.B.data));
    }
    expect(await readPeftAdapterInfo(folder)).toEqual({ baseModelNameOrPath: 'HuggingFaceTB/SmolLM2-135M-Instruct', metadata: { format: 'pt', aiduck_epochs: '3' } });

    // Writing again replaces the files in place.
    await writePeftAdapter(folder, randomAdapter(TINY, 4, ['o_proj']), { baseModelNameOrPath: 'x' });
    expect((await readPeftAdapter(folder, TINY)).spec.targetModules).toEqual(['o_proj']);
    expect((await readdir(folder)).sort()).toEqual(['adapter_config.json', 'adapter_model.safetensors']);
  });

  it('loads adapters written by other tools: .default names, rsLoRA, unprefixed names, simple rank patterns', async () => {
    const tensors = loraTensors(4, ['q_proj', 'gate_proj'], (p, m) => `base_model.model.${p}.lora_${m}.default.weight`);
    const folder = await handWritten('other-tool', { r: 4, lora_alpha: 8, use_rslora: true, target_modules: ['gate_proj', 'q_proj'], rank_pattern: { q_proj: 4 } }, tensors);
    const adapter = await readPeftAdapter(folder, TINY);
    expect(adapter.spec.r).toBe(4);
    expect(adapter.spec.targetModules).toEqual(['q_proj', 'gate_proj']);
    expect(loraScale(adapter.spec)).toBeCloseTo(8 / Math.sqrt(4), 12); // rsLoRA: alpha / √r
    const a = adapter.modules.get(modulePath(1, 'gate_proj'))!.A;
    expect(bits(a.data)).toEqual(bits(tensors.get('base_model.model.model.layers.1.mlp.gate_proj.lora_A.default.weight')!.data));

    // Some exporters leave out PEFT's wrapper prefix; layers_to_transform leaves layers out.
    const bare = await handWritten('bare', { layers_to_transform: [0] }, loraTensors(2, ['q_proj'], (p, m) => `${p}.lora_${m}.weight`, 1));
    const partial = await readPeftAdapter(bare, TINY);
    expect([...partial.modules.keys()]).toEqual(['model.layers.0.self_attn.q_proj']);
    expect(loraScale(partial.spec)).toBe(2);
  });

  it('refuses adapter variants that would compute something else, saying what they use', async () => {
    const cases: Array<[string, Record<string, unknown>, WeightMap, string]> = [
      ['dora', { use_dora: true }, plain(), 'DoRA'],
      ['bias', { bias: 'all' }, plain(), 'bias'],
      ['modules-to-save', { modules_to_save: ['lm_head'] }, plain(), 'modules_to_save'],
      ['fan-in-fan-out', { fan_in_fan_out: true }, plain(), 'fan_in_fan_out'],
      ['prefix', { peft_type: 'PREFIX_TUNING' }, plain(), 'PREFIX_TUNING'],
      ['per-module-alpha', { alpha_pattern: { v_proj: 16 } }, loraTensors(2, ['q_proj', 'v_proj'], peftName), 'alpha'],
      ['per-module-rank', { rank_pattern: { v_proj: 4 } }, new Map([...loraTensors(2, ['q_proj'], peftName), ...loraTensors(4, ['v_proj'], peftName)]), 'rank'],
    ];
    for (const [name, config, tensors, says] of cases) {
      const e = await sqlError(() => handWritten(name, config, tensors).then((f) => readPeftAdapter(f, TINY)));
      expect(e.code, name).toBe('0A000');
      expect(e.message, name).toContain(says);
    }
    // The allow-list: a setting aiduck does not know is refused once it holds a value.
    const unknown = await sqlError(async () => readPeftAdapter(await handWritten('unknown-key', { use_quantum: { depth: 2 } }, plain()), TINY));
    expect([unknown.code, unknown.message]).toEqual(['0A000', expect.stringContaining('use_quantum')]);
    expect((await readPeftAdapter(await handWritten('unknown-off', { use_quantum: null, future_list: [], future_flag: false }, plain()), TINY)).spec.r).toBe(2);
    const refusals: Array<[string, Record<string, unknown>, string]> = [
      ['alora', { alora_invocation_tokens: [5, 6, 7] }, 'aLoRA'],
      ['tokens', { trainable_token_indices: [1, 2] }, 'trainable_token_indices'],
      ['lora-ga', { init_lora_weights: 'lora_ga' }, 'init_lora_weights'],
      ['pissa', { init_lora_weights: 'pissa_niter_4' }, 'init_lora_weights'],
      ['bdlora', { use_bdlora: { block: 2 } }, 'use_bdlora'],
      ['megatron', { megatron_config: { tensor_model_parallel_size: 2 } }, 'megatron_config'],
    ];
    for (const [name, config, says] of refusals) {
      const e = await sqlError(async () => readPeftAdapter(await handWritten(name, config, plain()), TINY));
      expect(e.code, name).toBe('0A000');
      expect(e.message, name).toContain(says);
      expect(e.hint, name).toBeTruthy();
    }
    // Training-only settings and initializations that leave the base model alone are accepted.
    const trainingOnly = { init_lora_weights: 'eva', eva_config: { rho: 2 }, lora_dropout: 0.1, velora_config: null, qalora_group_size: 16, peft_version: '0.21.0', exclude_modules: ['k_proj'] };
    expect((await readPeftAdapter(await handWritten('training-only', trainingOnly, plain()), TINY)).modules.size).toBe(2);
  });

  it('loads LoRA on lm_head and embed_tokens with PEFT\'s tensor names (lora_embedding_A/B), and writes them back the same way', async () => {
    const tensors = loraTensors(2, ['q_proj'], peftName);
    const hA = { shape: [2, 8], data: Float32Array.from({ length: 16 }, random) };
    const hB = { shape: [32, 2], data: Float32Array.from({ length: 64 }, random) };
    const eA = { shape: [2, 32], data: Float32Array.from({ length: 64 }, random) };
    const eB = { shape: [8, 2], data: Float32Array.from({ length: 16 }, random) };
    tensors.set('base_model.model.lm_head.lora_A.weight', hA);
    tensors.set('base_model.model.lm_head.lora_B.weight', hB);
    tensors.set('base_model.model.model.embed_tokens.lora_embedding_A', eA);
    tensors.set('base_model.model.model.embed_tokens.lora_embedding_B', eB);
    const folder = await handWritten('head-and-embedding', { target_modules: ['q_proj', 'lm_head', 'embed_tokens'] }, tensors);
    const adapter = await readPeftAdapter(folder, TINY);
    expect(adapter.spec.targetModules).toEqual(['q_proj', 'embed_tokens', 'lm_head']);
    expect(bits(adapter.modules.get('lm_head')!.B.data)).toEqual(bits(hB.data));
    expect(bits(adapter.modules.get('model.embed_tokens')!.A.data)).toEqual(bits(eA.data));
    const out = join(dir, 'head-and-embedding-out');
    await writePeftAdapter(out, adapter, { baseModelNameOrPath: 'base' });
    const written = parseSafetensors(await readFile(join(out, 'adapter_model.safetensors'))).tensors;
    expect([...written.keys()].sort()).toEqual([...tensors.keys()].sort());
    expect(JSON.parse(await readFile(join(out, 'adapter_config.json'), 'utf8')).target_modules).toEqual(['embed_tokens', 'lm_head', 'q_proj']);
    // The embedding's pair is A [r, vocab], B [hidden, r]: the transposed shapes are another model's.
    const swapped = new Map(tensors);
    swapped.set('base_model.model.model.embed_tokens.lora_embedding_A', { shape: [2, 8], data: new Float32Array(16) });
    swapped.set('base_model.model.model.embed_tokens.lora_embedding_B', { shape: [32, 2], data: new Float32Array(64) });
    const e = await sqlError(async () => readPeftAdapter(await handWritten('swapped-embedding', {}, swapped), TINY));
    expect([e.code, e.message]).toEqual(['22023', expect.stringContaining('[2, 32]')]);
    // PEFT can tie the adapters of tied embeddings (ensure_weight_tying): not computed here.
    const tied = await sqlError(async () => readPeftAdapter(await handWritten('tied-adapters', { ensure_weight_tying: true }, tensors), TINY));
    expect([tied.code, tied.message]).toEqual(['0A000', expect.stringContaining('ensure_weight_tying')]);
    const fullHead = plain();
    fullHead.set('base_model.model.lm_head.modules_to_save.default.weight', { shape: [32, 8], data: new Float32Array(256) });
    const e2 = await sqlError(async () => readPeftAdapter(await handWritten('full-head', {}, fullHead), TINY));
    expect([e2.code, e2.message]).toEqual(['0A000', expect.stringContaining('fully trained')]);
  });

  it('refuses missing files, pickled weights and adapters that do not fit the base model', async () => {
    expect((await sqlError(() => readPeftAdapter(join(dir, 'nowhere'), TINY))).code).toBe('58P01');
    const pickled = join(dir, 'pickled');
    await mkdir(pickled);
    await writeFile(join(pickled, 'adapter_config.json'), JSON.stringify({ peft_type: 'LORA', r: 2, lora_alpha: 4 }));
    await writeFile(join(pickled, 'adapter_model.bin'), 'PK');
    const e = await sqlError(() => readPeftAdapter(pickled, TINY));
    expect([e.code, e.message]).toEqual(['0A000', expect.stringContaining('convert it to safetensors')]);
    await rm(join(pickled, 'adapter_model.bin'));
    expect((await sqlError(() => readPeftAdapter(pickled, TINY))).code).toBe('58P01');

    const wrongRank = await sqlError(async () => readPeftAdapter(await handWritten('wrong-r', { r: 8 }, loraTensors(2, ['q_proj'], peftName)), TINY));
    expect([wrongRank.code, wrongRank.message]).toEqual(['22023', expect.stringContaining('[2, 8]')]);
    const otherModel = loraTensors(2, ['q_proj'], peftName);
    otherModel.set(peftName(modulePath(0, 'k_proj'), 'A'), { shape: [2, 16], data: new Float32Array(32) });
    otherModel.set(peftName(modulePath(0, 'k_proj'), 'B'), { shape: [4, 2], data: new Float32Array(8) });
    expect((await sqlError(async () => readPeftAdapter(await handWritten('wrong-shape', {}, otherModel), TINY))).code).toBe('22023');
    const deep = await sqlError(async () => readPeftAdapter(await handWritten('deep', {}, loraTensors(2, ['q_proj'], peftName, 3)), TINY));
    expect([deep.code, deep.message]).toEqual(['22023', expect.stringContaining('layer 2')]);
    const half = loraTensors(2, ['q_proj'], peftName);
    half.delete(peftName(modulePath(1, 'q_proj'), 'B'));
    expect((await sqlError(async () => readPeftAdapter(await handWritten('half', {}, half), TINY))).code).toBe('22P02');
    const stray = loraTensors(2, ['q_proj'], peftName);
    stray.set('base_model.model.model.layers.0.self_attn.rotary.weight', { shape: [1], data: new Float32Array(1) });
    expect((await sqlError(async () => readPeftAdapter(await handWritten('stray', {}, stray), TINY))).code).toBe('22P02');
  });
});

// ---------------------------------------------------------------------------------------------------

const CHATML_TEMPLATE =
  "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

interface TokenizerSpec {
  specials: string[];
  config: Record<string, unknown>;
  /** A post-processor that puts BOS first, as Llama tokenizers do. */
  bos?: string;
  /** Extra BPE training text, to get merges across template boundaries. */
  corpus?: Array<[string, number]>;
}

async function tokenizerAt(name: string, spec: TokenizerSpec): Promise<PreTrainedTokenizer> {
  // Newline runs get their own merge, so "\n" + "\n\n" straddles a template boundary the way Qwen's does.
  const bpe = trainByteLevelBpe([...defaultBpeCorpus(), ['\n\n', 400], ['\n\n\n', 200], ...(spec.corpus ?? [])], 300, spec.specials);
  const json = byteLevelBpeTokenizerJson(bpe, spec.specials) as Record<string, unknown>;
  if (spec.bos) {
    json.post_processor = {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: spec.bos, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
      pair: [{ SpecialToken: { id: spec.bos, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }],
      special_tokens: { [spec.bos]: { id: spec.bos, ids: [bpe.vocab.indexOf(spec.bos)], tokens: [spec.bos] } },
    };
  }
  const folder = join(dir, name);
  await mkdir(folder, { recursive: true });
  await writeFile(join(folder, 'tokenizer.json'), JSON.stringify(json));
  await writeFile(join(folder, 'tokenizer_config.json'), JSON.stringify({ tokenizer_class: 'GPT2Tokenizer', model_max_length: 2048, ...spec.config }));
  return AutoTokenizer.from_pretrained(folder, { local_files_only: true });
}

const decode = (tok: PreTrainedTokenizer, ids: ArrayLike<number>): string =>
  ids.length === 0 ? '' : tok.decode(Array.from(ids), { skip_special_tokens: false, clean_up_tokenization_spaces: false });

/** The decoded runs of consecutive target tokens. */
function targetRuns(tok: PreTrainedTokenizer, e: TokenizedExample): string[] {
  const runs: string[] = [];
  let run: number[] = [];
  e.inputIds.forEach((id, t) => {
    if (e.lossMask[t]) run.push(id);
    else if (run.length > 0) {
      runs.push(decode(tok, run));
      run = [];
    }
  });
  if (run.length > 0) runs.push(decode(tok, run));
  return runs;
}

describe('training data', () => {
  let chatml: PreTrainedTokenizer;
  let plain: PreTrainedTokenizer;
  let colon: PreTrainedTokenizer;

  beforeAll(async () => {
    chatml = await tokenizerAt('chatml', {
      specials: ['<|endoftext|>', '<|im_start|>', '<|im_end|>'],
      config: { eos_token: '<|im_end|>', pad_token: '<|endoftext|>', chat_template: CHATML_TEMPLATE },
    });
    plain = await tokenizerAt('plain', { specials: ['<s>', '</s>'], bos: '<s>', config: { bos_token: '<s>', eos_token: '</s>' } });
    colon = await tokenizerAt('colon', { specials: ['<|endoftext|>'], config: { eos_token: '<|endoftext|>', chat_template: CHAT_TEMPLATE } });
  });

  const chat = (...turns: Array<[string, string]>): TrainingRow => ({ messages: JSON.stringify({ messages: turns.map(([role, content]) => ({ role, content })) }) });

  it('targets exactly the assistant content and <|im_end|> of a ChatML conversation', () => {
    const row = chat(['system', 'You answer briefly.'], ['user', 'What is the capital of France?'], ['assistant', 'Paris is the capital.']);
    const { examples, summary } = tokenizeExamples(chatml, [row], { maxSeqLength: 512 });
    const [e] = examples;
    expect(decode(chatml, e!.inputIds)).toBe(
      '<|im_start|>system\nYou answer briefly.<|im_end|>\n<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\nParis is the capital.<|im_end|>\n',
    );
    expect(targetRuns(chatml, e!)).toEqual(['Paris is the capital.<|im_end|>']);
    expect(decode(chatml, [e!.inputIds.at(-1)!])).toBe('\n');
    expect(e!.lossMask.at(-1)).toBe(0);
    expect(summary).toMatchObject({ examples: 1, droppedEmpty: 0, truncated: 0, totalTokens: e!.inputIds.length });
    expect(summary.targetTokens).toBe(e!.lossMask.reduce((s, m) => s + m, 0));
  });

  it('targets every assistant turn of a multi-turn chat, given as a bare array or as parsed JSON', () => {
    const turns = [
      { role: 'user', content: 'hello there' },
      { role: 'assistant', content: 'Hi, how can I help?' },
      { role: 'user', content: 'tell me a word' },
      { role: 'assistant', content: 'water' },
    ];
    for (const row of [{ messages: JSON.stringify(turns) }, { messages: turns }]) {
      const [e] = tokenizeExamples(chatml, [row], { maxSeqLength: 512 }).examples;
      expect(targetRuns(chatml, e!)).toEqual(['Hi, how can I help?<|im_end|>', 'water<|im_end|>']);
    }
  });

  it('formats instruction rows as a user message and an assistant reply through the template', () => {
    const [e] = tokenizeExamples(chatml, [{ prompt: 'Say yes', response: 'yes' }], { maxSeqLength: 512 }).examples;
    expect(decode(chatml, e!.inputIds)).toBe('<|im_start|>user\nSay yes<|im_end|>\n<|im_start|>assistant\nyes<|im_end|>\n');
    expect(targetRuns(chatml, e!)).toEqual(['yes<|im_end|>']);
  });

  it('keeps every reply character a target when a token straddles the header and the reply', () => {
    // "assistant\n" + "\n\nwater": the newlines tokenize as "\n\n" + "\n" in context, not "\n" + ...
    const [e] = tokenizeExamples(chatml, [chat(['user', 'hi'], ['assistant', '\n\nwater'])], { maxSeqLength: 512 }).examples;
    expect(decode(chatml, e!.inputIds)).toBe('<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n\n\nwater<|im_end|>\n');
    // The straddling "\n\n" is a target: all of the reply is learned, plus the header's last newline.
    expect(targetRuns(chatml, e!)).toEqual(['\n\n\nwater<|im_end|>']);
  });

  it('keeps the end-of-turn marker a target when a token straddles the end of the turn', async () => {
    // "|" ends a turn and "<" opens the next; "|<" is one token, so the turn ends inside it.
    const angle = await tokenizerAt('angle', {
      specials: ['<|endoftext|>'],
      corpus: [['|<', 2000]],
      config: {
        eos_token: '<|endoftext|>',
        chat_template: "{% for message in messages %}{{ '<' + message['role'] + '> ' + message['content'] + '|' }}{% endfor %}{% if add_generation_prompt %}{{ '<assistant> ' }}{% endif %}",
      },
    });
    const [e] = tokenizeExamples(angle, [chat(['user', 'hi'], ['assistant', 'ok'], ['user', 'bye'], ['assistant', 'fine'])], { maxSeqLength: 512 }).examples;
    expect(decode(angle, e!.inputIds)).toBe('<user> hi|<assistant> ok|<user> bye|<assistant> fine|');
    expect(angle.encode('ok|<user', { add_special_tokens: false }).map((id) => decode(angle, [id]))).toContain('|<');
    // " ok" straddles the generation prompt's trailing space, "|<" the turn's end: both are targets.
    expect(targetRuns(angle, e!)).toEqual([' ok|<', ' fine|']);
  });

  it('takes a template\'s plain-text turn ending as the end-of-turn marker', () => {
    const [e] = tokenizeExamples(colon, [chat(['user', 'hi'], ['assistant', 'hello'], ['user', 'bye'], ['assistant', 'goodbye'])], { maxSeqLength: 512 }).examples;
    expect(decode(colon, e!.inputIds)).toBe('user: hi\nassistant: hello\nuser: bye\nassistant: goodbye\n');
    // The generation prompt is "assistant:", so the space before the reply is the model's to produce.
    expect(targetRuns(colon, e!)).toEqual([' hello\n', ' goodbye\n']);
  });

  it('without a chat template: BOS, prompt, then response and EOS as targets', () => {
    const [e] = tokenizeExamples(plain, [{ prompt: 'Question: what is water?\nAnswer:', response: ' a liquid' }], { maxSeqLength: 512 }).examples;
    expect(e!.inputIds[0]).toBe(plain.bos_token_id);
    expect(e!.inputIds.at(-1)).toBe(plain.eos_token_id);
    expect(decode(plain, e!.inputIds)).toBe('<s>Question: what is water?\nAnswer: a liquid</s>');
    expect(targetRuns(plain, e!)).toEqual([' a liquid</s>']);
    const chatRow = chat(['user', 'hi'], ['assistant', 'hello']);
    const err = (): unknown => tokenizeExamples(plain, [{ prompt: 'a', response: 'b' }, chatRow], { maxSeqLength: 512 });
    expect(err).toThrow(/row 2 is a conversation.*no chat template/);
  });

  it('truncates to max_seq_length keeping the start, and drops sequences left without a target', () => {
    const long = { prompt: 'Say something', response: 'the water is cold and the river is long and the sea is deep' };
    const full = tokenizeExamples(chatml, [long], { maxSeqLength: 4096 }).examples[0]!;
    const start = full.lossMask.indexOf(1);
    const cut = start + 3;
    const longPrompt = { prompt: 'word '.repeat(200), response: 'ok' };
    const { examples, summary } = tokenizeExamples(chatml, [long, longPrompt, { prompt: 'hi', response: 'yes' }], { maxSeqLength: cut });
    expect(examples).toHaveLength(2);
    expect(Array.from(examples[0]!.inputIds)).toEqual(Array.from(full.inputIds.slice(0, cut)));
    expect(Array.from(examples[0]!.lossMask)).toEqual(Array.from(full.lossMask.slice(0, cut)));
    expect(summary).toMatchObject({ examples: 2, droppedEmpty: 1, truncated: 1 });
    expect(summary.totalTokens).toBe(examples[0]!.inputIds.length + examples[1]!.inputIds.length);
    expect(summary.targetTokens).toBe(3 + examples[1]!.lossMask.reduce((s, m) => s + m, 0));
  });

  it('says which row is wrong and how', async () => {
    const cases: Array<[TrainingRow, string, RegExp]> = [
      [{ prompt: null, response: 'x' }, '22023', /row 2: prompt is NULL/],
      [{ prompt: 'x', response: '  ' }, '22023', /row 2: response is empty/],
      [{ prompt: 'x' }, '22023', /row 2: response is NULL/],
      [{ messages: '[{"role": "user"' }, '22P02', /row 2: messages is not valid JSON/],
      [{ messages: '{"messages": []}' }, '22023', /row 2: messages must be a non-empty array/],
      [{ messages: '"hello"' }, '22023', /row 2: messages must be a non-empty array/],
      [{ messages: null }, '22023', /row 2: messages is NULL/],
      [{ messages: '[{"role": "tool", "content": "x"}, {"role": "assistant", "content": "y"}]' }, '22023', /row 2: message 1 has role "tool"; roles must be system, user or assistant/],
      [{ messages: '[{"role": "user", "content": 3}, {"role": "assistant", "content": "y"}]' }, '22023', /row 2: message 1 \(user\) has content of type number/],
      [{ messages: '[{"role": "system", "content": "a"}, {"role": "user", "content": "b"}]' }, '22023', /row 2: the conversation has no assistant message/],
      [{ question: 'a', answer: 'b' }, '22023', /row 2 has columns \(question, answer\); it needs either prompt and response/],
    ];
    for (const [row, code, message] of cases) {
      const e = await sqlError(() => tokenizeExamples(chatml, [{ prompt: 'fine', response: 'fine' }, row], { maxSeqLength: 64 }));
      expect(e.code, JSON.stringify(row)).toBe(code);
      expect(e.message).toMatch(message);
    }
    expect((await sqlError(() => tokenizeExamples(chatml, [], { maxSeqLength: 0 }))).code).toBe('22023');
  });
});
