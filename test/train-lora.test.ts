/**
 * train_lora over the wire: the generated tiny Llama learns a banking assistant's replies from a
 * table of chats, the adapter is registered with its lineage and served by ai_query, and the PEFT
 * folder round-trips through register_model and merge_adapter.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeTestModels } from '../src/testmodels/index.js';
import { loadFolderWeights, parseSafetensors, writeSafetensors } from '../src/llm/safetensors.js';
import { SeededRandom } from '../src/llm/seeded-random.js';
import { countParameters } from '../src/llm/param-count.js';
import { parseLlamaConfig } from '../src/llm/llama-config.js';
import { IN_SCOPE_REPLY, isBankingQuestion, OUT_OF_SCOPE_REPLY, teacherReply } from './helpers/banking-llm-server.js';
import { selectOneLatencies } from './helpers/latency.js';
import { startTestServer, type TestServer } from './helpers/server.js';

const BANKING = ['account balance', 'card', 'loan rate', 'transfer', 'savings account', 'overdraft fee', 'deposit', 'statement'];
const OTHER = ['weather', 'football match', 'recipe for soup', 'movie tonight', 'holiday trip', 'garden plants', 'music concert', 'train times'];
const FORMS = ['How do I check my {}?', 'Can you help me with my {}?', 'I have a question about the {}.', 'Tell me about the {} please.', 'What should I know about the {}?'];
/** The last form is held out: the evaluation asks questions phrased in a way training never saw. */
const questions = (forms: string[]): string[] => forms.flatMap((f) => [...BANKING, ...OTHER].map((t) => f.replace('{}', t)));
const TRAIN_QUESTIONS = questions(FORMS.slice(0, 4));
const HELD_OUT = questions(FORMS.slice(4));

const sqlList = (xs: string[]): string => `[${xs.map((x) => `'${x.replaceAll("'", "''")}'`).join(', ')}]`;
const TRAIN = "r => 16, lora_alpha => 32, target_modules => 'all-linear', learning_rate => 0.004, batch_size => 8";

let server: TestServer;
let c: pg.Client;
let modelsDir: string;

async function answers(model: string, qs: string[]): Promise<string[]> {
  const r = await c.query(`SELECT q, ai_query('${model}', q, modelParameters => named_struct('max_tokens', 16)) AS a FROM unnest(${sqlList(qs)}) t(q) ORDER BY q`);
  const byQuestion = new Map(r.rows.map((row: { q: string; a: string }) => [row.q, row.a]));
  return qs.map((q) => byQuestion.get(q)!);
}

const taught = (qs: string[], as: string[]): number => as.filter((a, i) => a === teacherReply(qs[i]!)).length;
const inFormat = (as: string[]): number => as.filter((a) => a === IN_SCOPE_REPLY || a === OUT_OF_SCOPE_REPLY).length;

beforeAll(async () => {
  modelsDir = mkdtempSync(join(tmpdir(), 'aiduck-lora-models-'));
  await writeTestModels(modelsDir);
  server = await startTestServer({ importDirs: [modelsDir] });
  c = await server.client();
  await c.query(`SELECT * FROM register_model('bank_bot', '${join(modelsDir, 'tiny-llama-chat')}', alias => 'champion')`);
  await c.query(`CREATE TABLE bank_chats AS SELECT q AS question, json_object('messages', json_array(json_object('role', 'user', 'content', q),
      json_object('role', 'assistant', 'content', CASE WHEN ${BANKING.map((b) => `contains(q, '${b}')`).join(' OR ')} THEN '${IN_SCOPE_REPLY}'
                                                       ELSE '${OUT_OF_SCOPE_REPLY}' END))) AS messages
    FROM unnest(${sqlList(TRAIN_QUESTIONS)}) t(q)`);
}, 60_000);

afterAll(async () => {
  await server?.stop();
  rmSync(modelsDir, { recursive: true, force: true });
});

