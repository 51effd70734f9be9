/**
 * The Llama-family compute core (src/llm) against an independent float64 reference written here with
 * plain loops, one token at a time: logits, packed losses, LoRA gradients (central differences),
 * merging, KV-cache generation, AdamW and the learning-rate schedule, and a small training run.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import type { LlamaConfig, LinearModule, WeightMap } from '../src/llm/llama-config.js';
import type { LoraTarget } from '../src/llm/lora-targets.js';
import { LINEAR_MODULES, hasBias, linearShape, modulePath, parseLlamaConfig } from '../src/llm/llama-config.js';
import { loadFolderWeights } from '../src/llm/safetensors.js';
import { llamaReferenceOnnx, writeTestModels } from '../src/testmodels/index.js';
import type { LoraAdapter } from '../src/llm/lora-types.js';
import { LlamaModel, type TrainSequence } from '../src/llm/llama-model.js';
import { initAdapter, mergeAdapter, mergeUnties } from '../src/llm/lora.js';
import { AdamW, clipGradNorm, linearSchedule } from '../src/llm/adamw.js';
import { generate } from '../src/llm/generate.js';
import { disposeMatmul, gemm, batchedGemm } from '../src/llm/matmul.js';
import { SeededRandom } from '../src/llm/seeded-random.js';
import { Prng } from '../src/testmodels/prng.js';

afterAll(async () => {
  await disposeMatmul();
});

function config(overrides: Partial<LlamaConfig> = {}): LlamaConfig {
  return {
    architecture: 'LlamaForCausalLM',
    modelType: 'llama',
    vocabSize: 50,
    hiddenSize: 32,
    intermediateSize: 48,
    numLayers: 2,
    numHeads: 4,
    numKvHeads: 2,
    headDim: 8,
    rmsNormEps: 1e-5,
    ropeTheta: 10000,
    ropeScaling: null,
    maxPositionEmbeddings: 64,
    tieWordEmbeddings: false,
    qkvBias: false,
    oBias: false,
    mlpBias: false,
    bosTokenId: null,
    eosTokenIds: [],
    ...overrides,
  };
}

const LLAMA = config();
const QWEN = config({ architecture: 'Qwen2ForCausalLM', modelType: 'qwen2', qkvBias: true, tieWordEmbeddings: true });
/** Frequencies of head_dim 8 with theta 10000 have wavelengths 6.3, 63, 628, 6283: with these settings one is kept, one smoothed, two slowed. */
const LLAMA3 = config({ ropeScaling: { type: 'llama3', factor: 8, lowFreqFactor: 1, highFreqFactor: 8, originalMaxPositionEmbeddings: 64 } });
const LINEAR_ROPE = config({ ropeScaling: { type: 'linear', factor: 2, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 64 }, oBias: true, mlpBias: true });

function randomWeights(c: LlamaConfig, seed: number, std = 0.1): WeightMap {
  const rng = new Prng(seed);
  const w: WeightMap = new Map();
  const put = (name: string, shape: number[], offset = 0): void => {
    const data = rng.normals(shape.reduce((a, b) => a * b, 1), std);
    for (let i = 0; i < data.length; i++) data[i] = data[i]! + offset;
    w.set(name, { shape, data });
  };
  put('model.embed_tokens.weight', [c.vocabSize, c.hiddenSize], 0);
  for (let l = 0; l < c.numLayers; l++) {
    put(`model.layers.${l}.input_layernorm.weight`, [c.hiddenSize], 1);
    put(`model.layers.${l}.post_attention_layernorm.weight`, [c.hiddenSize], 1);
    for (const m of LINEAR_MODULES) {
      const [out, inDim] = linearShape(c, m);
      put(`${modulePath(l, m)}.weight`, [out, inDim]);
      if (hasBias(c, m)) put(`${modulePath(l, m)}.bias`, [out]);
    }
  }
  put('model.norm.weight', [c.hiddenSize], 1);
  if (!c.tieWordEmbeddings) put('lm_head.weight', [c.vocabSize, c.hiddenSize]);
  return w;
}

/**
 * An adapter with non-zero A and B (so every gradient path is exercised), on the given modules of the
 * given layers (lm_head and embed_tokens are kept whatever the layers).
 */
function randomAdapter(c: LlamaConfig, modules: LoraTarget[], seed: number, layers?: number[], dropout = 0): LoraAdapter {
  const adapter = initAdapter(c, { r: 4, alpha: 8, dropout, targetModules: modules }, seed);
  const rng = new Prng(seed + 1);
  for (const [path, pair] of adapter.modules) {
    const layer = /layers\.(\d+)\./.exec(path);
    if (layers !== undefined && layer !== null && !layers.includes(Number(layer[1]))) adapter.modules.delete(path);
    else {
      pair.B.data.set(rng.normals(pair.B.data.length, 0.2));
      // A fresh embedding adapter has A = 0 (PEFT's initialization).
      if (path === 'model.embed_tokens') pair.A.data.set(rng.normals(pair.A.data.length, 0.5));
    }
  }
  return adapter;
}

