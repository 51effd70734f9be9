/**
 * ai_embed pools as the model's sentence-transformers folder says (modules.json, 1_Pooling/config.json,
 * a Normalize module, sentence_bert_config.json's max_seq_length, the default prompt and include_prompt),
 * as read at registration and shown in ai.model_versions.pooling. Each generated BERT embedder's vectors,
 * computed over the wire in padded batches, equal a float64 reference computed here from the hidden
 * states onnxruntime gives for each text alone on the same ONNX file. What aiduck does not compute is
 * refused with 0A000; SetFit's body stage trains and saves the body with the folder's pooling.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bertEmbedder, fewShotTask, TINY_BERT, writeModelFiles, type SentenceTransformerLayout } from '../src/testmodels/index.js';
import { loadTokenizer } from '../src/llm/model-folder.js';
import { parseBertConfig } from '../src/llm/bert-config.js';
import { BertEncoder } from '../src/llm/bert-model.js';
import { loadBertWeights } from '../src/llm/bert-weights.js';
import { embedSentences } from '../src/llm/setfit-body.js';
import { POOLING_MODES } from '../src/llm/sentence-embedding.js';
import { poolSpans, poolSpansBackward } from '../src/llm/sentence-pooling.js';
import { startTestServer, type TestServer } from './helpers/server.js';

const TEXTS = [
  'ducks',
  'the team won the football match tonight',
  'a recipe with cheese and bread for the whole family on a rainy sunday afternoon, with a forecast of more rain tomorrow',
  'query planner of the database',
  'software',
];
const H = TINY_BERT.hidden;
const TOLERANCE = 1e-5;

/** Each folder: how it pools, and what ai.model_versions.pooling shows for it. */
const LAYOUTS: Record<string, SentenceTransformerLayout> = {
  cls: { pooling: ['cls'], normalize: true }, // BGE
  mean: { pooling: ['mean'], normalize: true }, // MiniLM, E5
  max: { pooling: ['max'], normalize: false },
  lasttoken: { pooling: ['lasttoken'], normalize: true }, // decoder embedders
  sqrt: { pooling: ['mean_sqrt_len_tokens'], normalize: false },
  weighted: { pooling: ['weightedmean'], normalize: true },
  concat: { pooling: ['cls', 'max', 'mean'], normalize: true },
  prompt: { pooling: ['mean'], normalize: true, defaultPrompt: 'represent this sentence for searching: ', includePrompt: false },
  short: { pooling: ['cls', 'mean'], normalize: false, maxSeqLength: 8 },
};

let dir: string;
let server: TestServer;
let c: pg.Client;
let session: ort.InferenceSession;

const folder = (name: string): string => join(dir, name);
const sqlList = (xs: string[]): string => `[${xs.map((x) => `'${x.replaceAll("'", "''")}'`).join(', ')}]`;

/** The model's last hidden states for one text alone (no padding), as float64 rows. */
async function hiddenStates(ids: number[]): Promise<number[][]> {
  const long = (values: number[]): ort.Tensor => new ort.Tensor('int64', BigInt64Array.from(values.map(BigInt)), [1, values.length]);
  const out = await session.run({ input_ids: long(ids), attention_mask: long(ids.map(() => 1)), token_type_ids: long(ids.map(() => 0)) });
  const data = out['last_hidden_state']!.data as Float32Array;
  return ids.map((_, t) => Array.from(data.subarray(t * H, (t + 1) * H)));
}