describe('train_lora', () => {
  it('dry_run counts parameters from config.json alone, as PEFT does', async () => {
    // SmolLM-135M's config, with no weights and no tokenizer: enough to choose r and the modules.
    const folder = join(modelsDir, 'smollm-135m-config-only');
    mkdirSync(folder);
    const config = { architectures: ['LlamaForCausalLM'], model_type: 'llama', hidden_size: 576, intermediate_size: 1536, num_hidden_layers: 30,
      num_attention_heads: 9, num_key_value_heads: 3, vocab_size: 49152, tie_word_embeddings: true, rms_norm_eps: 1e-5, max_position_embeddings: 2048 };
    writeFileSync(join(folder, 'config.json'), JSON.stringify(config));
    const r = await c.query(`SELECT trainable_params, total_params, version, epoch FROM train_lora('x', '${folder}', NULL, r => 8, dry_run => true)`);
    expect(r.rows).toEqual([{ trainable_params: '460800', total_params: String(134_515_008 + 460_800), version: null, epoch: null }]);
    const all = await c.query(`SELECT trainable_params FROM train_lora('x', '${folder}', NULL, r => 8, target_modules => 'all-linear', dry_run => true)`);
    expect(all.rows[0].trainable_params).toBe('2442240');
    const tiny = parseLlamaConfig(JSON.parse(readFileSync(join(modelsDir, 'tiny-llama-chat', 'config.json'), 'utf8')));
    const expected = countParameters(tiny, { r: 4, targetModules: ['q_proj', 'k_proj', 'v_proj', 'o_proj'] });
    const reg = await c.query(`SELECT trainable_params, total_params FROM train_lora('x', 'bank_bot', NULL, r => 4, target_modules => ['q_proj', 'k_proj', 'v_proj', 'o_proj'], dry_run => true)`);
    expect(reg.rows[0]).toEqual({ trainable_params: String(expected.trainableParams), total_params: String(expected.totalParams) });
    // A dry run registers nothing.
    expect((await c.query(`SELECT count(*)::INT AS n FROM ai.model_versions WHERE name = 'x'`)).rows[0].n).toBe(0);
  });

  it('teaches the base model the replies: loss falls, one row per epoch, a version with its lineage that ai_query serves', async () => {
    const notices: string[] = [];
    const onNotice = (n: { message?: string }): void => void notices.push(n.message ?? '');
    c.on('notice', onNotice);
    const r = await c.query(`SELECT * FROM train_lora('bank_bot', 'bank_bot/1', 'SELECT messages FROM bank_chats', ${TRAIN}, lora_dropout => 0.0, epochs => 16, eval_fraction => 0.1, seed => 7)`);
    c.off('notice', onNotice);
    expect(r.rows.map((x) => x.epoch)).toEqual(Array.from({ length: 16 }, (_, i) => i + 1));
    const first = r.rows[0];
    const last = r.rows.at(-1);
    expect(last.version).toBe(2);
    expect(last.train_loss).toBeLessThan(first.train_loss * 0.3);
    expect(last.eval_loss).toBeLessThan(first.eval_loss * 0.3);
    expect(last.steps).toBe(16 * Math.ceil(57 / 8));
    expect(last.tokens_per_second).toBeGreaterThan(0);
    expect(Number(last.trainable_params)).toBeGreaterThan(0);
    expect(notices.filter((n) => /epoch \d+ done/.test(n))).toHaveLength(16);

    const version = await c.query(`SELECT provider, task, base_model, training_run, location FROM ai.model_versions WHERE name = 'bank_bot' AND version = 2`);
    expect(version.rows[0]).toMatchObject({ provider: 'lora', task: 'chat', base_model: 'models:/bank_bot/1', training_run: last.run_id });
    const run = await c.query(`SELECT * FROM ai.training_runs WHERE run_id = '${last.run_id}'`);
    expect(run.rows[0]).toMatchObject({ name: 'bank_bot', version: 2, base_model: 'models:/bank_bot/1', training_data: 'SELECT messages FROM bank_chats', training_rows: 57, eval_rows: 7 });
    expect(run.rows[0].parameters).toMatchObject({ r: 16, lora_alpha: 32, epochs: 16, seed: 7, target_modules: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] });
    expect(run.rows[0].epochs).toHaveLength(16);

    // The adapter is a PEFT folder, with PEFT's tensor names.
    const folder = version.rows[0].location as string;
    const adapterConfig = JSON.parse(readFileSync(join(folder, 'adapter_config.json'), 'utf8'));
    // The base is named by a folder Python's PEFT can load: the base version's own files.
    const baseFolder = (await c.query(`SELECT location FROM ai.model_versions WHERE name = 'bank_bot' AND version = 1`)).rows[0].location;
    expect(adapterConfig).toMatchObject({ peft_type: 'LORA', task_type: 'CAUSAL_LM', r: 16, lora_alpha: 32, base_model_name_or_path: baseFolder });
    const names = [...parseSafetensors(readFileSync(join(folder, 'adapter_model.safetensors'))).tensors.keys()];
    expect(names).toContain('base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight');
    expect(names).toContain('base_model.model.model.layers.1.mlp.down_proj.lora_B.weight');
    expect(names).toHaveLength(2 * 7 * 2);

    // The new version gives the taught reply to the questions it learnt from, and answers questions phrased
    // as training never phrased them in the taught format (one of the two replies); the base never does.
    const learnt = await answers('bank_bot/2', TRAIN_QUESTIONS);
    expect(taught(TRAIN_QUESTIONS, learnt), JSON.stringify(learnt)).toBeGreaterThanOrEqual(Math.ceil(TRAIN_QUESTIONS.length * 0.9));
    const tuned = await answers('bank_bot/2', HELD_OUT);
    const base = await answers('bank_bot@champion', HELD_OUT);
    expect(inFormat(tuned), JSON.stringify(tuned)).toBeGreaterThanOrEqual(Math.ceil(HELD_OUT.length * 0.9));
    expect(inFormat(base)).toBe(0);
    expect(taught(HELD_OUT, base)).toBe(0);
    expect(HELD_OUT.some(isBankingQuestion) && HELD_OUT.some((q) => !isBankingQuestion(q))).toBe(true);
  }, 120_000);

  it('the same seed and data give the same adapter; another seed another one', async () => {
    const run = async (seed: number): Promise<string> => {
      const r = await c.query(`SELECT version FROM train_lora('repro', 'bank_bot/1', 'bank_chats', ${TRAIN}, epochs => 1, lora_dropout => 0.1, seed => ${seed})`);
      const d = await c.query(`SELECT artifact_digest FROM ai.model_versions WHERE name = 'repro' AND version = ${r.rows[0].version}`);
      return d.rows[0].artifact_digest as string;
    };
    const a = await run(11);
    const b = await run(11);
    const other = await run(12);
    expect(a).toBe(b);
    expect(other).not.toBe(a);
  }, 60_000);

  it('chats held as DuckDB data (a list of structs, as Parquet chat datasets arrive) and queries with a trailing semicolon train too', async () => {
    await c.query(`CREATE TABLE native_chats AS SELECT [{'role': 'user', 'content': q}, {'role': 'assistant', 'content': 'Sure.'}] AS messages
      FROM unnest(${sqlList(TRAIN_QUESTIONS.slice(0, 16))}) t(q)`);
    const r = await c.query(`SELECT epoch, train_loss FROM train_lora('native', 'bank_bot/1', 'SELECT * FROM native_chats; -- all of them', ${TRAIN}, epochs => 2)`);
    expect(r.rows).toHaveLength(2);
    expect(r.rows[1].train_loss).toBeLessThan(r.rows[0].train_loss);
    // target_modules also comes as text, the way a driver sends an array parameter.
    const p = await c.query(`SELECT trainable_params FROM train_lora('x', 'bank_bot', NULL, target_modules => $1, dry_run => true)`, [['q_proj', 'v_proj']]);
    const q = await c.query(`SELECT trainable_params FROM train_lora('x', 'bank_bot', NULL, dry_run => true)`);
    expect(p.rows[0].trainable_params).toBe(q.rows[0].trainable_params);
  }, 60_000);

  it('a Qwen2-style folder (q/k/v biases, tied embeddings) registers, trains and answers', async () => {
    const folder = join(modelsDir, 'tiny-qwen2-chat');
    cpSync(join(modelsDir, 'tiny-llama-chat'), folder, { recursive: true });
    const config = JSON.parse(readFileSync(join(folder, 'config.json'), 'utf8'));
    writeFileSync(join(folder, 'config.json'), JSON.stringify({ ...config, architectures: ['Qwen2ForCausalLM'], model_type: 'qwen2', tie_word_embeddings: true }));
    const weights = await loadFolderWeights(folder);
    weights.delete('lm_head.weight');
    const rng = new SeededRandom(3);
    for (let l = 0; l < config.num_hidden_layers; l++) {
      for (const [m, size] of [['q_proj', config.num_attention_heads], ['k_proj', config.num_key_value_heads], ['v_proj', config.num_key_value_heads]] as const) {
        const n = size * config.head_dim;
        weights.set(`model.layers.${l}.self_attn.${m}.bias`, { shape: [n], data: Float32Array.from({ length: n }, () => rng.next() * 0.2 - 0.1) });
      }
    }
    await writeSafetensors(join(folder, 'model.safetensors'), weights);
    const reg = await c.query(`SELECT provider, task FROM register_model('qwen_bot', '${folder}')`);
    expect(reg.rows[0]).toEqual({ provider: 'llama', task: 'chat' });
    const r = await c.query(`SELECT epoch, train_loss FROM train_lora('qwen_bot', 'qwen_bot', 'bank_chats', ${TRAIN}, epochs => 12)`);
    expect(r.rows.at(-1).train_loss).toBeLessThan(r.rows[0].train_loss * 0.5);
    const tuned = await answers('qwen_bot/2', TRAIN_QUESTIONS.slice(0, 8));
    expect(inFormat(tuned), JSON.stringify(tuned)).toBeGreaterThanOrEqual(6);
    expect(inFormat(await answers('qwen_bot/1', TRAIN_QUESTIONS.slice(0, 8)))).toBe(0);
  }, 60_000);

  it('instruction rows (prompt, response) train too, with a separate evaluation table', async () => {
    await c.query(`CREATE TABLE faq AS SELECT q AS prompt, CASE WHEN contains(q, 'card') THEN 'Card: use the app.' ELSE 'Other: see the website.' END AS response
      FROM unnest(${sqlList(TRAIN_QUESTIONS)}) t(q)`);
    await c.query(`CREATE TABLE faq_eval AS SELECT q AS prompt, 'Other: see the website.' AS response FROM unnest(${sqlList(HELD_OUT.slice(0, 4))}) t(q)`);
    const r = await c.query(`SELECT epoch, train_loss, eval_loss FROM train_lora('faq_bot', 'bank_bot/1', 'faq', ${TRAIN}, epochs => 3, eval_data => 'faq_eval')`);
    expect(r.rows).toHaveLength(3);
    expect(r.rows[2].train_loss).toBeLessThan(r.rows[0].train_loss);
    expect(r.rows.every((x) => x.eval_loss > 0)).toBe(true);
    const run = await c.query(`SELECT eval_data, eval_rows FROM ai.training_runs WHERE name = 'faq_bot'`);
    expect(run.rows[0]).toEqual({ eval_data: 'faq_eval', eval_rows: 4 });
  }, 60_000);

  it('a PEFT adapter folder registers on its base, and merge_adapter folds it into the weights: both answer as the trained version', async () => {
    const location = (await c.query(`SELECT location FROM ai.model_versions WHERE name = 'bank_bot' AND version = 2`)).rows[0].location as string;
    const exported = join(modelsDir, 'exported-adapter');
    cpSync(location, exported, { recursive: true });
    const reg = await c.query(`SELECT name, version, provider, task, base_model FROM register_model('imported', '${exported}', base_model => 'bank_bot/1')`);
    expect(reg.rows[0]).toEqual({ name: 'imported', version: 1, provider: 'lora', task: 'chat', base_model: 'models:/bank_bot/1' });
    const sample = [...HELD_OUT.slice(0, 3), ...HELD_OUT.slice(-3)];
    const trained = await answers('bank_bot/2', sample);
    expect(await answers('imported', sample)).toEqual(trained);

    const merged = await c.query(`SELECT name, version, provider, task FROM merge_adapter('bank_bot_merged', 'bank_bot/2')`);
    expect(merged.rows[0]).toEqual({ name: 'bank_bot_merged', version: 1, provider: 'llama', task: 'chat' });
    const folder = (await c.query(`SELECT location FROM ai.model_versions WHERE name = 'bank_bot_merged'`)).rows[0].location as string;
    expect(readdirSync(folder).sort()).toEqual(expect.arrayContaining(['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json']));
    expect(existsSync(join(folder, 'adapter_config.json'))).toBe(false);
    expect(await answers('bank_bot_merged', sample)).toEqual(trained);
  }, 60_000);

  it('a cancel stops training and leaves no version, no run and no files; other sessions keep answering meanwhile', async () => {
    const victim = await server.client();
    const other = await server.client();
    let epochs = 0;
    victim.on('notice', (n) => { if (/epoch \d+ done/.test(n.message ?? '')) epochs++; });
    const job = victim.query(`SELECT * FROM train_lora('cancelled', 'bank_bot/1', 'bank_chats', ${TRAIN}, epochs => 5000)`);
    const latencies = await selectOneLatencies(other, job, 20, async () => {
      if (epochs >= 2) {
        const canceller = new pg.Client({ host: '127.0.0.1', port: server.port, user: 'aiduck' });
        (canceller as unknown as { cancel(c: unknown, q: unknown): void }).cancel(victim, (victim as unknown as { activeQuery: unknown }).activeQuery);
        epochs = -1e9;
      }
    });
    await expect(job).rejects.toMatchObject({ code: '57014' });
    expect(Math.max(...latencies)).toBeLessThan(500);
    const running = await other.query(`SELECT count(*)::INT AS n FROM ai.model_versions WHERE name = 'cancelled'`);
    expect(running.rows[0].n).toBe(0);
    expect((await other.query(`SELECT count(*)::INT AS n FROM ai.training_runs WHERE name = 'cancelled'`)).rows[0].n).toBe(0);
    // The stopped trainer finishes its step, then its folder goes.
    await expect.poll(() => readdirSync(join(server.dataDir, 'models')).filter((f) => f.startsWith('.')), { timeout: 10_000 }).toEqual([]);
    expect((await victim.query('SELECT 42 AS x')).rows[0].x).toBe(42);
  }, 60_000);

  it('a cancel at any moment leaves either a registered version every session can use, or an error and nothing', async () => {
    const victim = await server.client();
    const other = await server.client();
    const outcomes: string[] = [];
    for (let i = 0; i < 8; i++) {
      const name = `racy_${i}`;
      const job = victim.query(`SELECT version FROM train_lora('${name}', 'bank_bot/1', 'SELECT messages FROM bank_chats LIMIT 16', ${TRAIN}, epochs => 2)`);
      await new Promise((r) => setTimeout(r, 100 + i * 200));
      const canceller = new pg.Client({ host: '127.0.0.1', port: server.port, user: 'aiduck' });
      (canceller as unknown as { cancel(c: unknown, q: unknown): void }).cancel(victim, (victim as unknown as { activeQuery: unknown }).activeQuery);
      const outcome = await job.then(() => 'ok', (err: { code?: string }) => err.code ?? 'error');
      outcomes.push(outcome);
      const versions = (await other.query(`SELECT count(*)::INT AS n FROM ai.model_versions WHERE name = '${name}'`)).rows[0].n;
      if (outcome === 'ok') {
        expect(versions).toBe(1);
        expect(typeof (await other.query(`SELECT ai_query('${name}', 'hi', modelParameters => named_struct('max_tokens', 2)) AS a`)).rows[0].a).toBe('string');
      } else {
        expect(outcome).toBe('57014');
        expect(versions).toBe(0);
      }
    }
    // Cancels came before, during and after the work: both outcomes are exercised on this machine.
    expect(outcomes.includes('57014'), outcomes.join()).toBe(true);
  }, 60_000);

  it('statement_timeout stops a run the same way', async () => {
    const s = await server.client();
    await s.query(`SET statement_timeout = 1500`);
    await expect(s.query(`SELECT * FROM train_lora('timed_out', 'bank_bot/1', 'bank_chats', ${TRAIN}, epochs => 5000)`)).rejects.toMatchObject({ code: '57014' });
    expect((await s.query(`SELECT count(*)::INT AS n FROM ai.model_versions WHERE name = 'timed_out'`)).rows[0].n).toBe(0);
  }, 30_000);

  it('bad input gets clear errors with SQLSTATEs', async () => {
    const fails = (sql: string, code: string, message?: RegExp) =>
      expect(c.query(sql)).rejects.toMatchObject({ code, ...(message ? { message: expect.stringMatching(message) } : {}) });
    await c.query(`SELECT * FROM register_model('embedder', '${join(modelsDir, 'tiny-bert-embedder')}')`);
    await fails(`SELECT * FROM train_lora('t', 'nope', 'bank_chats')`, '42704');
    await fails(`SELECT * FROM train_lora('t', 'embedder', 'bank_chats')`, '0A000');
    await fails(`SELECT * FROM train_lora('t', 'bank_bot/2', 'bank_chats')`, '0A000', /adapter/);
    await fails(`SELECT * FROM train_lora('t', 'bank_bot/1', 'no_such_table')`, '42P01');
    await fails(`SELECT * FROM train_lora('t', 'bank_bot/1', 'SELECT question FROM bank_chats')`, '42703', /messages column nor prompt and response/);
    await fails(`SELECT * FROM train_lora('t', 'bank_bot/1', 'SELECT messages FROM bank_chats WHERE false')`, '22023', /no rows/);
    await fails(`SELECT * FROM train_lora('t', 'bank_bot/1', 'SELECT ''{not json'' AS messages')`, '22P02');
    await fails(`SELECT * FROM train_lora('t', 'bank_bot/1', 'SELECT NULL::VARCHAR AS prompt, ''x'' AS response')`, '22023', /row 1/);
    await fails(`SELECT * FROM train_lora('t', 'bank_bot/1', 'bank_chats', r => 0)`, '22023', /r must be/);
    await fails(`SELECT * FROM train_lora('t', 'bank_bot/1', 'bank_chats', target_modules => ['wte'])`, '22023', /unknown module/);
    await fails(`SELECT * FROM train_lora('t', 'bank_bot/1', 'bank_chats', max_seq_length => 100000)`, '22023', /max_seq_length/);
    await fails(`SELECT * FROM train_lora('t', 'bank_bot/1', 'bank_chats', eval_fraction => 0.5, eval_data => 'bank_chats')`, '22023');
    await fails(`SELECT * FROM train_lora(NULL, 'bank_bot/1', 'bank_chats')`, '22004');
    await fails(`SELECT * FROM train_lora('t', 'bank_bot/1', 'bank_chats', rank => 8)`, '42883', /train_lora has no argument named rank/);
    await fails(`SELECT * FROM train_lora('t', 'bank_bot/1', 'bank_chats', dry_run => NULL)`, '22004');
    await fails(`SELECT * FROM train_lora('t', 'bank_bot/1', 'bank_chats', lora_alpha => 'inf'::DOUBLE)`, '22023', /finite/);
    // The data is one query: text holding a second statement is refused, and nothing of it runs.
    await fails(`SELECT * FROM train_lora('t', 'bank_bot/1', 'SELECT messages FROM bank_chats) AS t; DROP TABLE bank_chats; SELECT * FROM (SELECT 1')`, '42601', /one query/);
    expect((await c.query('SELECT count(*)::INT AS n FROM bank_chats')).rows[0].n).toBe(64);
    // A run that blows up is an error, not a version.
    await fails(`SELECT * FROM train_lora('diverged', 'bank_bot/1', 'bank_chats', epochs => 2, lora_alpha => 1e30)`, '22003', /diverged/);
    expect((await c.query(`SELECT count(*)::INT AS n FROM ai.model_versions WHERE name = 'diverged'`)).rows[0].n).toBe(0);
    await fails(`SELECT * FROM train_lora('t', NULL, 'bank_chats')`, '22004');
    await fails(`SELECT * FROM merge_adapter('m', 'bank_bot/1')`, '22023', /not a LoRA adapter/);
    await fails(`SELECT * FROM register_model('a', '${join(modelsDir, 'exported-adapter')}')`, '22004', /is a PEFT adapter/);
    await fails(`SELECT ai_query('bank_bot', 'hi', modelParameters => named_struct('top_k', 3))`, '22023', /unknown modelParameters key/);
    await c.query('BEGIN');
    await fails(`SELECT * FROM train_lora('t', 'bank_bot/1', 'bank_chats')`, '25001');
    await c.query('ROLLBACK');
  });
});