// ---------------------------------------------------------------------------------------------------
// The float64 reference: one sequence, one token at a time, straight from the architecture's definition.

type Vec = Float64Array;
interface RefLora {
  scale: number;
  r: number;
  modules: Map<string, { A: ArrayLike<number>; B: ArrayLike<number> }>;
}

function refLoraOf(adapter: LoraAdapter | undefined): RefLora | undefined {
  if (adapter === undefined) return undefined;
  return {
    scale: adapter.spec.alpha / adapter.spec.r,
    r: adapter.spec.r,
    modules: new Map([...adapter.modules].map(([k, v]) => [k, { A: Float64Array.from(v.A.data), B: Float64Array.from(v.B.data) }])),
  };
}

function refInverseFrequencies(c: LlamaConfig): number[] {
  const d = c.headDim;
  const base = Array.from({ length: d / 2 }, (_, i) => 1 / Math.pow(c.ropeTheta, (2 * i) / d));
  const s = c.ropeScaling;
  if (s === null) return base;
  if (s.type === 'linear') return base.map((f) => f / s.factor);
  return base.map((f) => {
    const wavelength = (2 * Math.PI) / f;
    const old = s.originalMaxPositionEmbeddings;
    if (wavelength < old / s.highFreqFactor) return f;
    if (wavelength > old / s.lowFreqFactor) return f / s.factor;
    const smooth = (old / wavelength - s.lowFreqFactor) / (s.highFreqFactor - s.lowFreqFactor);
    return (1 - smooth) * (f / s.factor) + smooth * f;
  });
}

function refForward(c: LlamaConfig, w: WeightMap, tokens: readonly number[], lora?: RefLora): Vec[] {
  const H = c.hiddenSize;
  const d = c.headDim;
  const get = (name: string): Float32Array => w.get(name)!.data;
  const rms = (x: Vec, weight: Float32Array): Vec => {
    let ss = 0;
    for (const v of x) ss += v * v;
    const inv = 1 / Math.sqrt(ss / x.length + c.rmsNormEps);
    return x.map((v, i) => v * inv * weight[i]!);
  };
  const linear = (x: Vec, path: string, out: number, loraPath = path): Vec => {
    const W = get(`${path}.weight`);
    const b = w.get(`${path}.bias`)?.data;
    const y = new Float64Array(out);
    for (let o = 0; o < out; o++) {
      let s = b ? b[o]! : 0;
      for (let i = 0; i < x.length; i++) s += W[o * x.length + i]! * x[i]!;
      y[o] = s;
    }
    const l = lora?.modules.get(loraPath);
    if (l && lora) {
      const u = new Float64Array(lora.r);
      for (let k = 0; k < lora.r; k++) for (let i = 0; i < x.length; i++) u[k] = u[k]! + l.A[k * x.length + i]! * x[i]!;
      for (let o = 0; o < out; o++) for (let k = 0; k < lora.r; k++) y[o] = y[o]! + lora.scale * l.B[o * lora.r + k]! * u[k]!;
    }
    return y;
  };
  const inv = refInverseFrequencies(c);
  const rope = (v: Vec, head: number, pos: number): void => {
    const o = head * d;
    for (let i = 0; i < d / 2; i++) {
      const angle = pos * inv[i]!;
      const x1 = v[o + i]!;
      const x2 = v[o + i + d / 2]!;
      v[o + i] = x1 * Math.cos(angle) - x2 * Math.sin(angle);
      v[o + i + d / 2] = x2 * Math.cos(angle) + x1 * Math.sin(angle);
    }
  };
  const E = get('model.embed_tokens.weight');
  const el = lora?.modules.get('model.embed_tokens');
  let xs: Vec[] = tokens.map((t) => {
    const x = Float64Array.from(E.subarray(t * H, (t + 1) * H));
    // An embedding LoRA: x_t += s · B A[:, t], A [r, vocab], B [hidden, r].
    if (el && lora) for (let h = 0; h < H; h++) for (let k = 0; k < lora.r; k++) x[h] = x[h]! + lora.scale * el.B[h * lora.r + k]! * el.A[k * c.vocabSize + t]!;
    return x;
  });
  const group = c.numHeads / c.numKvHeads;
  for (let l = 0; l < c.numLayers; l++) {
    const p = (m: LinearModule): string => modulePath(l, m);
    const normed = xs.map((x) => rms(x, get(`model.layers.${l}.input_layernorm.weight`)));
    const qs = normed.map((n, t) => {
      const q = linear(n, p('q_proj'), c.numHeads * d);
      for (let h = 0; h < c.numHeads; h++) rope(q, h, t);
      return q;
    });
    const ks = normed.map((n, t) => {
      const k = linear(n, p('k_proj'), c.numKvHeads * d);
      for (let h = 0; h < c.numKvHeads; h++) rope(k, h, t);
      return k;
    });
    const vs = normed.map((n) => linear(n, p('v_proj'), c.numKvHeads * d));
    xs = xs.map((x, t) => {
      const attn = new Float64Array(c.numHeads * d);
      for (let h = 0; h < c.numHeads; h++) {
        const kv = Math.floor(h / group);
        const scores: number[] = [];
        for (let j = 0; j <= t; j++) {
          let s = 0;
          for (let i = 0; i < d; i++) s += qs[t]![h * d + i]! * ks[j]![kv * d + i]!;
          scores.push(s / Math.sqrt(d));
        }
        const max = Math.max(...scores);
        const e = scores.map((s) => Math.exp(s - max));
        const sum = e.reduce((a, b) => a + b, 0);
        for (let j = 0; j <= t; j++) for (let i = 0; i < d; i++) attn[h * d + i] = attn[h * d + i]! + (e[j]! / sum) * vs[j]![kv * d + i]!;
      }
      const hidden = linear(attn, p('o_proj'), H).map((v, i) => v + x[i]!);
      const n2 = rms(hidden, get(`model.layers.${l}.post_attention_layernorm.weight`));
      const gate = linear(n2, p('gate_proj'), c.intermediateSize);
      const up = linear(n2, p('up_proj'), c.intermediateSize);
      const act = gate.map((g, i) => (g / (1 + Math.exp(-g))) * up[i]!);
      return linear(act, p('down_proj'), H).map((v, i) => v + hidden[i]!);
    });
  }
  const head = c.tieWordEmbeddings ? 'model.embed_tokens' : 'lm_head';
  return xs.map((x) => linear(rms(x, get('model.norm.weight')), head, c.vocabSize, 'lm_head'));
}

