import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { startTestServer, type TestServer } from './helpers/server.js';
import { TINY_BERT, bertEmbedder, fewShotTask, writeModelFiles } from '../src/testmodels/index.js';
import { parseBertConfig } from '../src/llm/bert-config.js';
import { BertEncoder } from '../src/llm/bert-model.js';
import { loadBertWeights } from '../src/llm/bert-weights.js';
import { loadTokenizer } from '../src/llm/model-folder.js';
import { embedSentences } from '../src/llm/setfit-body.js';

// fit_classifier: a classification head fitted on a few labelled examples, registered for ai_classify.
describe('fit_classifier', () => {
  let server: TestServer;
  let c: pg.Client;

  beforeAll(async () => {
    server = await startTestServer();
    c = await server.client();
    await c.query(`SELECT * FROM register_model('hash', 'builtin:hash-embed-256')`);
    await c.query(`CREATE TABLE labelled AS
      SELECT 'ducks ' || w || ' on the lake ' || i AS body, 'birds' AS team FROM range(8) t(i), (VALUES ('swim'), ('fly')) v(w)
      UNION ALL SELECT 'the database query ' || w || ' ' || i, 'data' FROM range(8) t(i), (VALUES ('planner'), ('index')) v(w)
      UNION ALL SELECT 'football match ' || w || ' ' || i, 'sports' FROM range(8) t(i), (VALUES ('tonight'), ('score')) v(w)`);
  });
  afterAll(async () => server?.stop());

  it('fits, scores the held-out examples, registers a version, and ai_classify uses it', async () => {
    const r = await c.query(`SELECT * FROM fit_classifier('router', 'labelled', text => 'body', label => 'team', embedding_model => 'hash', test_fraction => 0.25, alias => 'champion')`);
    expect(r.rows[0]).toMatchObject({ name: 'router', version: 1, task: 'text-classification', provider: 'fewshot', train_rows: 36, test_rows: 12, labels: 'birds,data,sports' });
    expect(r.rows[0].accuracy).toBeGreaterThanOrEqual(0.9);
    expect(r.rows[0].macro_f1).toBeGreaterThanOrEqual(0.9);
    const k = await c.query(`SELECT ai_classify('a duck swims on a lake', [], model => 'router') AS a,
      ai_classify('query planner of the database', [], model => 'router@champion') AS b, ai_classify('the football match score', [], model => 'router/1') AS c`);
    expect(k.rows[0]).toEqual({ a: 'birds', b: 'data', c: 'sports' });
    const s = await c.query(`SELECT ai_classify_scores('ducks on the lake', [], model => 'router') AS s`);
    expect(s.rows[0].s.scores.reduce((x: number, y: number) => x + y, 0)).toBeCloseTo(1, 6);
  });

  it('with nothing held out, the scores are NULL; bad input gets clear errors', async () => {
    const r = await c.query(`SELECT version, accuracy, test_rows FROM fit_classifier('router', 'labelled', text => 'body', label => 'team', embedding_model => 'hash', test_fraction => 0)`);
    expect(r.rows[0]).toEqual({ version: 2, accuracy: null, test_rows: 0 });
    await expect(c.query(`SELECT * FROM fit_classifier('one', 'SELECT body, ''x'' AS team FROM labelled', text => 'body', label => 'team', embedding_model => 'hash')`))
      .rejects.toMatchObject({ code: '22023' });
    await expect(c.query(`SELECT * FROM fit_classifier('r2', 'labelled', text => 'body', label => 'team', embedding_model => 'router')`))
      .rejects.toThrow(/not an embedding model/);
    await expect(c.query(`SELECT * FROM fit_classifier('r3', 'labelled', text => 'body', label => 'team')`)).rejects.toMatchObject({ code: '22004' });
  });
});

