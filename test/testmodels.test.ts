/**
 * The generated test models, loaded the way aiduck loads a Hugging Face folder: transformers.js pipelines
 * on onnxruntime-node, with remote models disabled. No mocks: every assertion runs the real graphs.
 */
import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AutoTokenizer, env, pipeline, type Tensor } from '@huggingface/transformers';
import { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-node';
import { EOS_AFTER, NLI_LABELS, TEST_MODELS, TINY_BERT, writeTestModels } from '../src/testmodels/index.js';

let dir: string;
let paths: string[];
let writeMs: number;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'aiduck-testmodels-'));
  const t0 = performance.now();
  paths = await writeTestModels(dir);
  writeMs = performance.now() - t0;
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.localModelPath = dir;
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function folderSize(path: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(path, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += (await stat(join(entry.parentPath, entry.name))).size;
  }
  return total;
}

const dot = (a: number[], b: number[]): number => a.reduce((s, x, i) => s + x * (b[i] ?? 0), 0);

describe('writeTestModels', () => {
  it('writes one folder per model, small and fast', async () => {
    expect(paths).toEqual(TEST_MODELS.map((m) => join(dir, m.name)));
    // About 0.3 s alone; the bound leaves room for a full suite running beside it on two cores.
    expect(writeMs).toBeLessThan(3000);
    for (const p of paths) {
      expect(await folderSize(p)).toBeLessThan(2 * 1024 * 1024);
      const config = JSON.parse(await readFile(join(p, 'config.json'), 'utf8')) as { model_type: string };
      expect(['bert', 'gpt2', 't5', 'llama']).toContain(config.model_type);
    }
  });

  it('writes the same bytes every time', async () => {
    const again = await mkdtemp(join(tmpdir(), 'aiduck-testmodels-'));
    try {
      await writeTestModels(again);
      for (const m of TEST_MODELS) {
        for (const f of ['config.json', 'tokenizer.json', 'onnx/model.onnx', 'onnx/decoder_model_merged.onnx', 'model.safetensors']) {
          const a = await readFile(join(dir, m.name, f)).catch(() => null);
          const b = await readFile(join(again, m.name, f)).catch(() => null);
          if (a === null || b === null) expect(b).toBe(a);
          else expect(Buffer.compare(a, b)).toBe(0);
        }
      }
    } finally {
      await rm(again, { recursive: true, force: true });
    }
  });
});