function refLoss(c: LlamaConfig, w: WeightMap, seq: TrainSequence, lora?: RefLora): number {
  const logits = refForward(c, w, [...seq.inputIds], lora);
  let loss = 0;
  for (let t = 1; t < seq.inputIds.length; t++) {
    if (!seq.lossMask[t]) continue;
    const row = logits[t - 1]!;
    const max = Math.max(...row);
    const lse = Math.log(row.reduce((a, v) => a + Math.exp(v - max), 0)) + max;
    loss += lse - row[seq.inputIds[t]!]!;
  }
  return loss;
}

function sequence(c: LlamaConfig, length: number, seed: number, maskFrom = 1): TrainSequence {
  const rng = new Prng(seed);
  const inputIds = Int32Array.from({ length }, () => Math.floor(rng.next() * c.vocabSize));
  const lossMask = Uint8Array.from({ length }, (_, t) => (t >= maskFrom ? 1 : 0));
  return { inputIds, lossMask };
}

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};

// ---------------------------------------------------------------------------------------------------

describe('matrix products on onnxruntime', () => {
  it('gemm and batchedGemm agree with plain loops, transposed or not, with bias, into views', async () => {
    const rng = new Prng(3);
    const M = 5, K = 7, N = 3;
    const a = rng.normals(M * K, 1);
    const b = rng.normals(K * N, 1);
    const bias = rng.normals(N, 1);
    const at = new Float32Array(K * M);
    const bt = new Float32Array(N * K);
    for (let i = 0; i < M; i++) for (let k = 0; k < K; k++) at[k * M + i] = a[i * K + k]!;
    for (let k = 0; k < K; k++) for (let j = 0; j < N; j++) bt[j * K + k] = b[k * N + j]!;
    const want = new Float64Array(M * N);
    for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) for (let k = 0; k < K; k++) want[i * N + j] = want[i * N + j]! + a[i * K + k]! * b[k * N + j]!;
    expect(maxAbsDiff(await gemm(a, b, M, K, N), want)).toBeLessThan(1e-5);
    expect(maxAbsDiff(await gemm(at, bt, M, K, N, { transA: true, transB: true }), want)).toBeLessThan(1e-5);
    const withBias = await gemm(a, bt, M, K, N, { transB: true, c: bias });
    expect(maxAbsDiff(withBias, want.map((v, i) => v + bias[i % N]!))).toBeLessThan(1e-5);
    const big = new Float32Array(100).fill(-1);
    await gemm(at, b, M, K, N, { transA: true, out: big.subarray(10, 10 + M * N) });
    expect(maxAbsDiff(big.subarray(10, 10 + M * N), want)).toBeLessThan(1e-5);
    expect(big[9]).toBe(-1);
    expect(big[10 + M * N]).toBe(-1);
    const twice = new Float32Array(2 * M * K);
    twice.set(a);
    twice.set(a, M * K);
    const b2 = new Float32Array(2 * N * K);
    b2.set(bt);
    b2.set(bt, N * K);
    const batched = await batchedGemm(twice, b2, 2, M, K, N, { transB: true });
    expect(maxAbsDiff(batched.subarray(M * N), want)).toBeLessThan(1e-5);
    const b3 = new Float32Array(2 * K * N);
    b3.set(b);
    b3.set(b, K * N);
    expect(maxAbsDiff((await batchedGemm(twice, b3, 2, M, K, N)).subarray(0, M * N), want)).toBeLessThan(1e-5);
  });
});

