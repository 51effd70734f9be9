/**
 * The BERT encoder of SetFit's body stage (src/llm/bert-*.ts, src/fewshot/body-training.ts) against an
 * independent float64 reference written here with plain loops, one sentence at a time: hidden states,
 * the cosine-similarity loss of sentence pairs, and the gradient of every kind of weight (central
 * differences); against onnxruntime running the generated embedder's graph; the weights read from ONNX
 * graphs as exporters name them, and written back as a graph; SetFit's pairs.
 */
import { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import type { BertConfig } from '../src/llm/bert-config.js';
import { bertWeightShapes, parseBertConfig } from '../src/llm/bert-config.js';
import { BertEncoder, meanPool } from '../src/llm/bert-model.js';
import { bertOnnx } from '../src/llm/bert-onnx.js';
import { bertWeightsFromOnnx } from '../src/llm/bert-weights.js';
import type { WeightMap } from '../src/llm/llama-config.js';
import { disposeMatmul } from '../src/llm/matmul.js';
import { SeededRandom } from '../src/llm/seeded-random.js';
import { cosineLoss, generatePairs, pairBatchGradients, type Pair } from '../src/llm/setfit-body.js';
import { bertEmbedder } from '../src/testmodels/index.js';
import { Prng } from '../src/testmodels/prng.js';

afterAll(async () => {
  await disposeMatmul();
});

const CONFIG: BertConfig = { vocabSize: 30, hiddenSize: 8, numLayers: 2, numHeads: 2, intermediateSize: 12, maxPositionEmbeddings: 16, typeVocabSize: 2, layerNormEps: 1e-12 };

function randomWeights(c: BertConfig, seed: number): WeightMap {
  const rng = new Prng(seed);
  const w: WeightMap = new Map();
  for (const [name, shape] of bertWeightShapes(c)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = rng.normals(n, name.includes('embeddings') && !name.includes('LayerNorm') ? 1 : 0.4);
    // LayerNorm weights around 1, as trained models have them.
    if (name.endsWith('LayerNorm.weight')) for (let i = 0; i < n; i++) data[i] = 1 + 0.2 * data[i]!;
    w.set(name, { shape, data });
  }
  return w;
}

// ---------------------------------------------------------------------------------------------------
// The float64 reference.

/** erf to ~1e-14: its Taylor series below 2.5, a continued fraction of erfc above. */
function erf(x: number): number {
  const a = Math.abs(x);
  if (a < 2.5) {
    let term = a;
    let sum = a;
    for (let n = 1; n < 60; n++) {
      term *= (-a * a) / n;
      sum += term / (2 * n + 1);
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  let f = a;
  for (let k = 60; k >= 1; k--) f = a + k / 2 / f;
  return Math.sign(x) * (1 - Math.exp(-a * a) / Math.sqrt(Math.PI) / f);
}

type Params = Map<string, Float64Array>;

const toParams = (w: WeightMap): Params => new Map([...w].map(([k, t]) => [k, Float64Array.from(t.data)]));

function refEncode(c: BertConfig, w: Params, tokens: readonly number[]): number[][] {
  const H = c.hiddenSize;
  const d = H / c.numHeads;
  const get = (name: string): Float64Array => w.get(name)!;
  const ln = (x: number[], name: string): number[] => {
    const mean = x.reduce((a, b) => a + b, 0) / x.length;
    const variance = x.reduce((a, b) => a + (b - mean) ** 2, 0) / x.length;
    const g = get(`${name}.weight`);
    const b = get(`${name}.bias`);
    return x.map((v, i) => ((v - mean) / Math.sqrt(variance + c.layerNormEps)) * g[i]! + b[i]!);
  };
  const linear = (x: number[], name: string): number[] => {
    const W = get(`${name}.weight`);
    const b = get(`${name}.bias`);
    return Array.from(b, (bias, o) => x.reduce((s, v, i) => s + W[o * x.length + i]! * v, bias));
  };
  const word = get('embeddings.word_embeddings.weight');
  const pos = get('embeddings.position_embeddings.weight');
  const type = get('embeddings.token_type_embeddings.weight');
  let xs = tokens.map((t, p) => ln(Array.from({ length: H }, (_, h) => word[t * H + h]! + pos[p * H + h]! + type[h]!), 'embeddings.LayerNorm'));
  for (let l = 0; l < c.numLayers; l++) {
    const p = `encoder.layer.${l}`;
    const qs = xs.map((x) => linear(x, `${p}.attention.self.query`));
    const ks = xs.map((x) => linear(x, `${p}.attention.self.key`));
    const vs = xs.map((x) => linear(x, `${p}.attention.self.value`));
    xs = xs.map((x, t) => {
      const ctx = new Array<number>(H).fill(0);
      for (let head = 0; head < c.numHeads; head++) {
        const scores = ks.map((k) => {
          let s = 0;
          for (let i = 0; i < d; i++) s += qs[t]![head * d + i]! * k[head * d + i]!;
          return s / Math.sqrt(d);
        });
        const max = Math.max(...scores);
        const e = scores.map((s) => Math.exp(s - max));
        const sum = e.reduce((a, b) => a + b, 0);
        vs.forEach((v, j) => {
          for (let i = 0; i < d; i++) ctx[head * d + i] = ctx[head * d + i]! + (e[j]! / sum) * v[head * d + i]!;
        });
      }
      const h1 = ln(linear(ctx, `${p}.attention.output.dense`).map((v, i) => v + x[i]!), `${p}.attention.output.LayerNorm`);
      const inter = linear(h1, `${p}.intermediate.dense`).map((u) => 0.5 * u * (1 + erf(u / Math.SQRT2)));
      return ln(linear(inter, `${p}.output.dense`).map((v, i) => v + h1[i]!), `${p}.output.LayerNorm`);
    });
  }
  return xs;
}

function refPairLoss(c: BertConfig, w: Params, sentences: readonly number[][], pairs: readonly Pair[]): number {
  const pooled = sentences.map((s) => {
    const hs = refEncode(c, w, s);
    return Array.from({ length: c.hiddenSize }, (_, h) => hs.reduce((a, x) => a + x[h]!, 0) / hs.length);
  });
  let loss = 0;
  for (const { a, b, label } of pairs) {
    const u = pooled[a]!;
    const v = pooled[b]!;
    const dot = u.reduce((s, x, i) => s + x * v[i]!, 0);
    const cos = dot / Math.sqrt(u.reduce((s, x) => s + x * x, 0) * v.reduce((s, x) => s + x * x, 0));
    loss += (cos - label) ** 2 / pairs.length;
  }
  return loss;
}

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};

function sentence(c: BertConfig, length: number, seed: number): Int32Array {
  const rng = new Prng(seed);
  return Int32Array.from({ length }, () => Math.floor(rng.next() * c.vocabSize));
}

// ---------------------------------------------------------------------------------------------------

describe('BERT encoder forward pass', () => {
  it('matches the float64 reference, sentences packed in one pass', async () => {
    const w = randomWeights(CONFIG, 3);
    const encoder = BertEncoder.create(CONFIG, w);
    const seqs = [sentence(CONFIG, 7, 1), sentence(CONFIG, 1, 2), sentence(CONFIG, 12, 3)];
    const { hidden, spans } = await encoder.forward(seqs, false);
    let worst = 0;
    seqs.forEach((s, i) => {
      const ref = refEncode(CONFIG, toParams(w), [...s]);
      ref.forEach((row, t) => (worst = Math.max(worst, maxAbsDiff(hidden.subarray((spans[i]!.offset + t) * 8, (spans[i]!.offset + t + 1) * 8), row))));
    });
    expect(worst).toBeLessThan(2e-5);
  });

  it('reads the generated embedder\'s weights out of its ONNX graph and computes what onnxruntime computes from that graph', async () => {
    const files = bertEmbedder();
    const c = parseBertConfig(files['config.json']);
    const onnx = files['onnx/model.onnx'] as Uint8Array;
    const encoder = BertEncoder.create(c, bertWeightsFromOnnx(onnx, c));
    const session = await InferenceSession.create(onnx);
    const ids = [2, 150, 151, 704, 726, 755, 3];
    const n = ids.length;
    const long = (xs: number[]): OrtTensor => new OrtTensor('int64', BigInt64Array.from(xs.map(BigInt)), [1, n]);
    const out = await session.run({ input_ids: long(ids), attention_mask: long(ids.map(() => 1)), token_type_ids: long(ids.map(() => 0)) });
    await session.release();
    const { hidden } = await encoder.forward([Int32Array.from(ids)], false);
    expect(maxAbsDiff(hidden, out['last_hidden_state']!.data as Float32Array)).toBeLessThan(1e-5);
  });

  it('finds weights that an exporter left unnamed (onnx::MatMul_n) by their biases, and writes a graph that computes the encoder, padding masked', async () => {
    const w = randomWeights(CONFIG, 5);
    const anonymous = bertOnnx(CONFIG, w, { anonymousLinearWeights: true });
    const back = bertWeightsFromOnnx(anonymous, CONFIG);
    for (const [name, t] of w) expect(back.get(name)!.data, name).toEqual(t.data);
    // Two sentences of different lengths padded into one batch, as transformers.js runs them.
    const a = sentence(CONFIG, 6, 7);
    const b = sentence(CONFIG, 3, 8);
    const session = await InferenceSession.create(bertOnnx(CONFIG, w));
    const ids = [...a, ...b, 0, 0, 0];
    const mask = [...a.map(() => 1), ...b.map(() => 1), 0, 0, 0];
    const long = (xs: number[]): OrtTensor => new OrtTensor('int64', BigInt64Array.from(xs.map(BigInt)), [2, 6]);
    const out = (await session.run({ input_ids: long(ids), attention_mask: long(mask), token_type_ids: long(ids.map(() => 0)) }))['last_hidden_state']!.data as Float32Array;
    await session.release();
    const { hidden } = await BertEncoder.create(CONFIG, w).forward([a, b], false);
    expect(maxAbsDiff(out.subarray(0, 6 * 8), hidden.subarray(0, 6 * 8))).toBeLessThan(1e-5);
    expect(maxAbsDiff(out.subarray(6 * 8, 9 * 8), hidden.subarray(6 * 8, 9 * 8))).toBeLessThan(1e-5);
  });

  it('refuses configs it does not compute, and weights that do not fit', () => {
    const base = { model_type: 'bert', vocab_size: 30, hidden_size: 8, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 12 };
    for (const bad of [{ model_type: 'mpnet' }, { hidden_act: 'relu' }, { position_embedding_type: 'relative_key' }]) {
      expect(() => parseBertConfig({ ...base, ...bad })).toThrow(expect.objectContaining({ code: '0A000' }));
    }
    const w = randomWeights(CONFIG, 1);
    w.delete('encoder.layer.1.output.dense.bias');
    expect(() => BertEncoder.create(CONFIG, w)).toThrow(/encoder\.layer\.1\.output\.dense\.bias/);
  });
});

describe('SetFit pairs and the cosine-similarity loss', () => {
  it('gives each example one positive and one negative pair per iteration, from the seed', () => {
    const labels = [0, 0, 1, 1, 1, 2];
    const pairs = generatePairs(labels, 5, new SeededRandom(9));
    expect(pairs).toHaveLength(2 * 5 * labels.length);
    for (const p of pairs) expect(labels[p.a] === labels[p.b]).toBe(p.label === 1);
    expect(pairs.filter((p) => p.label === 1)).toHaveLength(30);
    expect(generatePairs(labels, 5, new SeededRandom(9))).toEqual(pairs);
    expect(generatePairs(labels, 5, new SeededRandom(10))).not.toEqual(pairs);
    expect(() => generatePairs([1, 1], 1, new SeededRandom(1))).toThrow(/two labels/);
  });

  it('the loss gradient of the pooled vectors matches central differences', () => {
    const rng = new Prng(4);
    const pooled = Float64Array.from(rng.normals(3 * 5, 1));
    const pairs = [{ a: 0, b: 1, label: 1 }, { a: 0, b: 2, label: 0 }, { a: 2, b: 1, label: 1 }];
    const { loss, dPooled } = cosineLoss(Float32Array.from(pooled), 5, pairs);
    const f = (p: Float64Array): number => cosineLoss(Float32Array.from(p), 5, pairs).loss;
    expect(loss).toBeCloseTo(f(pooled), 6);
    for (let i = 0; i < pooled.length; i++) {
      const h = 1e-3;
      const up = Float64Array.from(pooled);
      up[i] = up[i]! + h;
      const down = Float64Array.from(pooled);
      down[i] = down[i]! - h;
      expect(dPooled[i]!).toBeCloseTo((f(up) - f(down)) / (2 * h), 3);
    }
  });
});

describe('BERT encoder gradients', () => {
  it('match central differences of the float64 reference loss for every kind of weight', async () => {
    const w = randomWeights(CONFIG, 11);
    const encoder = BertEncoder.create(CONFIG, w);
    const seqs = [sentence(CONFIG, 5, 21), sentence(CONFIG, 7, 22), sentence(CONFIG, 4, 23), sentence(CONFIG, 6, 24)];
    const pairs: Pair[] = [{ a: 0, b: 1, label: 1 }, { a: 2, b: 3, label: 0 }, { a: 1, b: 2, label: 1 }, { a: 3, b: 0, label: 0 }];
    const { loss, grads } = await pairBatchGradients(encoder, seqs, pairs);
    const params = toParams(w);
    const sentences = seqs.map((s) => [...s]);
    const refLoss = (): number => refPairLoss(CONFIG, params, sentences, pairs);
    expect(loss).toBeCloseTo(refLoss(), 5);
    const used = new Set(sentences.flat());
    const h = 1e-5;
    for (const [name, param] of params) {
      const analytic = grads.get(name)!;
      // A spread of entries; for the word and position embeddings, of rows the sentences use.
      const row = (i: number): number => Math.floor(i / CONFIG.hiddenSize);
      const candidates = [...param.keys()].filter((i) =>
        name === 'embeddings.word_embeddings.weight' ? used.has(row(i)) : name === 'embeddings.position_embeddings.weight' ? row(i) < 7 : true);
      const stride = Math.max(1, Math.floor(candidates.length / 10));
      const checked = candidates.filter((_, k) => k % stride === 0);
      const fd = checked.map((i) => {
        const keep = param[i]!;
        param[i] = keep + h;
        const up = refLoss();
        param[i] = keep - h;
        const down = refLoss();
        param[i] = keep;
        return (up - down) / (2 * h);
      });
      const scale = Math.max(...fd.map(Math.abs));
      if (name.endsWith('attention.self.key.bias')) {
        // q·(k + b) shifts every score of a row alike, which softmax ignores: the key bias has no gradient.
        expect(Math.max(...checked.map((i) => Math.abs(analytic[i]!))), name).toBeLessThan(1e-6);
        expect(scale, name).toBeLessThan(1e-6);
        continue;
      }
      expect(scale, `${name} has a non-trivial gradient`).toBeGreaterThan(1e-4);
      const worst = Math.max(...checked.map((i, k) => Math.abs(fd[k]! - analytic[i]!)));
      expect(worst / scale, name).toBeLessThan(1e-4);
    }
  }, 120_000);

  it('mean pooling averages each sentence\'s tokens', () => {
    const hidden = Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect([...meanPool(hidden, [{ offset: 0, length: 2 }, { offset: 2, length: 3 }], 2)]).toEqual([2, 3, 7, 8]);
  });
});