// SetFit's two stages: the body (a BERT embedding model registered from a folder) fine-tuned on pairs of
// the labelled examples, then the head.
describe('fit_classifier with body fine-tuning (SetFit)', () => {
  let server: TestServer;
  let c: pg.Client;
  let dir: string;
  const BODY = "num_iterations => 20, body_learning_rate => 0.01, batch_size => 16, seed => 42";

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'aiduck-setfit-'));
    await writeModelFiles(join(dir, 'embedder'), bertEmbedder());
    await writeModelFiles(join(dir, 'embedder-st'), bertEmbedder(TINY_BERT, { safetensors: true }));
    server = await startTestServer({ importDirs: [dir] });
    c = await server.client();
    await c.query(`SELECT * FROM register_model('embedder', '${join(dir, 'embedder')}')`);
    await c.query(`SELECT * FROM register_model('hash', 'builtin:hash-embed-256')`);
    // 4 topics × 24 texts: 8 of each to learn from, 16 held out (test_fraction 2/3).
    const rows = fewShotTask(24);
    await c.query(`CREATE TABLE topics AS SELECT * FROM (VALUES ${rows.map((r) => `('${r.text}', '${r.label}')`).join(', ')}) t(body, topic)`);
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the fine-tuned body beats the frozen-body head on the held-out texts, and the version serves ai_classify and ai_embed', async () => {
    const frozen = (await c.query(`SELECT * FROM fit_classifier('frozen', 'topics', text => 'body', label => 'topic', embedding_model => 'embedder', test_fraction => 0.667, fine_tune_body => false)`)).rows[0];
    const tuned = (await c.query(`SELECT * FROM fit_classifier('tuned', 'topics', text => 'body', label => 'topic', embedding_model => 'embedder', test_fraction => 0.667, ${BODY})`)).rows[0];
    expect(frozen).toMatchObject({ fine_tuned_body: false, train_rows: 32, test_rows: 64, dimension: 64 });
    expect(tuned).toMatchObject({ fine_tuned_body: true, train_rows: 32, test_rows: 64, dimension: 64, provider: 'fewshot', task: 'text-classification' });
    expect(tuned.accuracy - frozen.accuracy, JSON.stringify({ frozen: frozen.accuracy, tuned: tuned.accuracy })).toBeGreaterThanOrEqual(0.15);
    expect(tuned.training_seconds).toBeGreaterThan(0);
    const tags = (await c.query(`SELECT tags FROM ai.model_versions WHERE name = 'tuned'`)).rows[0].tags;
    expect(tags).toMatchObject({ body_pairs: String(2 * 20 * 32), body_steps: String(Math.ceil(1280 / 16)), body_source: 'onnx' });

    // ai_classify through the head, on the tuned body's vectors; ai_embed returns those vectors, FLOAT[64].
    const k = await c.query(`SELECT ai_classify('football tennis match tonight', [], model => 'tuned') AS a, ai_classify('the database software is slow', [], model => 'tuned') AS b`);
    expect(k.rows[0]).toEqual({ a: 'sports', b: 'technology' });
    const e = await c.query(`SELECT ai_embed('tuned', 'rainy forecast')::DOUBLE[] AS t, ai_embed('embedder', 'rainy forecast')::DOUBLE[] AS o, typeof(ai_embed('tuned', 'x')) AS type`);
    expect(e.rows[0].type).toBe('FLOAT[64]');
    const tunedVec = e.rows[0].t as number[];
    const original = e.rows[0].o as number[];
    expect(tunedVec).toHaveLength(64);
    expect(Math.hypot(...tunedVec)).toBeCloseTo(1, 5);
    expect(Math.max(...tunedVec.map((x, i) => Math.abs(x - original[i]!)))).toBeGreaterThan(1e-2);
    // ai_embed on a frozen-body version is the embedding model's.
    const f = await c.query(`SELECT ai_embed('frozen', 'rainy forecast')::DOUBLE[] AS f`);
    expect(f.rows[0].f).toEqual(original);
  }, 120_000);

  it('writes the body as a sentence-transformers folder whose safetensors weights are the served model', async () => {
    const location = (await c.query(`SELECT location FROM ai.model_versions WHERE name = 'tuned'`)).rows[0].location as string;
    const body = join(location, 'body');
    for (const f of ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json', 'vocab.txt', 'modules.json', 'sentence_bert_config.json', '1_Pooling/config.json', 'config_sentence_transformers.json', 'onnx/model.onnx']) {
      expect(existsSync(join(body, f)), f).toBe(true);
    }
    expect(JSON.parse(readFileSync(join(body, 'modules.json'), 'utf8')).map((m: { type: string }) => m.type)).toEqual([
      'sentence_transformers.models.Transformer', 'sentence_transformers.models.Pooling', 'sentence_transformers.models.Normalize']);
    expect(JSON.parse(readFileSync(join(body, '1_Pooling', 'config.json'), 'utf8'))).toMatchObject({ word_embedding_dimension: 64, pooling_mode_mean_tokens: true });
    expect(JSON.parse(readFileSync(join(body, 'config.json'), 'utf8'))).toMatchObject({ architectures: ['BertModel'], model_type: 'bert' });
    // The saved weights, run by aiduck's encoder, give the vectors ai_embed serves from the saved ONNX graph.
    const config = parseBertConfig(JSON.parse(readFileSync(join(body, 'config.json'), 'utf8')));
    const { weights, source } = await loadBertWeights(body, config);
    expect(source).toBe('safetensors');
    const tokenizer = await loadTokenizer(body);
    const text = 'cheese recipe for the kitchen';
    const ids = Int32Array.from((tokenizer(text) as { input_ids: { data: BigInt64Array } }).input_ids.data, Number);
    const [mine] = await embedSentences(BertEncoder.create(config, weights), [ids]);
    const served = (await c.query(`SELECT ai_embed('tuned', '${text}')::DOUBLE[] AS v`)).rows[0].v as number[];
    expect(served).toHaveLength(64);
    expect(Math.max(...served.map((x, i) => Math.abs(x - mine![i]!)))).toBeLessThan(1e-5);
  });

  it('trains a body from model.safetensors when the folder has one; the same seed gives the same version', async () => {
    await c.query(`SELECT * FROM register_model('embedder_st', '${join(dir, 'embedder-st')}')`);
    const run = async (n: string): Promise<{ accuracy: number; digest: string; source: string }> => {
      const r = (await c.query(`SELECT accuracy FROM fit_classifier('${n}', 'topics', text => 'body', label => 'topic', embedding_model => 'embedder_st', test_fraction => 0.667, ${BODY})`)).rows[0];
      const v = (await c.query(`SELECT artifact_digest, tags['body_source'] AS source FROM ai.model_versions WHERE name = '${n}'`)).rows[0];
      return { accuracy: r.accuracy, digest: v.artifact_digest, source: v.source };
    };
    const a = await run('st_a');
    const b = await run('st_b');
    expect(a.source).toBe('safetensors');
    expect(b).toEqual(a);
    // The same weights as the ONNX-only folder: the same training.
    const onnx = (await c.query(`SELECT accuracy FROM ai.model_versions v, LATERAL (SELECT CAST(tags['accuracy'] AS DOUBLE) AS accuracy) WHERE name = 'tuned'`)).rows[0].accuracy;
    expect(a.accuracy).toBe(onnx);
  }, 120_000);

  it('honours seed =>: the same seed gives the same version, another seed other pairs; the run records it', async () => {
    const fit = async (n: string, args: string): Promise<{ digest: string; seed: string | null; pairs: string | null }> => {
      await c.query(`SELECT * FROM fit_classifier('${n}', 'topics', text => 'body', label => 'topic', embedding_model => 'embedder', test_fraction => 0.667, ${args})`);
      const r = (await c.query(`SELECT v.artifact_digest AS digest, r.params['seed'] AS seed, v.tags['body_pairs'] AS pairs
        FROM ai.model_versions v JOIN ai.runs r ON r.model_name = v.name AND r.model_version = v.version WHERE v.name = '${n}'`)).rows[0];
      return r;
    };
    const quick = 'num_iterations => 2, body_learning_rate => 0.01, batch_size => 16';
    const a = await fit('seed_a', `${quick}, seed => 7`);
    const b = await fit('seed_b', `${quick}, seed => 7`);
    const other = await fit('seed_c', `${quick}, seed => 8`);
    expect(a.seed).toBe('7');
    expect(b).toEqual(a);
    expect(other.seed).toBe('8');
    expect(other.pairs).toBe(a.pairs);
    expect(other.digest).not.toBe(a.digest);
    // A frozen body draws nothing at random, but the seed is still checked and recorded.
    expect((await fit('seed_frozen', 'fine_tune_body => false, seed => 9')).seed).toBe('9');
    await expect(c.query(`SELECT * FROM fit_classifier('x', 'topics', text => 'body', label => 'topic', embedding_model => 'hash', seed => -1)`))
      .rejects.toMatchObject({ code: '22023', message: expect.stringContaining('seed') });
  }, 120_000);

  it('refuses to fine-tune what it cannot, with 0A000; a stopped run leaves no version and no files', async () => {
    await expect(c.query(`SELECT * FROM fit_classifier('x', 'topics', text => 'body', label => 'topic', embedding_model => 'hash', fine_tune_body => true)`))
      .rejects.toMatchObject({ code: '0A000', hint: expect.stringContaining('fine_tune_body => false') });
    await expect(c.query(`SELECT * FROM fit_classifier('x', 'topics', text => 'body', label => 'topic', embedding_model => 'embedder', num_iterations => 0)`))
      .rejects.toMatchObject({ code: '22023', message: expect.stringContaining('num_iterations') });
    const s = await server.client();
    await s.query('SET statement_timeout = 1500');
    await expect(s.query(`SELECT * FROM fit_classifier('stopped', 'topics', text => 'body', label => 'topic', embedding_model => 'embedder', num_iterations => 1000)`))
      .rejects.toMatchObject({ code: '57014' });
    expect((await c.query(`SELECT count(*)::INT AS n FROM ai.model_versions WHERE name = 'stopped'`)).rows[0].n).toBe(0);
    await expect.poll(() => readdirSync(join(server.dataDir, 'models')).filter((f) => f.startsWith('.')), { timeout: 15_000 }).toEqual([]);
  }, 60_000);
});