describe('forward pass', () => {
  const cases: [string, LlamaConfig][] = [
    ['llama (GQA)', LLAMA],
    ['qwen2 (q/k/v bias, tied embeddings)', QWEN],
    ['llama3 rope scaling', LLAMA3],
    ['linear rope scaling, o_proj and MLP biases', LINEAR_ROPE],
  ];
  for (const [name, c] of cases) {
    it(`matches the float64 reference: ${name}`, async () => {
      const w = randomWeights(c, 11);
      const model = LlamaModel.create(c, w);
      const tokens = [...sequence(c, 40, 5).inputIds];
      const adapter = randomAdapter(c, [...LINEAR_MODULES, 'lm_head', 'embed_tokens'], 9);
      for (const a of [undefined, adapter]) {
        const got = await model.logits(tokens, a);
        const want = refForward(c, w, tokens, refLoraOf(a));
        let worst = 0;
        want.forEach((row, t) => (worst = Math.max(worst, maxAbsDiff(got.subarray(t * c.vocabSize, (t + 1) * c.vocabSize), row))));
        expect(worst).toBeLessThan(2e-5);
      }
    });
  }

  it('packing sequences in one batch gives the losses of running them one by one', async () => {
    const c = QWEN;
    const w = randomWeights(c, 12);
    const model = LlamaModel.create(c, w);
    const adapter = randomAdapter(c, ['q_proj', 'v_proj', 'down_proj'], 4);
    const seqs = [sequence(c, 9, 1, 3), sequence(c, 17, 2, 1), sequence(c, 1, 3), sequence(c, 12, 4, 6)];
    const packed = await model.loss(seqs, adapter);
    let separate = 0;
    let targets = 0;
    for (const s of seqs) {
      const r = await model.loss([s], adapter);
      separate += r.lossSum;
      targets += r.targetTokens;
      expect(r.lossSum).toBeCloseTo(refLoss(c, w, s, refLoraOf(adapter)), 4);
    }
    expect(packed.targetTokens).toBe(targets);
    expect(targets).toBe(6 + 16 + 0 + 6);
    expect(packed.lossSum).toBeCloseTo(separate, 4);
    const withGrads = await model.lossAndGrads(seqs, adapter);
    expect(withGrads.lossSum).toBeCloseTo(packed.lossSum, 5);
  });

  it('a fresh adapter (B = 0) leaves the logits exactly unchanged', async () => {
    const c = LLAMA3;
    const model = LlamaModel.create(c, randomWeights(c, 13));
    const tokens = [...sequence(c, 20, 6).inputIds];
    const fresh = initAdapter(c, { r: 8, alpha: 16, dropout: 0, targetModules: [...LINEAR_MODULES, 'lm_head', 'embed_tokens'] }, 1);
    expect(await model.logits(tokens, fresh)).toEqual(await model.logits(tokens));
  });

  it('refuses weights that do not fit the config, naming the tensor', () => {
    const w = randomWeights(LLAMA, 1);
    w.delete('model.layers.1.mlp.up_proj.weight');
    expect(() => LlamaModel.create(LLAMA, w)).toThrow(/model\.layers\.1\.mlp\.up_proj\.weight/);
    const w2 = randomWeights(QWEN, 1);
    w2.set('model.layers.0.self_attn.k_proj.bias', { shape: [3], data: new Float32Array(3) });
    try {
      LlamaModel.create(QWEN, w2);
      expect.unreachable();
    } catch (e) {
      expect((e as { code: string }).code).toBe('22023');
      expect((e as Error).message).toMatch(/k_proj\.bias.*\[3\].*\[16\]/);
    }
  });
});