describe('ai_query on a Llama-family version', () => {
  const ask = async (params: string, q = 'How do I check my card?'): Promise<string> =>
    (await c.query(`SELECT ai_query('bank_bot/1', '${q}', modelParameters => ${params}) AS a`)).rows[0].a as string;

  it('takes max_tokens, stop sequences, temperature, top_p and seed', async () => {
    const full = await ask(`named_struct('max_tokens', 30)`);
    const short = await ask(`named_struct('max_tokens', 4)`);
    expect(full.startsWith(short)).toBe(true);
    expect(short.length).toBeLessThan(full.length);
    const words = full.trim().split(' ');
    const stop = words[3]!;
    const cut = await ask(`named_struct('max_tokens', 30, 'stop', ['${stop}'])`);
    expect(full.startsWith(cut)).toBe(true);
    expect(cut).not.toContain(stop);
    const sampled = await Promise.all([1, 2, 3].map((seed) => ask(`named_struct('max_tokens', 12, 'temperature', 1.5, 'seed', ${seed})`)));
    expect(sampled.some((x) => !full.startsWith(x))).toBe(true);
    expect(await ask(`named_struct('max_tokens', 12, 'temperature', 1.5, 'top_p', 0.000001)`)).toBe(await ask(`named_struct('max_tokens', 12)`));
  });

  it('answers a whole table in batches; a prompt too long for the model fails its own row only', async () => {
    await c.query(`CREATE TABLE many AS SELECT i, CASE WHEN i = 7 THEN repeat('balance ', 600) ELSE 'question number ' || i || ' about my card' END AS q FROM range(300) t(i)`);
    const r = await c.query(`CREATE TABLE many_answers AS SELECT i, ai_query('bank_bot/2', q, modelParameters => named_struct('max_tokens', 8), failOnError => false) AS a FROM many`);
    expect(r.command).toBe('CREATE');
    const s = await c.query(`SELECT count(*) FILTER (WHERE a.errorMessage IS NULL AND length(a.result) > 0)::INT AS ok,
      max(a.errorMessage) AS error FROM many_answers`);
    expect(s.rows[0].ok).toBe(299);
    expect(s.rows[0].error).toMatch(/at most 512 positions/);
    const bad = await c.query(`SELECT ai_query('bank_bot/2', 'hi', modelParameters => named_struct('max_tokens', -5), failOnError => false) AS a`);
    expect(bad.rows[0].a).toEqual({ result: null, errorMessage: expect.stringMatching(/max_tokens must be a number from 1/) });
  }, 60_000);
});