describe('ONNX files in onnxruntime-node', () => {
  const expected: Record<string, { inputs: string[]; outputs: string[] }> = {
    'tiny-bert-embedder/onnx/model.onnx': { inputs: ['input_ids', 'attention_mask', 'token_type_ids'], outputs: ['last_hidden_state'] },
    'tiny-nli-classifier/onnx/model.onnx': { inputs: ['input_ids', 'attention_mask', 'token_type_ids'], outputs: ['logits'] },
    'tiny-gpt2-generator/onnx/model.onnx': {
      inputs: ['input_ids', 'attention_mask', 'position_ids', 'past_key_values.0.key', 'past_key_values.0.value', 'past_key_values.1.key', 'past_key_values.1.value'],
      outputs: ['logits', 'present.0.key', 'present.0.value', 'present.1.key', 'present.1.value'],
    },
    'tiny-t5-summarizer/onnx/encoder_model.onnx': { inputs: ['input_ids', 'attention_mask'], outputs: ['last_hidden_state'] },
    'tiny-t5-summarizer/onnx/decoder_model_merged.onnx': {
      inputs: [
        'encoder_attention_mask', 'input_ids', 'encoder_hidden_states',
        ...[0, 1].flatMap((l) => ['decoder.key', 'decoder.value', 'encoder.key', 'encoder.value'].map((k) => `past_key_values.${l}.${k}`)),
      ],
      outputs: ['logits', ...[0, 1].flatMap((l) => ['decoder.key', 'decoder.value', 'encoder.key', 'encoder.value'].map((k) => `present.${l}.${k}`))],
    },
  };

  for (const [file, names] of Object.entries(expected)) {
    it(`${file} has the expected inputs and outputs`, async () => {
      const session = await InferenceSession.create(join(dir, file));
      expect([...session.inputNames]).toEqual(names.inputs);
      expect([...session.outputNames]).toEqual(names.outputs);
      await session.release();
    });
  }

  it('the GPT-2 cache gives the same logits as running the whole sequence', async () => {
    const session = await InferenceSession.create(join(dir, 'tiny-gpt2-generator/onnx/model.onnx'));
    const ids = [15, 300, 420, 512, 77, 640];
    const heads = 4;
    const headDim = 16;
    const i64 = (xs: number[], dims: number[]): OrtTensor => new OrtTensor('int64', BigInt64Array.from(xs.map(BigInt)), dims);
    const emptyPast = (): Record<string, OrtTensor> =>
      Object.fromEntries(
        [0, 1].flatMap((l) => ['key', 'value'].map((k) => [`past_key_values.${l}.${k}`, new OrtTensor('float32', new Float32Array(0), [1, heads, 0, headDim])])),
      );
    const positions = (from: number, n: number): number[] => Array.from({ length: n }, (_, i) => from + i);

    const full = await session.run({ input_ids: i64(ids, [1, 6]), attention_mask: i64(ids.map(() => 1), [1, 6]), position_ids: i64(positions(0, 6), [1, 6]), ...emptyPast() });
    const prefix = await session.run({ input_ids: i64(ids.slice(0, 5), [1, 5]), attention_mask: i64(ids.slice(0, 5).map(() => 1), [1, 5]), position_ids: i64(positions(0, 5), [1, 5]), ...emptyPast() });
    const past = Object.fromEntries([0, 1].flatMap((l) => ['key', 'value'].map((k) => [`past_key_values.${l}.${k}`, prefix[`present.${l}.${k}`]!])));
    const step = await session.run({ input_ids: i64([640], [1, 1]), attention_mask: i64(ids.map(() => 1), [1, 6]), position_ids: i64([5], [1, 1]), ...past });

    const V = full['logits']!.dims[2]!;
    const lastFull = (full['logits']!.data as Float32Array).slice(5 * V, 6 * V);
    const lastStep = step['logits']!.data as Float32Array;
    expect(step['present.0.key']!.dims).toEqual([1, heads, 6, headDim]);
    let maxDiff = 0;
    for (let i = 0; i < V; i++) maxDiff = Math.max(maxDiff, Math.abs((lastFull[i] ?? 0) - (lastStep[i] ?? 0)));
    expect(maxDiff).toBeLessThan(1e-3);
    await session.release();
  });
});

describe('tiny-bert-embedder', () => {
  it('embeds with mean pooling into unit vectors of the hidden size that differ by text', async () => {
    const embed = await pipeline('feature-extraction', 'tiny-bert-embedder');
    const texts = ['the cat sat on the mat', 'the cat is on the mat', 'stock market revenue and profit', 'Hello, World!'];
    const out = (await embed(texts, { pooling: 'mean', normalize: true })) as Tensor;
    expect(out.dims).toEqual([texts.length, TINY_BERT.hidden]);
    const v = out.tolist() as number[][];
    for (const row of v) expect(Math.sqrt(dot(row, row))).toBeCloseTo(1, 4);
    for (let i = 0; i < v.length; i++) for (let j = i + 1; j < v.length; j++) expect(dot(v[i]!, v[j]!)).toBeLessThan(0.999);
    // Texts that share words are closer than texts that do not.
    expect(dot(v[0]!, v[1]!)).toBeGreaterThan(dot(v[0]!, v[2]!));
    // Batching and padding do not change a text's vector.
    const alone = ((await embed(texts[2]!, { pooling: 'mean', normalize: true })) as Tensor).tolist() as number[][];
    expect(dot(alone[0]!, v[2]!)).toBeCloseTo(1, 4);
    await embed.dispose();
  });

  it('loads from an absolute path as well', async () => {
    const embed = await pipeline('feature-extraction', join(dir, 'tiny-bert-embedder'));
    const out = (await embed('hello', { pooling: 'mean', normalize: true })) as Tensor;
    expect(out.dims).toEqual([1, TINY_BERT.hidden]);
    await embed.dispose();
  });

  it('has a WordPiece tokenizer that round-trips lower-case words and adds [CLS]/[SEP]', async () => {
    const tok = await AutoTokenizer.from_pretrained('tiny-bert-embedder');
    for (const text of ['the quick brown fox jumps over the lazy dog', 'zebras and xylophones', 'hello world 42']) {
      expect(tok.decode(tok.encode(text), { skip_special_tokens: true })).toBe(text);
    }
    expect(tok.decode(tok.encode('Hello, WORLD!'), { skip_special_tokens: true })).toBe('hello, world!');
    const ids = tok.encode('hello');
    expect(tok.decode([ids[0]!, ids.at(-1)!])).toBe('[CLS] [SEP]');
    expect(tok.tokenize('unbelievably')).toContain('##ly');
    expect(tok.model_max_length).toBe(512);
  });
});