describe('LoRA gradients', () => {
  /** Central differences of the float64 reference loss, for every entry of every A and B. */
  async function checkGradients(c: LlamaConfig, adapter: LoraAdapter, seqs: TrainSequence[]): Promise<void> {
    const w = randomWeights(c, 21);
    const model = LlamaModel.create(c, w);
    const { grads, lossSum } = await model.lossAndGrads(seqs, adapter);
    const ref = refLoraOf(adapter)!;
    const loss = (): number => seqs.reduce((a, s) => a + refLoss(c, w, s, ref), 0);
    expect(lossSum).toBeCloseTo(loss(), 3);
    expect([...grads.keys()].sort()).toEqual([...adapter.modules.keys()].sort());
    const h = 1e-5;
    for (const [path, pair] of ref.modules) {
      const g = grads.get(path)!;
      for (const key of ['A', 'B'] as const) {
        const param = pair[key] as Float64Array;
        const analytic = g[key];
        // A spread of entries (every entry would take long in the float64 reference).
        const stride = Math.max(1, Math.floor(param.length / 16));
        const checked = [...param.keys()].filter((i) => i % stride === (stride >> 1) % param.length);
        const fd = new Float64Array(param.length);
        for (const i of checked) {
          const keep = param[i]!;
          param[i] = keep + h;
          const up = loss();
          param[i] = keep - h;
          const down = loss();
          param[i] = keep;
          fd[i] = (up - down) / (2 * h);
        }
        const scale = Math.max(...checked.map((i) => Math.abs(fd[i]!)));
        expect(scale, `${path}.${key} has a non-trivial gradient`).toBeGreaterThan(1e-3);
        const worst = Math.max(...checked.map((i) => Math.abs(fd[i]! - analytic[i]!)));
        expect(worst / scale, `${path}.${key}`).toBeLessThan(2e-4);
      }
    }
  }

  it('match central differences on every module (qwen2: bias, tied head; two packed sequences)', async () => {
    await checkGradients(QWEN, randomAdapter(QWEN, [...LINEAR_MODULES], 31), [sequence(QWEN, 7, 1, 2), sequence(QWEN, 6, 2)]);
  });

  it('match central differences with LoRA on lm_head and embed_tokens (tied embeddings: the head\'s base is the embedding)', async () => {
    await checkGradients(QWEN, randomAdapter(QWEN, ['v_proj', 'lm_head', 'embed_tokens'], 37), [sequence(QWEN, 7, 3, 2), sequence(QWEN, 5, 4)]);
  });

  it('match central differences with LoRA on lm_head alone, and on embed_tokens alone (every layer run backward)', async () => {
    await checkGradients(LLAMA, randomAdapter(LLAMA, ['lm_head'], 38), [sequence(LLAMA, 8, 5)]);
    await checkGradients(LLAMA3, randomAdapter(LLAMA3, ['embed_tokens'], 39), [sequence(LLAMA3, 9, 6), sequence(LLAMA3, 4, 7)]);
  });

  it('match central differences with llama3 rope scaling on q_proj, v_proj', async () => {
    await checkGradients(LLAMA3, randomAdapter(LLAMA3, ['q_proj', 'v_proj'], 32), [sequence(LLAMA3, 10, 3)]);
  });

  it('match central differences when only upper layers or only the MLP are adapted', async () => {
    await checkGradients(LLAMA, randomAdapter(LLAMA, ['k_proj', 'o_proj', 'up_proj'], 33, [1]), [sequence(LLAMA, 8, 4), sequence(LLAMA, 5, 5)]);
    await checkGradients(LLAMA, randomAdapter(LLAMA, ['gate_proj', 'down_proj'], 34), [sequence(LLAMA, 8, 6)]);
  });

  it('are the same whether attention probabilities are kept or recomputed', async () => {
    const c = LLAMA3;
    const model = LlamaModel.create(c, randomWeights(c, 23));
    const adapter = randomAdapter(c, ['q_proj', 'k_proj', 'v_proj'], 36);
    const seqs = [sequence(c, 9, 8), sequence(c, 14, 9)];
    const kept = await model.lossAndGrads(seqs, adapter);
    const recomputed = await model.lossAndGrads(seqs, adapter, { attentionMemoryFloats: 0 });
    expect(recomputed.lossSum).toBe(kept.lossSum);
    for (const [k, g] of kept.grads) {
      expect(recomputed.grads.get(k)!.A).toEqual(g.A);
      expect(recomputed.grads.get(k)!.B).toEqual(g.B);
    }
  });

  it('with dropout: match central differences of the same seeded masks, and repeat bit for bit', async () => {
    const c = LLAMA;
    const model = LlamaModel.create(c, randomWeights(c, 22));
    const adapter = randomAdapter(c, ['q_proj', 'v_proj', 'down_proj', 'lm_head'], 35, undefined, 0.3);
    const seqs = [sequence(c, 12, 7)];
    const run = (): ReturnType<LlamaModel['lossAndGrads']> => model.lossAndGrads(seqs, adapter, { dropout: new SeededRandom(99) });
    const first = await run();
    const again = await run();
    for (const [k, g] of first.grads) {
      expect(again.grads.get(k)!.A).toEqual(g.A);
      expect(again.grads.get(k)!.B).toEqual(g.B);
    }
    const plain = await model.loss(seqs, adapter);
    expect(plain.lossSum).not.toBeCloseTo(first.lossSum, 3);
    const h = 1e-2;
    for (const [path, pair] of adapter.modules) {
      for (const key of ['A', 'B'] as const) {
        const param = pair[key].data;
        const analytic = first.grads.get(path)![key];
        // The largest entries, where float32 central differences are accurate.
        const order = [...analytic.keys()].sort((a, b) => Math.abs(analytic[b]!) - Math.abs(analytic[a]!)).slice(0, 4);
        for (const i of order) {
          const keep = param[i]!;
          param[i] = keep + h;
          const up = (await run()).lossSum;
          param[i] = keep - h;
          const down = (await run()).lossSum;
          param[i] = keep;
          const fd = (up - down) / (2 * h);
          expect(Math.abs(fd - analytic[i]!) / Math.abs(analytic[i]!), `${path}.${key}[${i}]`).toBeLessThan(2e-2);
        }
      }
    }
  });
});

