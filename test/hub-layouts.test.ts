/**
 * Models as current tools write them, over the wire: folders saved the way transformers 5 saves them
 * (rope_parameters, chat_template.jinja, eos ids in generation_config.json) answer exactly as the
 * transformers 4 folder of the same weights; rope types aiduck does not compute are refused; LoRA on
 * lm_head and embed_tokens trains, is written in PEFT's layout, loads back, merges and serves; refused
 * registrations leave nothing in the artifact store, and unreferenced artifacts are collected.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TINY_LLAMA, llamaModelFiles, writeModelFiles, type LlamaRope } from '../src/testmodels/index.js';
import { gpt2Generator } from '../src/testmodels/gpt2.js';
import { fetchFromHub } from '../src/registry/hf-hub.js';
import { readChatTemplate } from '../src/llm/chat-template.js';
import { parseSafetensors, writeSafetensors } from '../src/llm/safetensors.js';
import { ArtifactStore } from '../src/registry/artifact-store.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { commitOf, startLoopbackHub } from './helpers/hub-server.js';

const ROPES: Record<string, LlamaRope> = {
  default: { type: 'default' },
  linear: { type: 'linear', factor: 2 },
  dynamic: { type: 'dynamic', factor: 4 },
  // With head_dim 16 and θ 10000 the wavelengths run from 6 to 20,000 positions: some are kept, some smoothed, some slowed.
  llama3: { type: 'llama3', factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 64 },
};

const PROMPTS = [
  'How do I check my card balance and what is the interest rate on savings accounts this year?',
  'Can you help me with my transfer to another account, please, today or tomorrow?',
  'The weather is nice today and the football match is tonight; what should I know about the loan rate?',
];

const sqlList = (xs: string[]): string => `[${xs.map((x) => `'${x.replaceAll("'", "''")}'`).join(', ')}]`;

let server: TestServer;
let c: pg.Client;
let dir: string;

async function answers(model: string, qs = PROMPTS, maxTokens = 24): Promise<string[]> {
  const r = await c.query(`SELECT q, ai_query('${model}', q, modelParameters => named_struct('max_tokens', ${maxTokens})) AS a FROM unnest(${sqlList(qs)}) t(q)`);
  const byQuestion = new Map(r.rows.map((row: { q: string; a: string }) => [row.q, row.a]));
  return qs.map((q) => byQuestion.get(q)!);
}

const stored = (): string[] => readdirSync(join(server.dataDir, 'models')).sort();

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'aiduck-layouts-'));
  for (const [name, rope] of Object.entries(ROPES)) {
    await writeModelFiles(join(dir, `v4-${name}`), llamaModelFiles(TINY_LLAMA, { rope }));
    await writeModelFiles(join(dir, `v5-${name}`), llamaModelFiles(TINY_LLAMA, { rope, transformers5: true }));
  }
  await writeModelFiles(join(dir, 'v5-yarn'), llamaModelFiles(TINY_LLAMA, { rope: { type: 'yarn', factor: 4, originalMaxPositionEmbeddings: 128 }, transformers5: true }));
  server = await startTestServer({ importDirs: [dir] });
  c = await server.client();
}, 120_000);

afterAll(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('folders written by transformers 5', () => {
  it('are written as transformers 5 writes them', () => {
    const config = JSON.parse(readFileSync(join(dir, 'v5-llama3', 'config.json'), 'utf8'));
    expect(config.rope_parameters).toEqual({ rope_type: 'llama3', factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 64, rope_theta: 10000 });
    expect(config).not.toHaveProperty('rope_theta');
    expect(config).not.toHaveProperty('rope_scaling');
    expect(JSON.parse(readFileSync(join(dir, 'v5-llama3', 'tokenizer_config.json'), 'utf8'))).not.toHaveProperty('chat_template');
    expect(readFileSync(join(dir, 'v5-llama3', 'chat_template.jinja'), 'utf8')).toContain('<|im_start|>');
    expect(readFileSync(join(dir, 'v5-llama3', 'model.safetensors'))).toEqual(readFileSync(join(dir, 'v4-llama3', 'model.safetensors')));
  });

  it('register as chat models and generate exactly what the transformers 4 folder of the same weights generates, for every rope type', async () => {
    const byRope: Record<string, string[]> = {};
    for (const name of Object.keys(ROPES)) {
      const old = await c.query(`SELECT task, provider FROM register_model('v4_${name}', '${join(dir, `v4-${name}`)}')`);
      const current = await c.query(`SELECT task, provider FROM register_model('v5_${name}', '${join(dir, `v5-${name}`)}')`);
      expect(current.rows[0]).toEqual({ task: 'chat', provider: 'llama' });
      expect(current.rows[0]).toEqual(old.rows[0]);
      const want = await answers(`v4_${name}`);
      expect(want.every((a) => a.length > 0)).toBe(true);
      expect(await answers(`v5_${name}`), name).toEqual(want);
      byRope[name] = want;
    }
    // The scaling is applied, not dropped: rescaled frequencies change what the model says.
    expect(byRope.linear).not.toEqual(byRope.default);
    expect(byRope.llama3).not.toEqual(byRope.default);
    // Dynamic NTK rescales only past max_position_embeddings.
    expect(byRope.dynamic).toEqual(byRope.default);
  }, 120_000);

  it('refuse a rope type aiduck does not compute with 0A000, and leave nothing in the artifact store', async () => {
    const before = stored();
    await expect(c.query(`SELECT * FROM register_model('yarn', '${join(dir, 'v5-yarn')}')`)).rejects.toMatchObject({
      code: '0A000', message: expect.stringContaining('yarn'), hint: expect.stringContaining('llama3'),
    });
    expect(stored()).toEqual(before);
    expect((await c.query(`SELECT count(*)::INT AS n FROM ai.model_versions WHERE name = 'yarn'`)).rows[0].n).toBe(0);
  });

  it('train with chats through chat_template.jinja: the same tokens, losses and adapter as the transformers 4 folder', async () => {
    await c.query(`CREATE TABLE chats AS SELECT json_array(json_object('role', 'user', 'content', q), json_object('role', 'assistant', 'content', 'Sure, I can help.')) AS messages
      FROM unnest(${sqlList(PROMPTS)}) t(q)`);
    const train = async (base: string): Promise<{ loss: number[]; digest: string; adapter: Buffer; task: string }> => {
      const r = await c.query(`SELECT version, train_loss FROM train_lora('t_${base}', '${base}', 'chats', epochs => 2, r => 4, seed => 3)`);
      const run = await c.query(`SELECT data_digest FROM ai.training_runs WHERE name = 't_${base}'`);
      const v = await c.query(`SELECT location, task FROM ai.model_versions WHERE name = 't_${base}'`);
      return { loss: r.rows.map((x) => x.train_loss), digest: run.rows[0].data_digest, adapter: readFileSync(join(v.rows[0].location, 'adapter_model.safetensors')), task: v.rows[0].task };
    };
    const old = await train('v4_llama3');
    const current = await train('v5_llama3');
    expect(current.task).toBe('chat');
    expect(current.digest).toBe(old.digest);
    expect(current.loss).toEqual(old.loss);
    expect(current.adapter.equals(old.adapter)).toBe(true);
  }, 60_000);
});

describe('a transformers 5 repository on the Hub', () => {
  it('is downloaded with its chat_template.jinja', async () => {
    // A loopback server playing the Hub, serving an ONNX chat model saved the transformers 5 way.
    const repo = join(dir, 'hub-repo');
    const files = gpt2Generator() as Record<string, unknown>;
    const { chat_template: template, ...tokenizerConfig } = files['tokenizer_config.json'] as Record<string, unknown>;
    expect(template).toEqual(expect.stringContaining('{%'));
    await writeModelFiles(repo, { ...files, 'tokenizer_config.json': tokenizerConfig, 'chat_template.jinja': String(template), 'README.md': '# a model card' } as Parameters<typeof writeModelFiles>[1]);
    const hub = await startLoopbackHub({ 'org/chat': { commits: { [commitOf('chat')]: repo }, refs: { main: commitOf('chat') } } });
    process.env['HF_ENDPOINT'] = hub.url;
    try {
      const { path } = await fetchFromHub('org/chat', 'main', { store: new ArtifactStore(join(dir, 'hub-store')), cacheDir: join(dir, 'hub-cache') });
      expect(readdirSync(path).sort()).toEqual(readdirSync(repo).filter((f) => f !== 'README.md').sort());
      expect(readdirSync(path)).toContain('chat_template.jinja');
      expect(readChatTemplate(path)).toBe(String(template));
    } finally {
      delete process.env['HF_ENDPOINT'];
      await hub.close();
    }
    // Served by transformers.js as a chat model, it answers through the template as the transformers 4 layout does.
    await writeModelFiles(join(dir, 'hub-repo-v4'), files as Parameters<typeof writeModelFiles>[1]);
    const ask = async (model: string): Promise<string> =>
      (await c.query(`SELECT ai_query('${model}', 'the team won the match', modelParameters => named_struct('max_tokens', 12)) AS a`)).rows[0].a as string;
    await c.query(`SELECT * FROM register_model('onnx_chat_v5', '${repo}', task => 'chat')`);
    await c.query(`SELECT * FROM register_model('onnx_chat_v4', '${join(dir, 'hub-repo-v4')}', task => 'chat')`);
    await c.query(`SELECT * FROM register_model('onnx_plain', '${repo}', task => 'text-generation')`);
    const v5 = await ask('onnx_chat_v5');
    expect(v5).toBe(await ask('onnx_chat_v4'));
    expect(v5).not.toBe(await ask('onnx_plain'));
  }, 60_000);
});

describe('LoRA on lm_head and embed_tokens', () => {
  const OPENLLAMA_3B_V2 = {
    architectures: ['LlamaForCausalLM'], model_type: 'llama', hidden_size: 3200, intermediate_size: 8640, num_attention_heads: 32,
    num_hidden_layers: 26, vocab_size: 32000, max_position_embeddings: 2048, rms_norm_eps: 1e-6, tie_word_embeddings: false,
  };

  it('dry_run counts the LoRA guide\'s third configuration on OpenLLaMA-3b-v2: 12,994,560', async () => {
    const folder = join(dir, 'open-llama-3b-v2-config');
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, 'config.json'), JSON.stringify(OPENLLAMA_3B_V2));
    const r = await c.query(`SELECT trainable_params FROM train_lora('x', '${folder}', NULL, r => 8,
      target_modules => ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj', 'lm_head'], dry_run => true)`);
    expect(r.rows[0].trainable_params).toBe('12994560');
  });

  it('trains, writes PEFT\'s tensor names, loads back as a registered adapter, merges and serves the same answers', async () => {
    await c.query(`CREATE TABLE replies AS SELECT json_array(json_object('role', 'user', 'content', q), json_object('role', 'assistant', 'content', 'Sorry, I can only help with banking.')) AS messages
      FROM unnest(${sqlList([...PROMPTS, 'What time is it?', 'Tell me about the football match tonight.', 'How much is the fee for a wire transfer?'])}) t(q)`);
    const r = await c.query(`SELECT epoch, train_loss, version FROM train_lora('heady', 'v4_default', 'replies', r => 8, lora_alpha => 16,
      target_modules => ['q_proj', 'v_proj', 'lm_head', 'embed_tokens'], learning_rate => 0.004, epochs => 12, batch_size => 2, lora_dropout => 0.0, seed => 5)`);
    expect(r.rows.at(-1).train_loss).toBeLessThan(r.rows[0].train_loss * 0.3);
    const location = (await c.query(`SELECT location FROM ai.model_versions WHERE name = 'heady'`)).rows[0].location as string;
    const adapterConfig = JSON.parse(readFileSync(join(location, 'adapter_config.json'), 'utf8'));
    expect(adapterConfig.target_modules).toEqual(['embed_tokens', 'lm_head', 'q_proj', 'v_proj']);
    const tensors = parseSafetensors(readFileSync(join(location, 'adapter_model.safetensors'))).tensors;
    expect(tensors.get('base_model.model.lm_head.lora_A.weight')?.shape).toEqual([8, 64]);
    expect(tensors.get('base_model.model.lm_head.lora_B.weight')?.shape).toEqual([1280, 8]);
    expect(tensors.get('base_model.model.model.embed_tokens.lora_embedding_A')?.shape).toEqual([8, 1280]);
    expect(tensors.get('base_model.model.model.embed_tokens.lora_embedding_B')?.shape).toEqual([64, 8]);
    // Both adapters learnt something: the head's B and the embedding's A start at zero.
    expect(tensors.get('base_model.model.lm_head.lora_B.weight')!.data.some((x) => x !== 0)).toBe(true);
    expect(tensors.get('base_model.model.model.embed_tokens.lora_embedding_A')!.data.some((x) => x !== 0)).toBe(true);

    const trained = await answers('heady', PROMPTS, 12);
    expect(trained.filter((a) => a === 'Sorry, I can only help with banking.').length, JSON.stringify(trained)).toBeGreaterThanOrEqual(2);
    expect(await answers('v4_default', PROMPTS, 12)).not.toEqual(trained);
    const exported = join(dir, 'heady-adapter');
    cpSync(location, exported, { recursive: true });
    await c.query(`SELECT * FROM register_model('heady_imported', '${exported}', base_model => 'v4_default')`);
    expect(await answers('heady_imported', PROMPTS, 12)).toEqual(trained);
    const merged = await c.query(`SELECT provider FROM merge_adapter('heady_merged', 'heady')`);
    expect(merged.rows[0].provider).toBe('llama');
    expect(await answers('heady_merged', PROMPTS, 12)).toEqual(trained);
  }, 120_000);

  it('merging into tied embeddings unties them, and the merged model answers as the adapter', async () => {
    const folder = join(dir, 'tied');
    await writeModelFiles(folder, llamaModelFiles({ ...TINY_LLAMA, tiedEmbeddings: true }, { transformers5: true }));
    await c.query(`SELECT * FROM register_model('tied', '${folder}')`);
    await c.query(`SELECT * FROM train_lora('tied_lora', 'tied', 'replies', r => 4, target_modules => ['lm_head', 'embed_tokens'], learning_rate => 0.004, epochs => 3, seed => 2)`);
    const sample = PROMPTS.slice(0, 2);
    const viaAdapter = await answers('tied_lora', sample, 10);
    await c.query(`SELECT * FROM merge_adapter('tied_merged', 'tied_lora')`);
    const location = (await c.query(`SELECT location FROM ai.model_versions WHERE name = 'tied_merged'`)).rows[0].location as string;
    expect(JSON.parse(readFileSync(join(location, 'config.json'), 'utf8')).tie_word_embeddings).toBe(false);
    expect([...parseSafetensors(readFileSync(join(location, 'model.safetensors'))).tensors.keys()]).toContain('lm_head.weight');
    expect(await answers('tied_merged', sample, 10)).toEqual(viaAdapter);
  }, 60_000);
});

describe('refusals and the artifact store', () => {
  it('refuses adapters it does not compute with 0A000 and a hint, leaving nothing behind', async () => {
    const location = (await c.query(`SELECT location FROM ai.model_versions WHERE name = 'heady'`)).rows[0].location as string;
    const cases: Array<[string, Record<string, unknown>, RegExp]> = [
      ['alora', { alora_invocation_tokens: [3, 4] }, /aLoRA/],
      ['dora', { use_dora: true }, /DoRA/],
      ['unknown', { use_wavelets: { levels: 3 } }, /use_wavelets/],
    ];
    for (const [name, extra, says] of cases) {
      const folder = join(dir, `adapter-${name}`);
      cpSync(location, folder, { recursive: true });
      const config = JSON.parse(readFileSync(join(folder, 'adapter_config.json'), 'utf8'));
      writeFileSync(join(folder, 'adapter_config.json'), JSON.stringify({ ...config, ...extra }));
      const before = stored();
      await expect(c.query(`SELECT * FROM register_model('bad_${name}', '${folder}', base_model => 'v4_default')`)).rejects.toMatchObject({
        code: '0A000', message: expect.stringMatching(says), hint: expect.any(String),
      });
      expect(stored(), name).toEqual(before);
    }
  });

  it('a registration refused after its files were stored (the model does not load) leaves nothing behind either', async () => {
    const folder = join(dir, 'broken-weights');
    cpSync(join(dir, 'v4-default'), folder, { recursive: true });
    await writeSafetensors(join(folder, 'model.safetensors'), new Map([['model.norm.weight', { shape: [64], data: new Float32Array(64) }]]));
    const before = stored();
    await expect(c.query(`SELECT * FROM register_model('broken', '${folder}')`)).rejects.toMatchObject({ message: expect.stringContaining('does not') });
    expect(stored()).toEqual(before);
    // The same files as a registered version stay: the store keeps what a version references.
    await expect(c.query(`SELECT * FROM register_model('again', '${join(dir, 'v4-default')}', alias => 'latest')`)).rejects.toMatchObject({ code: '42602' });
    const v4 = (await c.query(`SELECT location FROM ai.model_versions WHERE name = 'v4_default'`)).rows[0].location as string;
    expect(existsSync(join(v4, 'model.safetensors'))).toBe(true);
  });

  it('collects unreferenced artifacts and leftovers when a database opens', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'aiduck-gc-'));
    try {
      const first = await startTestServer({ importDirs: [dir], dataDir });
      const kept = await (await first.client()).query(`SELECT location FROM register_model('kept', '${join(dir, 'v4-default')}')`);
      await first.stop();
      const models = join(dataDir, 'models');
      const stray = join(models, `sha256-${'0'.repeat(64)}`);
      mkdirSync(stray);
      writeFileSync(join(stray, 'config.json'), '{}');
      mkdirSync(join(models, '.staging-abc123'));
      mkdirSync(join(models, '.train-abc123'));
      const second = await startTestServer({ importDirs: [dir], dataDir });
      try {
        expect(readdirSync(models)).toEqual([kept.rows[0].location.split('/').at(-1)]);
        const client = await second.client();
        expect((await client.query(`SELECT ai_query('kept', 'hello', modelParameters => named_struct('max_tokens', 3)) AS a`)).rows[0].a).toEqual(expect.any(String));
      } finally {
        await second.stop();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60_000);
});