describe('tiny-nli-classifier', () => {
  it('serves zero-shot classification with single- and multi-label scores', async () => {
    const classify = await pipeline('zero-shot-classification', 'tiny-nli-classifier');
    const labels = ['sports', 'politics', 'cooking', 'weather'];
    const single = (await classify('I love watching football, the team won the match', labels)) as { labels: string[]; scores: number[] };
    expect([...single.labels].sort()).toEqual([...labels].sort());
    expect(single.scores.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    expect(single.labels[0]).toBe('sports');

    const multi = (await classify('It is rainy and cold today', labels, { multi_label: true })) as { labels: string[]; scores: number[] };
    expect([...multi.labels].sort()).toEqual([...labels].sort());
    for (const s of multi.scores) {
      expect(s).toBeGreaterThanOrEqual(0);
      expect(s).toBeLessThanOrEqual(1);
    }
    expect(multi.labels[0]).toBe('weather');
    expect(multi.scores[0]).toBeGreaterThan(0.5);
    expect(multi.scores.at(-1)).toBeLessThan(0.5);
    await classify.dispose();
  });

  it('gives the same logits for a pair alone and in a padded batch', async () => {
    const classify = await pipeline('zero-shot-classification', 'tiny-nli-classifier');
    const premises = ['the package arrived late', 'the app crashes on login every single time i open it'];
    const hypotheses = ['This example is shipping.', 'This example is bug.'];
    const batch = classify.tokenizer(premises, { text_pair: hypotheses, padding: true, truncation: true });
    const batched = ((await classify.model(batch)) as { logits: Tensor }).logits.tolist() as number[][];
    for (let i = 0; i < premises.length; i++) {
      const one = classify.tokenizer(premises[i]!, { text_pair: hypotheses[i]!, padding: true, truncation: true });
      const alone = ((await classify.model(one)) as { logits: Tensor }).logits.tolist() as number[][];
      alone[0]!.forEach((x, j) => expect(x).toBeCloseTo(batched[i]![j]!, 4));
    }
    await classify.dispose();
  });

  it('serves text classification with its NLI labels', async () => {
    const classify = await pipeline('text-classification', 'tiny-nli-classifier');
    const out = (await classify(['I love this', 'terrible service'], { top_k: 3 })) as Array<Array<{ label: string; score: number }>>;
    expect(out).toHaveLength(2);
    for (const row of out) {
      expect(row.map((r) => r.label).sort()).toEqual([...NLI_LABELS].sort());
      expect(row.reduce((a, r) => a + r.score, 0)).toBeCloseTo(1, 5);
    }
    await classify.dispose();
  });
});

describe('tiny-gpt2-generator', () => {
  it('generates deterministically, continuing the prompt', async () => {
    const generate = await pipeline('text-generation', 'tiny-gpt2-generator');
    const prompt = 'Hello world, the customer said';
    const a = (await generate(prompt, { max_new_tokens: 8, do_sample: false })) as Array<{ generated_text: string }>;
    const b = (await generate(prompt, { max_new_tokens: 8, do_sample: false })) as Array<{ generated_text: string }>;
    const text = a[0]!.generated_text;
    expect(text.startsWith(prompt)).toBe(true);
    expect(text.length).toBeGreaterThan(prompt.length);
    expect(b[0]!.generated_text).toBe(text);
    const ids = generate.tokenizer.encode(text);
    expect(ids.length).toBeLessThanOrEqual(generate.tokenizer.encode(prompt).length + 8);

    // Left padding in a batch does not change a prompt's continuation.
    const batch = (await generate(['Hi', prompt], { max_new_tokens: 8, do_sample: false })) as Array<Array<{ generated_text: string }>>;
    expect(batch[1]![0]!.generated_text).toBe(text);

    const only = (await generate(prompt, { max_new_tokens: 8, do_sample: false, return_full_text: false })) as Array<{ generated_text: string }>;
    expect(prompt + only[0]!.generated_text).toBe(text);
    await generate.dispose();
  });

  it('stops by itself when no length limit is given, however long the prompt', async () => {
    const generate = await pipeline('text-generation', 'tiny-gpt2-generator');
    const long = Array.from({ length: 700 }, (_, i) => ['the', 'cat', 'sat', 'on', 'mat'][i % 5]).join(' ');
    for (const prompt of ['Once upon a time', long]) {
      const out = (await generate(prompt, { return_full_text: false })) as Array<{ generated_text: string }>;
      const n = generate.tokenizer.encode(out[0]!.generated_text).length;
      expect(n).toBeGreaterThan(EOS_AFTER);
      expect(n).toBeLessThan(EOS_AFTER + 30);
    }
    await generate.dispose();
  });

  it('accepts chat messages', async () => {
    const generate = await pipeline('text-generation', 'tiny-gpt2-generator');
    const out = (await generate([{ role: 'user', content: 'hello there' }], { max_new_tokens: 4 })) as Array<{
      generated_text: Array<{ role: string; content: string }>;
    }>;
    expect(out[0]!.generated_text.at(-1)!.role).toBe('assistant');
    await generate.dispose();
  });

  it('has a byte-level BPE tokenizer that round-trips any text', async () => {
    const tok = await AutoTokenizer.from_pretrained('tiny-gpt2-generator');
    for (const text of ['the quick brown fox', 'Hello, World!  Two  spaces', 'ünïcödé 😀 and 漢字', 'tabs\tand\nnewlines']) {
      expect(tok.decode(tok.encode(text))).toBe(text);
    }
    expect(tok.tokenize(' customer')).toEqual(['Ġcustomer']);
  });
});

describe('tiny-t5-summarizer', () => {
  it('summarizes deterministically into words of the input', async () => {
    const summarize = await pipeline('summarization', 'tiny-t5-summarizer');
    const text = 'The customer said the package arrived late and the box was damaged. They want a refund.';
    const a = (await summarize(text)) as Array<{ summary_text: string }>;
    const b = (await summarize(text)) as Array<{ summary_text: string }>;
    const summary = a[0]!.summary_text;
    expect(summary.length).toBeGreaterThan(0);
    expect(b[0]!.summary_text).toBe(summary);
    const inputWords = new Set(text.toLowerCase().match(/[a-z]+/g));
    const words = summary.split(' ');
    expect(words.filter((w) => inputWords.has(w)).length / words.length).toBeGreaterThan(0.5);
    const other = (await summarize('It is rainy and cold today, and the forecast says snow.')) as Array<{ summary_text: string }>;
    expect(other[0]!.summary_text).not.toBe(summary);
    await summarize.dispose();
  });

  it('serves text2text generation and respects max_new_tokens', async () => {
    const generate = await pipeline('text2text-generation', 'tiny-t5-summarizer');
    const out = (await generate('translate English to German: hello world', { max_new_tokens: 3 })) as Array<{ generated_text: string }>;
    expect(out[0]!.generated_text.length).toBeGreaterThan(0);
    expect(generate.tokenizer.encode(out[0]!.generated_text, { add_special_tokens: false }).length).toBeLessThanOrEqual(3);
    await generate.dispose();
  });

  it('has a Unigram tokenizer that round-trips lower-case words', async () => {
    const tok = await AutoTokenizer.from_pretrained('tiny-t5-summarizer');
    for (const text of ['the quick brown fox', 'zebras and xylophones', 'Hello World']) {
      expect(tok.decode(tok.encode(text), { skip_special_tokens: true })).toBe(text);
    }
    expect(tok.encode('hello').at(-1)).toBe(1);
  });
});