describe('merging', () => {
  it('W + (alpha/r)·B·A, and the merged model computes the unmerged adapter model', async () => {
    const c = QWEN;
    const w = randomWeights(c, 41);
    const adapter = randomAdapter(c, ['q_proj', 'o_proj', 'gate_proj'], 42);
    const merged = mergeAdapter(c, w, adapter);
    const s = adapter.spec.alpha / adapter.spec.r;
    for (const [name, t] of w) {
      const path = name.replace(/\.weight$/, '');
      const pair = adapter.modules.get(path);
      if (pair === undefined || !name.endsWith('.weight')) {
        expect(merged.get(name)).toBe(t);
        continue;
      }
      const [out = 0, inDim = 0] = t.shape;
      const want = new Float64Array(out * inDim);
      for (let o = 0; o < out; o++) {
        for (let i = 0; i < inDim; i++) {
          let ba = 0;
          for (let k = 0; k < adapter.spec.r; k++) ba += pair.B.data[o * adapter.spec.r + k]! * pair.A.data[k * inDim + i]!;
          want[o * inDim + i] = t.data[o * inDim + i]! + s * ba;
        }
      }
      expect(maxAbsDiff(merged.get(name)!.data, want)).toBeLessThan(1e-6);
      expect(merged.get(name)!.data).not.toBe(t.data);
    }
    const tokens = [...sequence(c, 16, 8).inputIds];
    const viaMerge = await LlamaModel.create(c, merged).logits(tokens);
    const viaAdapter = await LlamaModel.create(c, w).logits(tokens, adapter);
    expect(maxAbsDiff(viaMerge, viaAdapter)).toBeLessThan(1e-5);
  });
});

describe('merging lm_head and embed_tokens adapters', () => {
  it('E + s·(B·A)ᵀ and W_head + s·B·A; tied embeddings come out untied, computing what the unmerged adapter does', async () => {
    for (const c of [QWEN, LLAMA]) {
      const w = randomWeights(c, 43);
      const adapter = randomAdapter(c, ['k_proj', 'lm_head', 'embed_tokens'], 44);
      expect(mergeUnties(c, adapter)).toBe(c.tieWordEmbeddings);
      const merged = mergeAdapter(c, w, adapter);
      const s = adapter.spec.alpha / adapter.spec.r;
      const r = adapter.spec.r;
      const E = w.get('model.embed_tokens.weight')!.data;
      const emb = adapter.modules.get('model.embed_tokens')!;
      const V = c.vocabSize;
      const H = c.hiddenSize;
      const want = new Float64Array(V * H);
      for (let v = 0; v < V; v++) {
        for (let h = 0; h < H; h++) {
          let ba = 0;
          for (let k = 0; k < r; k++) ba += emb.B.data[h * r + k]! * emb.A.data[k * V + v]!;
          want[v * H + h] = E[v * H + h]! + s * ba;
        }
      }
      expect(maxAbsDiff(merged.get('model.embed_tokens.weight')!.data, want)).toBeLessThan(1e-6);
      const head = adapter.modules.get('lm_head')!;
      const W = (c.tieWordEmbeddings ? w.get('model.embed_tokens.weight')! : w.get('lm_head.weight')!).data;
      const wantHead = new Float64Array(V * H);
      for (let v = 0; v < V; v++) {
        for (let h = 0; h < H; h++) {
          let ba = 0;
          for (let k = 0; k < r; k++) ba += head.B.data[v * r + k]! * head.A.data[k * H + h]!;
          wantHead[v * H + h] = W[v * H + h]! + s * ba;
        }
      }
      expect(maxAbsDiff(merged.get('lm_head.weight')!.data, wantHead)).toBeLessThan(1e-6);
      expect(E).toEqual(randomWeights(c, 43).get('model.embed_tokens.weight')!.data);
      const tokens = [...sequence(c, 16, 8).inputIds];
      const viaMerge = await LlamaModel.create({ ...c, tieWordEmbeddings: false }, merged).logits(tokens);
      const viaAdapter = await LlamaModel.create(c, w).logits(tokens, adapter);
      expect(maxAbsDiff(viaMerge, viaAdapter)).toBeLessThan(1e-5);
      expect(maxAbsDiff(viaAdapter, await LlamaModel.create(c, w).logits(tokens))).toBeGreaterThan(1e-2);
    }
  });
});