/** sentence-transformers' encode, written out plainly in float64: prompt, truncation, pooling, normalisation. */
async function reference(folderPath: string, layout: SentenceTransformerLayout | null, text: string): Promise<number[]> {
  const tokenizer = await loadTokenizer(folderPath);
  const encode = (s: string): number[] => Array.from((tokenizer(s, { truncation: true, ...(layout?.maxSeqLength ? { max_length: layout.maxSeqLength } : {}) }) as { input_ids: { data: BigInt64Array } }).input_ids.data, Number);
  const prompt = layout?.defaultPrompt ?? '';
  const ids = encode(prompt + text);
  const states = await hiddenStates(ids);
  const skip = prompt && layout?.includePrompt === false ? encode(prompt).length - 1 : 0;
  const kept = states.map((v, t) => ({ v, t })).filter(({ t }) => t >= skip);
  const sum = (weight: (t: number) => number): number[] => Array.from({ length: H }, (_, h) => kept.reduce((a, { v, t }) => a + weight(t) * v[h]!, 0));
  const parts: Record<string, () => number[]> = {
    cls: () => states[0]!,
    max: () => Array.from({ length: H }, (_, h) => Math.max(...kept.map(({ v }) => v[h]!))),
    mean: () => sum(() => 1).map((x) => x / kept.length),
    mean_sqrt_len_tokens: () => sum(() => 1).map((x) => x / Math.sqrt(kept.length)),
    weightedmean: () => sum((t) => t + 1).map((x) => x / kept.reduce((a, { t }) => a + t + 1, 0)),
    lasttoken: () => kept.at(-1)!.v,
  };
  const modes = layout?.pooling ?? ['mean'];
  const v = ['cls', 'max', 'mean', 'mean_sqrt_len_tokens', 'weightedmean', 'lasttoken'].filter((m) => modes.includes(m as never)).flatMap((m) => parts[m]!());
  if (layout !== null && !layout.normalize) return v;
  const norm = Math.sqrt(v.reduce((a, x) => a + x * x, 0));
  return v.map((x) => x / norm);
}

async function vectors(model: string): Promise<number[][]> {
  const r = await c.query(`SELECT t, ai_embed('${model}', t) AS v FROM unnest(${sqlList(TEXTS)}) u(t)`);
  const byText = new Map(r.rows.map((row: { t: string; v: number[] }) => [row.t, row.v]));
  return TEXTS.map((t) => byText.get(t)!);
}

const worstDifference = (a: number[][], b: number[][]): number =>
  Math.max(...a.flatMap((v, i) => (v.length === b[i]!.length ? v.map((x, j) => Math.abs(x - b[i]![j]!)) : [Infinity])));

const stored = (): string[] => readdirSync(join(server.dataDir, 'models')).sort();

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'aiduck-pooling-'));
  await writeModelFiles(folder('plain'), bertEmbedder());
  for (const [name, layout] of Object.entries(LAYOUTS)) await writeModelFiles(folder(name), bertEmbedder(TINY_BERT, { sentenceTransformers: layout }));
  session = await ort.InferenceSession.create(readFileSync(join(folder('plain'), 'onnx', 'model.onnx')));
  server = await startTestServer({ importDirs: [dir] });
  c = await server.client();
}, 120_000);