describe('generation', () => {
  const c = QWEN;
  const w = randomWeights(c, 51, 0.3);
  const model = LlamaModel.create(c, w);
  const adapter = randomAdapter(c, ['q_proj', 'v_proj', 'up_proj', 'lm_head', 'embed_tokens'], 52);
  const prompt = (n: number, seed: number): number[] => [...sequence(c, n, seed).inputIds];

  async function greedyByFullLogits(p: number[], steps: number, a?: LoraAdapter): Promise<number[]> {
    const tokens = [...p];
    const out: number[] = [];
    for (let s = 0; s < steps; s++) {
      const logits = await model.logits(tokens, a);
      const row = logits.subarray((tokens.length - 1) * c.vocabSize);
      let best = 0;
      for (let i = 1; i < c.vocabSize; i++) if (row[i]! > row[best]!) best = i;
      out.push(best);
      tokens.push(best);
    }
    return out;
  }

  it('greedy decoding with the KV cache equals re-running the full forward pass each step', async () => {
    const p = prompt(6, 1);
    const [got] = await generate(model, [p], { maxNewTokens: 10, eosTokenIds: [] }, adapter);
    expect(got).toEqual(await greedyByFullLogits(p, 10, adapter));
    const [plain] = await generate(model, [p], { maxNewTokens: 10, eosTokenIds: [] });
    expect(plain).toEqual(await greedyByFullLogits(p, 10));
  });

  it('a batch of prompts of different lengths decodes as each prompt alone', async () => {
    const prompts = [prompt(3, 2), prompt(11, 3), prompt(6, 4)];
    const together = await generate(model, prompts, { maxNewTokens: 9, eosTokenIds: [] }, adapter);
    for (let i = 0; i < prompts.length; i++) {
      expect(together[i]).toEqual((await generate(model, [prompts[i]!], { maxNewTokens: 9, eosTokenIds: [] }, adapter))[0]);
    }
    // Rows that end early (eos, stop hook) drop out of the batch without disturbing the others.
    const eos = together[1]![2]!;
    const stopped = await generate(model, prompts, { maxNewTokens: 9, eosTokenIds: [eos], shouldStop: (row, t) => row === 2 && t.length === 4 }, adapter);
    for (let i = 0; i < prompts.length; i++) {
      const cut = together[i]!.indexOf(eos);
      const expected = cut < 0 ? together[i]! : together[i]!.slice(0, cut);
      expect(stopped[i]).toEqual(i === 2 ? expected.slice(0, 4) : expected);
    }
  });

  it('sampling is reproducible with a seed, and top_p → 0 is greedy', async () => {
    const prompts = [prompt(4, 5), prompt(7, 6)];
    const opts = { maxNewTokens: 12, temperature: 1.5, topP: 0.9, seed: 7, eosTokenIds: [] };
    const a = await generate(model, prompts, opts, adapter);
    expect(await generate(model, prompts, opts, adapter)).toEqual(a);
    const greedy = await generate(model, prompts, { maxNewTokens: 12, eosTokenIds: [] }, adapter);
    expect(a).not.toEqual(greedy);
    expect(await generate(model, prompts, { ...opts, topP: 1e-9 }, adapter)).toEqual(greedy);
    expect(await generate(model, prompts, { ...opts, topP: 1, seed: 8 }, adapter)).not.toEqual(a);
    // A row samples from a stream of its own: alone, or batched with others, it answers the same.
    expect(await generate(model, [prompts[1]!], opts, adapter)).toEqual([a[1]]);
    expect((await generate(model, [prompt(3, 9), prompts[0]!], opts, adapter))[1]).toEqual(a[0]);
  });

  it('stops at the position limit, refuses longer prompts, honours cancellation', async () => {
    const long = prompt(c.maxPositionEmbeddings - 3, 9);
    const [out] = await generate(model, [long], { maxNewTokens: 10, eosTokenIds: [] });
    expect(out).toHaveLength(4);
    await expect(generate(model, [prompt(c.maxPositionEmbeddings + 1, 9)], { maxNewTokens: 1 })).rejects.toThrow(/more than the model's 64 positions/);
    let steps = 0;
    const cancelled = await generate(model, [prompt(5, 1)], { maxNewTokens: 10, eosTokenIds: [], isCancelled: () => ++steps > 2 });
    expect(cancelled[0]).toHaveLength(3);
  });
});

describe('optimizer', () => {
  it('AdamW follows torch.optim.AdamW step by step', () => {
    const c = config({ numLayers: 1 });
    const adapter = initAdapter(c, { r: 2, alpha: 4, dropout: 0, targetModules: ['q_proj'] }, 3);
    const pair = adapter.modules.get(modulePath(0, 'q_proj'))!;
    const start = { A: Float64Array.from(pair.A.data), B: Float64Array.from(pair.B.data) };
    const opt = new AdamW(adapter, { weightDecay: 0.1 });
    const rng = new Prng(5);
    const lrs = [1e-2, 5e-3, 2e-3];
    const gradsSeq = lrs.map(() => ({ A: rng.normals(pair.A.data.length, 1), B: rng.normals(pair.B.data.length, 1) }));
    // Hand-computed torch semantics, float64.
    const m = { A: new Float64Array(start.A.length), B: new Float64Array(start.B.length) };
    const v = { A: new Float64Array(start.A.length), B: new Float64Array(start.B.length) };
    const theta = { A: Float64Array.from(start.A), B: Float64Array.from(start.B) };
    lrs.forEach((lr, k) => {
      const t = k + 1;
      opt.step(new Map([[modulePath(0, 'q_proj'), gradsSeq[k]!]]), lr);
      for (const key of ['A', 'B'] as const) {
        for (let i = 0; i < theta[key].length; i++) {
          const g = gradsSeq[k]![key][i]!;
          theta[key][i] = theta[key][i]! * (1 - lr * 0.1);
          m[key][i] = 0.9 * m[key][i]! + 0.1 * g;
          v[key][i] = 0.999 * v[key][i]! + 0.001 * g * g;
          const mHat = m[key][i]! / (1 - 0.9 ** t);
          const vHat = v[key][i]! / (1 - 0.999 ** t);
          theta[key][i] = theta[key][i]! - (lr * mHat) / (Math.sqrt(vHat) + 1e-8);
        }
      }
      expect(maxAbsDiff(pair.A.data, theta.A)).toBeLessThan(1e-6);
      expect(maxAbsDiff(pair.B.data, theta.B)).toBeLessThan(1e-6);
    });
    expect(opt.steps).toBe(3);
  });

  it('clipGradNorm returns the global norm and scales down only above the limit', () => {
    const grads = new Map([['x', { A: Float32Array.from([3, 0]), B: Float32Array.from([4]) }]]);
    expect(clipGradNorm(grads, 10)).toBeCloseTo(5, 6);
    expect([...grads.get('x')!.A, ...grads.get('x')!.B]).toEqual([3, 0, 4]);
    expect(clipGradNorm(grads, 1)).toBeCloseTo(5, 6);
    const g = grads.get('x')!;
    expect(Math.hypot(g.A[0]!, g.A[1]!, g.B[0]!)).toBeCloseTo(1, 5);
  });

  it('the learning-rate schedule warms up linearly, then decays linearly to 0 (get_linear_schedule_with_warmup)', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11].map((s) => linearSchedule(s, 4, 10))).toEqual([0, 0.25, 0.5, 0.75, 1, 5 / 6, 4 / 6, 3 / 6, 2 / 6, 1 / 6, 0, 0]);
    expect([0, 1, 2].map((s) => linearSchedule(s, 0, 2))).toEqual([1, 0.5, 0]);
  });
});

describe('training', () => {
  it('60 steps on a tiny copy task lower the loss by more than half', async () => {
    const c = config({ vocabSize: 24, maxPositionEmbeddings: 32 });
    const model = LlamaModel.create(c, randomWeights(c, 61, 0.2));
    // Each example: 6 random tokens, each written twice; the second copy is scored.
    const rng = new Prng(62);
    const example = (): TrainSequence => {
      const ids: number[] = [];
      for (let k = 0; k < 6; k++) {
        const t = 1 + Math.floor(rng.next() * (c.vocabSize - 1));
        ids.push(t, t);
      }
      return { inputIds: Int32Array.from(ids), lossMask: Uint8Array.from(ids, (_, t) => t % 2) };
    };
    const evalSet = Array.from({ length: 8 }, example);
    const adapter = initAdapter(c, { r: 8, alpha: 16, dropout: 0.05, targetModules: [...LINEAR_MODULES] }, 63);
    const opt = new AdamW(adapter, { weightDecay: 0 });
    const dropout = new SeededRandom(64);
    const meanLoss = async (): Promise<number> => {
      const r = await model.loss(evalSet, adapter);
      return r.lossSum / r.targetTokens;
    };
    const initial = await meanLoss();
    const steps = 60;
    for (let s = 0; s < steps; s++) {
      const batch = Array.from({ length: 8 }, example);
      const r = await model.lossAndGrads(batch, adapter, { dropout });
      for (const g of r.grads.values()) {
        for (const arr of [g.A, g.B]) for (let i = 0; i < arr.length; i++) arr[i] = arr[i]! / r.targetTokens;
      }
      clipGradNorm(r.grads, 1);
      opt.step(r.grads, 2e-2 * linearSchedule(s, 5, steps));
    }
    const final = await meanLoss();
    expect(final).toBeLessThan(0.5 * initial);
  });
});

describe('aiduck runtime against onnxruntime on the same weights exported to ONNX', () => {
  it('gives the logits of the onnxruntime graph for the generated tiny-llama-chat folder, through the real loading code', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aiduck-llama-ref-'));
    try {
      await writeTestModels(dir);
      const folder = join(dir, 'tiny-llama-chat');
      const c = parseLlamaConfig(JSON.parse(readFileSync(join(folder, 'config.json'), 'utf8')));
      const weights = await loadFolderWeights(folder);
      const ids = Array.from({ length: 40 }, (_, i) => (i * 37 + 11) % c.vocabSize);
      const session = await InferenceSession.create(llamaReferenceOnnx(c, weights));
      const out = await session.run({ input_ids: new Tensor('int64', BigInt64Array.from(ids.map(BigInt)), [1, ids.length]) });
      const reference = out['logits']!.data as Float32Array;
      await session.release();
      const ours = await LlamaModel.create(c, weights).logits(ids);
      expect(ours.length).toBe(reference.length);
      let max = 0;
      for (let i = 0; i < ours.length; i++) max = Math.max(max, Math.abs(ours[i]! - reference[i]!));
      expect(max).toBeLessThan(1e-4);
      expect(Math.max(...reference.subarray(0, c.vocabSize)) - Math.min(...reference.subarray(0, c.vocabSize))).toBeGreaterThan(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