afterAll(async () => {
  await session?.release();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('ai_embed pools as the sentence-transformers folder says', () => {
  it('every pooling mode, concatenations, normalisation, the default prompt left out of the pooling, max_seq_length: within 1e-5 of the float64 reference', async () => {
    for (const [name, layout] of Object.entries(LAYOUTS)) {
      await c.query(`SELECT * FROM register_model('${name}', '${folder(name)}')`);
      const row = (await c.query(`SELECT dimension, pooling FROM ai.model_versions WHERE name = '${name}'`)).rows[0];
      expect(row, name).toEqual({
        dimension: layout.pooling.length * H,
        pooling: {
          mode: layout.pooling.join('+'), normalize: layout.normalize, include_prompt: layout.includePrompt ?? true,
          prompt: layout.defaultPrompt ?? null, max_seq_length: layout.maxSeqLength ?? 512, lowercase: false,
        },
      });
      const want = await Promise.all(TEXTS.map((t) => reference(folder(name), layout, t)));
      const got = await vectors(name);
      expect(worstDifference(got, want), name).toBeLessThan(TOLERANCE);
    }
  }, 120_000);

  it('the modes give different vectors, and the settings change them: the checks above could tell them apart', async () => {
    const got: Record<string, number[][]> = {};
    for (const n of ['cls', 'mean', 'lasttoken', 'weighted', 'prompt', 'short']) got[n] = await vectors(n);
    for (const [a, b] of [['cls', 'mean'], ['mean', 'lasttoken'], ['mean', 'weighted'], ['mean', 'prompt']]) expect(worstDifference(got[a]!, got[b]!), `${a} vs ${b}`).toBeGreaterThan(0.01);
    // max_seq_length 8 cuts the long text, not a short one.
    const cls = await Promise.all(TEXTS.map((t) => reference(folder('cls'), { pooling: ['cls', 'mean'], normalize: false }, t)));
    expect(worstDifference([got.short![2]!], [cls[2]!])).toBeGreaterThan(0.01);
    expect(worstDifference([got.short![0]!], [cls[0]!])).toBeLessThan(TOLERANCE);
    // Without normalisation the vectors keep their length.
    expect(Math.hypot(...(await vectors('max'))[0]!)).toBeGreaterThan(1.5);
  });

  it('a folder without modules.json is mean-pooled and normalised, as before, and says so', async () => {
    await c.query(`SELECT * FROM register_model('plain', '${folder('plain')}')`);
    expect((await c.query(`SELECT pooling FROM ai.model_versions WHERE name = 'plain'`)).rows[0].pooling)
      .toEqual({ mode: 'mean', normalize: true, include_prompt: true, prompt: null, max_seq_length: null, lowercase: false });
    const want = await Promise.all(TEXTS.map((t) => reference(folder('plain'), null, t)));
    expect(worstDifference(await vectors('plain'), want)).toBeLessThan(TOLERANCE);
  });

  it('refuses what it does not compute with 0A000 and a hint, leaving nothing in the store', async () => {
    const variant = async (name: string, edit: (dir: string) => void): Promise<string> => {
      const d = folder(`bad-${name}`);
      await writeModelFiles(d, bertEmbedder(TINY_BERT, { sentenceTransformers: { pooling: ['mean'], normalize: true } }));
      edit(d);
      return d;
    };
    const pooling = (d: string, change: Record<string, unknown>): void => {
      const file = join(d, '1_Pooling', 'config.json');
      writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), ...change }));
    };
    const cases: Array<[string, (d: string) => void, string, RegExp, RegExp]> = [
      ['mode', (d) => pooling(d, { pooling_mode: 'attention' }), '0A000', /pooling mode "attention"/, /cls, max, mean, mean_sqrt_len_tokens, weightedmean, lasttoken/],
      ['key', (d) => pooling(d, { pooling_mode_attention_tokens: true }), '0A000', /pooling_mode_attention_tokens/, /pooling modes are/],
      ['none', (d) => pooling(d, { pooling_mode_mean_tokens: false }), '22P02', /turns every pooling mode off/, /pooling modes are/],
      ['dense', (d) => {
        const modules = JSON.parse(readFileSync(join(d, 'modules.json'), 'utf8'));
        modules.splice(2, 0, { idx: 2, name: '2', path: '2_Dense', type: 'sentence_transformers.models.Dense' });
        writeFileSync(join(d, 'modules.json'), JSON.stringify(modules));
      }, '0A000', /Dense module/, /Transformer, one Pooling and an optional Normalize/],
    ];
    const before = stored();
    for (const [name, edit, code, message, hint] of cases) {
      const d = await variant(name, edit);
      await expect(c.query(`SELECT * FROM register_model('bad', '${d}')`), name).rejects.toMatchObject({ code, message: expect.stringMatching(message), hint: expect.stringMatching(hint) });
      expect(stored(), name).toEqual(before);
    }
  });
});

describe("SetFit's body keeps the embedder's pooling", () => {
  it('the gradient of every pooling mode back to the token states matches finite differences', () => {
    // Two packed sentences of 3 and 5 tokens, 4 channels; the loss is a fixed linear function of the pooled vectors.
    const spans = [{ offset: 0, length: 3 }, { offset: 3, length: 5 }];
    const C = 4;
    const hidden = Float32Array.from({ length: 8 * C }, (_, i) => Math.sin(i * 1.7) * 2);
    for (const mode of POOLING_MODES) {
      const modes = mode === 'cls' ? ['cls', 'mean'] as const : [mode];
      const g = Float32Array.from({ length: spans.length * modes.length * C }, (_, i) => Math.cos(i * 0.9));
      const loss = (h: Float32Array): number => poolSpans(h, spans, C, modes).reduce((a, x, i) => a + x * g[i]!, 0);
      const analytic = poolSpansBackward(g, hidden, spans, C, 8, modes);
      for (let i = 0; i < hidden.length; i++) {
        const plus = Float32Array.from(hidden);
        const minus = Float32Array.from(hidden);
        plus[i] = plus[i]! + 1e-2;
        minus[i] = minus[i]! - 1e-2;
        expect(analytic[i]!, `${modes.join('+')} [${i}]`).toBeCloseTo((loss(plus) - loss(minus)) / 2e-2, 3);
      }
    }
  });

  beforeAll(async () => {
    const rows = fewShotTask(12);
    await c.query(`CREATE TABLE topics AS SELECT * FROM (VALUES ${rows.map((r) => `('${r.text}', '${r.label}')`).join(', ')}) t(body, topic)`);
  });

  it('a CLS embedder\'s body is trained, saved (modules say cls) and served with CLS pooling', async () => {
    const r = (await c.query(`SELECT fine_tuned_body FROM fit_classifier('clf', 'topics', text => 'body', label => 'topic', embedding_model => 'cls', test_fraction => 0.5,
      num_iterations => 2, body_learning_rate => 0.01, seed => 7)`)).rows[0];
    expect(r.fine_tuned_body).toBe(true);
    const v = (await c.query(`SELECT location, pooling FROM ai.model_versions WHERE name = 'clf'`)).rows[0];
    expect(v.pooling.mode).toBe('cls');
    const body = join(v.location, 'body');
    const poolingConfig = JSON.parse(readFileSync(join(body, '1_Pooling', 'config.json'), 'utf8'));
    expect(poolingConfig).toMatchObject({ pooling_mode_cls_token: true, pooling_mode_mean_tokens: false });
    expect(JSON.parse(readFileSync(join(body, 'modules.json'), 'utf8')).map((m: { type: string }) => m.type.split('.').at(-1))).toEqual(['Transformer', 'Pooling', 'Normalize']);
    // ai_embed on the classifier: CLS of the fine-tuned body's own ONNX graph, normalised.
    const tuned = await ort.InferenceSession.create(readFileSync(join(body, 'onnx', 'model.onnx')));
    const previous = session;
    session = tuned;
    try {
      const want = await Promise.all(TEXTS.map((t) => reference(body, LAYOUTS.cls!, t)));
      expect(worstDifference(await vectors('clf'), want)).toBeLessThan(TOLERANCE);
      // The body did change: the untuned model's CLS vectors are not these.
      expect(worstDifference(await vectors('clf'), await vectors('cls'))).toBeGreaterThan(1e-3);
      // The training thread pools as serving does: its encoder's vectors (what the head was fitted on) are ai_embed's.
      const config = parseBertConfig(JSON.parse(readFileSync(join(body, 'config.json'), 'utf8')));
      const encoder = BertEncoder.create(config, (await loadBertWeights(body, config)).weights);
      const tokenizer = await loadTokenizer(body);
      const ids = TEXTS.map((t) => Int32Array.from((tokenizer(t) as { input_ids: { data: BigInt64Array } }).input_ids.data, Number));
      const mine = (await embedSentences(encoder, ids, { pooling: ['cls'], normalize: true })).map((x) => Array.from(x));
      expect(worstDifference(await vectors('clf'), mine)).toBeLessThan(TOLERANCE);
    } finally {
      session = previous;
      await tuned.release();
    }
  }, 120_000);

  it('a body whose folder puts a default prompt before every text is not fine-tuned (0A000); its head is fitted on the frozen embeddings', async () => {
    await expect(c.query(`SELECT * FROM fit_classifier('clf_prompt', 'topics', text => 'body', label => 'topic', embedding_model => 'prompt', fine_tune_body => true)`))
      .rejects.toMatchObject({ code: '0A000', message: expect.stringContaining('default prompt'), hint: expect.stringContaining('fine_tune_body => false') });
    const r = (await c.query(`SELECT fine_tuned_body FROM fit_classifier('clf_prompt', 'topics', text => 'body', label => 'topic', embedding_model => 'prompt')`)).rows[0];
    expect(r.fine_tuned_body).toBe(false);
    expect(worstDifference(await vectors('clf_prompt'), await vectors('prompt'))).toBe(0);
  }, 60_000);
});
