// LoRA training and KV-cache generation on a SmolLM-135M-shaped Llama (seeded random weights, built in
// memory), as fractions of references measured in the same run:
//  - training: the float32 FLOPs a step really performs, per second, divided by the machine's
//    matrix-multiply peak (onnxruntime Gemm on 1024³ and 2048³, measured before and after the training
//    steps; the highest figure is the reference). Goal: >= 0.3.
//  - generation: decode tokens/s divided by the rate of the decode-step Gemms alone (every linear and
//    the LM head on 8 rows, the weights streamed once per step, through the same matmul backend).
// Run `npm run build` first (it imports dist/), or `npm run bench:train-lora`.
// Options: --quick (hidden 256, 8 layers: a sanity run), --batch N (sequences per step, default 1),
// --seq N (tokens per sequence, default 256), --steps N (timed steps, default 3).
// Nothing is written to disk; onnxruntime sessions are released at the end.
import { availableParallelism, loadavg } from 'node:os';
import { readFileSync } from 'node:fs';
import ort from 'onnxruntime-node';

const { LlamaModel } = await import('../dist/src/llm/llama-model.js');
const { initAdapter } = await import('../dist/src/llm/lora.js');
const { AdamW, clipGradNorm } = await import('../dist/src/llm/adamw.js');
const { gemm, disposeMatmul } = await import('../dist/src/llm/matmul.js');
const { LINEAR_MODULES, linearShape, modulePath, parseLlamaConfig } = await import('../dist/src/llm/llama-config.js');
const { generate } = await import('../dist/src/llm/generate.js');
const { SeededRandom } = await import('../dist/src/llm/seeded-random.js');
const { SMOLLM_135M, llamaWeights, trainChatBpe, llamaParameterCount } = await import('../dist/src/testmodels/index.js');
const { encodeModel, DataType } = await import('../dist/src/onnx/proto.js');

// ---- options ----------------------------------------------------------------------------------------
const argv = process.argv.slice(2);
const flag = (name) => argv.includes(name);
const intOption = (name, fallback) => {
  const i = argv.indexOf(name);
  if (i < 0) return fallback;
  const v = Number(argv[i + 1]);
  if (!Number.isInteger(v) || v <= 0) throw new Error(`${name} needs a positive integer`);
  return v;
};
const QUICK = flag('--quick');
const BATCH = intOption('--batch', 1);
const SEQ = intOption('--seq', 256);
const STEPS = intOption('--steps', 3);
const GEN_PROMPTS = 8;
const GEN_NEW_TOKENS = 64;
const GEN_ROUNDS = 2;
const PEAK_ROUNDS = 5;
const GOAL = 0.3;

const QUICK_SIZE = { ...SMOLLM_135M, hidden: 256, layers: 8, heads: 4, kvHeads: 2, headDim: 64, intermediate: 768, vocab: 8192 };
const size = QUICK ? QUICK_SIZE : SMOLLM_135M;
const sizeName = QUICK ? '--quick model' : 'SmolLM-135M shape';

// ---- the model --------------------------------------------------------------------------------------
const bpe = trainChatBpe(size.merges);
const vocab = size.vocab ?? bpe.vocab.length;
const config = parseLlamaConfig({
  architectures: ['LlamaForCausalLM'], model_type: 'llama', hidden_act: 'silu', hidden_size: size.hidden,
  intermediate_size: size.intermediate, num_hidden_layers: size.layers, num_attention_heads: size.heads,
  num_key_value_heads: size.kvHeads, head_dim: size.headDim, max_position_embeddings: size.maxPositions,
  rms_norm_eps: 1e-5, rope_theta: size.ropeTheta, tie_word_embeddings: size.tiedEmbeddings, vocab_size: vocab,
});
if (SEQ > config.maxPositionEmbeddings) throw new Error(`--seq ${SEQ} exceeds the model's ${config.maxPositionEmbeddings} positions`);
const weights = llamaWeights(size, bpe);
const params = llamaParameterCount(size, vocab);
const model = LlamaModel.create(config, weights);

// ---- FLOPs a training step performs (mirrors LlamaModel.lossAndGrads, linear.ts and attention.ts) ------
/** Attention probabilities are kept for backward up to this many floats, else recomputed (llama-model.ts). */
const KEPT_PROBS_FLOATS = 64 * 1024 * 1024;
const ATTN = ['q_proj', 'k_proj', 'v_proj', 'o_proj'];

function stepFlops(c, lengths, spec) {
  const T = lengths.reduce((a, b) => a + b, 0);
  const targets = lengths.reduce((a, n) => a + n - 1, 0);
  const adapted = (m) => spec.targetModules.includes(m);
  const r = spec.r;
  const f = { linearFwd: 0, linearBwd: 0, head: 0, attention: 0, lora: 0 };
  // One n×n×d product per query head and sequence (QKᵀ, PV, and each backward product), full n², not causal.
  const attnProduct = lengths.reduce((a, n) => a + 2 * c.numHeads * n * n * c.headDim, 0);
  const lowest = LINEAR_MODULES.some(adapted) ? 0 : Infinity;
  const probFloats = (c.numLayers - lowest) * c.numHeads * lengths.reduce((a, n) => a + n * n, 0);
  const keepProbs = probFloats <= KEPT_PROBS_FLOATS;
  for (let l = 0; l < c.numLayers; l++) {
    for (const m of LINEAR_MODULES) {
      const [o, i] = linearShape(c, m);
      f.linearFwd += 2 * T * i * o;
      if (adapted(m)) f.lora += 2 * T * r * (i + o); // xd·Aᵀ, us·Bᵀ
    }
    f.attention += 2 * attnProduct; // QKᵀ, PV
  }
  f.head += 2 * targets * c.hiddenSize * c.vocabSize; // logits of the scored rows
  if (!Number.isFinite(lowest) || targets === 0) return { ...f, total: sum(f), keepProbs, T, targets };
  f.head += 2 * targets * c.vocabSize * c.hiddenSize; // dHidden = dLogits · W_head
  const back = (m, wantDx) => {
    const [o, i] = linearShape(c, m);
    if (wantDx) f.linearBwd += 2 * T * o * i; // dx = dy · W
    if (adapted(m)) f.lora += 2 * T * r * (2 * o + i) + (wantDx ? 2 * T * r * i : 0); // dB, du, dA (+ du·A)
  };
  for (let l = c.numLayers - 1; l >= lowest; l--) {
    const needDx = l > lowest;
    const needAttention = needDx || ATTN.some(adapted);
    const needGateUp = needAttention || adapted('gate_proj') || adapted('up_proj');
    back('down_proj', needGateUp);
    if (!needGateUp) break;
    back('gate_proj', needAttention);
    back('up_proj', needAttention);
    if (!needAttention) break;
    const needQkv = needDx || adapted('q_proj') || adapted('k_proj') || adapted('v_proj');
    back('o_proj', needQkv);
    if (!needQkv) break;
    f.attention += (keepProbs ? 4 : 5) * attnProduct; // dP, dV, dQ, dK (+ QKᵀ recomputed)
    for (const m of ['q_proj', 'k_proj', 'v_proj']) back(m, needDx);
    if (!needDx) break;
  }
  return { ...f, total: sum(f), keepProbs, T, targets };
}
function sum(f) {
  return f.linearFwd + f.linearBwd + f.head + f.attention + f.lora;
}

// ---- matrix-multiply peak -----------------------------------------------------------------------------
const fill = (n, seed) => {
  const rng = new SeededRandom(seed);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.next() - 0.5;
  return a;
};
const PEAK_SIZES = [1024, 2048];
const peakOperands = new Map(PEAK_SIZES.map((n) => [n, [fill(n * n, n), fill(n * n, n + 1), new Float32Array(n * n)]]));

/** Best GFLOP/s of `run` (one n³ product) over PEAK_ROUNDS rounds of a few products. */
async function bestRate(n, run) {
  const reps = n >= 2048 ? 3 : 10;
  await run();
  let best = 0;
  for (let round = 0; round < PEAK_ROUNDS; round++) {
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) await run();
    best = Math.max(best, (2 * n ** 3 * reps) / ((performance.now() - t0) / 1000) / 1e9);
  }
  return best;
}

/**
 * Two backends: a one-node Gemm graph in an onnxruntime session with its default options (all cores,
 * spinning intra-op threads: the machine's best), and aiduck's matmul.js gemm (the sessions training
 * uses: intra-op threads = cores, idle threads sleep).
 */
async function measurePeak() {
  const out = {};
  const value = (name) => ({ name, elemType: DataType.FLOAT, shape: [`${name}0`, `${name}1`] });
  const graph = encodeModel({ graph: { name: 'peak', initializers: [], nodes: [{ opType: 'Gemm', name: 'gemm', inputs: ['A', 'B'], outputs: ['Y'] }], inputs: [value('A'), value('B')], outputs: [value('Y')] } });
  const session = await ort.InferenceSession.create(graph);
  try {
    for (const n of PEAK_SIZES) {
      const [a, b, y] = peakOperands.get(n);
      const feeds = { A: new ort.Tensor('float32', a, [n, n]), B: new ort.Tensor('float32', b, [n, n]) };
      const fetches = { Y: new ort.Tensor('float32', y, [n, n]) };
      out[`onnxruntime default session, ${n}³`] = await bestRate(n, () => session.run(feeds, fetches));
    }
  } finally {
    await session.release();
  }
  for (const n of PEAK_SIZES) {
    const [a, b, y] = peakOperands.get(n);
    out[`aiduck matmul.js gemm, ${n}³`] = await bestRate(n, () => gemm(a, b, n, n, n, { out: y }));
  }
  return out;
}

// ---- training ---------------------------------------------------------------------------------------
const CONFIGS = [
  { label: 'r=8 q_proj,v_proj', spec: { r: 8, alpha: 16, dropout: 0.05, targetModules: ['q_proj', 'v_proj'] } },
  { label: 'r=16 all-linear', spec: { r: 16, alpha: 32, dropout: 0.05, targetModules: [...LINEAR_MODULES] } },
];

function trainBatch(seed) {
  const rng = new SeededRandom(seed);
  return Array.from({ length: BATCH }, () => {
    const inputIds = Int32Array.from({ length: SEQ }, () => Math.floor(rng.next() * bpe.vocab.length));
    return { inputIds, lossMask: new Uint8Array(SEQ).fill(1) };
  });
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * For each configuration a warm-up step, then STEPS optimizer steps, each timed as lossAndGrads +
 * (scale, clip, AdamW). The configurations take turns step by step, so load from other processes weighs
 * on both alike.
 */
async function timeTraining(configs) {
  const runs = configs.map(({ spec }, index) => {
    const adapter = initAdapter(config, spec, 1 + index);
    return {
      adapter,
      optimizer: new AdamW(adapter, { learningRate: 2e-4, weightDecay: 0 }),
      dropout: new SeededRandom(100 + index),
      grad: [],
      full: [],
      loss: NaN,
      adapterParams: [...adapter.modules.values()].reduce((a, p) => a + p.A.data.length + p.B.data.length, 0),
    };
  });
  const optimizerStep = (run, r) => {
    for (const g of r.grads.values()) {
      for (const arr of [g.A, g.B]) for (let i = 0; i < arr.length; i++) arr[i] /= r.targetTokens;
    }
    clipGradNorm(r.grads, 1);
    run.optimizer.step(r.grads);
  };
  for (const run of runs) optimizerStep(run, await model.lossAndGrads(trainBatch(1000), run.adapter, { dropout: run.dropout })); // warm-up
  for (let s = 0; s < STEPS; s++) {
    const batch = trainBatch(1001 + s);
    for (const run of runs) {
      const t0 = performance.now();
      const r = await model.lossAndGrads(batch, run.adapter, { dropout: run.dropout });
      const t1 = performance.now();
      optimizerStep(run, r);
      const t2 = performance.now();
      run.grad.push((t1 - t0) / 1000);
      run.full.push((t2 - t0) / 1000);
      run.loss = r.lossSum / r.targetTokens;
    }
  }
  return runs;
}

// ---- generation -------------------------------------------------------------------------------------
/** One decode step's Gemms alone: 8 rows through every linear of every layer and the LM head, as the model runs them. */
async function decodeGemmPass(x, outs) {
  const c = config;
  for (let l = 0; l < c.numLayers; l++) {
    for (const m of LINEAR_MODULES) {
      const [o, i] = linearShape(c, m);
      await gemm(x.subarray(0, GEN_PROMPTS * i), weights.get(`${modulePath(l, m)}.weight`).data, GEN_PROMPTS, i, o, { transB: true, out: outs.get(o) });
    }
  }
  const head = weights.get(c.tieWordEmbeddings ? 'model.embed_tokens.weight' : 'lm_head.weight').data;
  await gemm(x.subarray(0, GEN_PROMPTS * c.hiddenSize), head, GEN_PROMPTS, c.hiddenSize, c.vocabSize, { transB: true, out: outs.get(c.vocabSize) });
}

async function measureDecodeReference() {
  const c = config;
  const widest = Math.max(c.hiddenSize, c.intermediateSize, c.numHeads * c.headDim);
  const x = fill(GEN_PROMPTS * widest, 7);
  const outs = new Map();
  for (const m of LINEAR_MODULES) {
    const o = linearShape(c, m)[0];
    if (!outs.has(o)) outs.set(o, new Float32Array(GEN_PROMPTS * o));
  }
  outs.set(c.vocabSize, new Float32Array(GEN_PROMPTS * c.vocabSize));
  await decodeGemmPass(x, outs);
  let best = Infinity;
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    await decodeGemmPass(x, outs);
    best = Math.min(best, (performance.now() - t0) / 1000);
  }
  return best;
}

function genPrompts() {
  const rng = new SeededRandom(4242);
  return Array.from({ length: GEN_PROMPTS }, (_, p) => Array.from({ length: 32 + 4 * p }, () => Math.floor(rng.next() * bpe.vocab.length)));
}

/**
 * Best of GEN_ROUNDS, per adapter (undefined: the base model): the whole generate() call, and the same
 * with 1 new token (prefill and first logits only). The variants take turns round by round.
 */
async function timeGeneration(adapters) {
  const prompts = genPrompts();
  const options = (n) => ({ maxNewTokens: n, eosTokenIds: [] });
  const out = adapters.map(() => ({ whole: Infinity, prefill: Infinity, produced: 0, promptTokens: prompts.reduce((a, p) => a + p.length, 0) }));
  for (const adapter of adapters) await generate(model, prompts, options(2), adapter); // warm-up
  for (let round = 0; round < GEN_ROUNDS; round++) {
    for (const [i, adapter] of adapters.entries()) {
      let t0 = performance.now();
      await generate(model, prompts, options(1), adapter);
      out[i].prefill = Math.min(out[i].prefill, (performance.now() - t0) / 1000);
      t0 = performance.now();
      const tokens = await generate(model, prompts, options(GEN_NEW_TOKENS), adapter);
      out[i].whole = Math.min(out[i].whole, (performance.now() - t0) / 1000);
      out[i].produced = tokens.reduce((a, o) => a + o.length, 0);
    }
  }
  return out;
}

// ---- run --------------------------------------------------------------------------------------------
const G = (x) => (x / 1e9).toFixed(1);
const load = () => loadavg()[0].toFixed(2);
const ortVersion = JSON.parse(readFileSync(new URL('../node_modules/onnxruntime-node/package.json', import.meta.url), 'utf8')).version;
const loadBefore = load();

try {
  console.log(`aiduck LoRA training and generation — ${availableParallelism()} cores, Node ${process.version}, onnxruntime-node ${ortVersion}, load average ${loadBefore} before`);
  console.log(`model: ${sizeName} (hidden ${config.hiddenSize}, ${config.numLayers} layers, ${config.numHeads} heads / ${config.numKvHeads} kv heads × ${config.headDim}, ` +
    `intermediate ${config.intermediateSize}, vocab ${config.vocabSize}, ${config.tieWordEmbeddings ? 'tied' : 'untied'} embeddings), ` +
    `${(params / 1e6).toFixed(1)}M parameters, seeded random float32 weights`);
  console.log(`training step: batch ${BATCH} × ${SEQ} tokens, every next token scored, LoRA dropout 0.05, ${STEPS} timed step${STEPS === 1 ? '' : 's'} after a warm-up step\n`);

  const peakBefore = await measurePeak();
  const results = (await timeTraining(CONFIGS)).map((run, i) => ({ cfg: CONFIGS[i], ...run, flops: stepFlops(config, Array(BATCH).fill(SEQ), CONFIGS[i].spec) }));
  const peakAfter = await measurePeak();
  const peak = Math.max(...Object.values(peakBefore), ...Object.values(peakAfter)) * 1e9;

  console.log(`${`matrix-multiply peak, float32 Gemm, best of ${PEAK_ROUNDS}`.padEnd(48)} ${'before training'.padStart(17)} ${'after training'.padStart(17)}`);
  for (const k of Object.keys(peakBefore)) {
    console.log(`${k.padEnd(48)} ${peakBefore[k].toFixed(1).padStart(9)} GFLOP/s ${peakAfter[k].toFixed(1).padStart(9)} GFLOP/s`);
  }
  console.log(`reference peak (the highest of the above): ${G(peak)} GFLOP/s\n`);

  console.log(`${`LoRA training (median of ${STEPS} step${STEPS === 1 ? '' : 's'}; range)`.padEnd(52)} FLOPs/step   s/step                 tokens/s   GFLOP/s   /peak   goal >= ${GOAL}`);
  for (const r of results) {
    const { total, T } = r.flops;
    const g = median(r.grad);
    const f = median(r.full);
    const range = (xs) => `(${Math.min(...xs).toFixed(3)}–${Math.max(...xs).toFixed(3)})`;
    const row = (label, s, xs) =>
      `${label.padEnd(52)} ${(G(total) + ' G').padStart(10)}   ${s.toFixed(3)} ${range(xs).padEnd(15)} ${(T / s).toFixed(1).padStart(9)} ${G(total / s).padStart(9)}   ${(total / s / peak).toFixed(3)}   ${total / s / peak >= GOAL ? 'met' : 'not met'}`;
    console.log(row(`${r.cfg.label}: lossAndGrads`, g, r.grad));
    console.log(row(`${r.cfg.label}: full optimizer step (+ AdamW)`, f, r.full));
    const opt = r.full.map((x, i) => x - r.grad[i]);
    console.log(`  optimizer alone (scale, clip, AdamW over ${(r.adapterParams / 1e6).toFixed(2)}M adapter values): ${(median(opt) * 1000).toFixed(1)} ms = ${(100 * median(opt) / f).toFixed(2)} % of the step; loss/token ${r.loss.toFixed(3)}`);
    const b = r.flops;
    console.log(`  FLOPs counted: linears forward ${G(b.linearFwd)} G, input gradients ${G(b.linearBwd)} G, LM head fwd+bwd ${G(b.head)} G, ` +
      `attention (full n², fwd+bwd${b.keepProbs ? '' : ' + recomputed QKᵀ'}) ${G(b.attention)} G, LoRA ${G(b.lora)} G`);
  }
  const T = BATCH * SEQ;
  const sixNT = 6 * params * T;
  console.log(`for context only, "model FLOPs" 6·N·T = 6 × ${(params / 1e6).toFixed(1)}M parameters × ${T} tokens = ${G(sixNT)} G per step ` +
    `(the full-fine-tuning convention: it counts weight gradients LoRA never computes, and no attention); per lossAndGrads step that is ` +
    results.map((r) => `${G(sixNT / median(r.grad))} GFLOP/s = ${(sixNT / median(r.grad) / peak).toFixed(3)} of peak (${r.cfg.label})`).join(', ') + '\n');

  // Generation: the decode-step Gemm reference is measured before and after the generate() runs; the faster is kept.
  const refBefore = await measureDecodeReference();
  const [base, withAdapter] = await timeGeneration([undefined, results[0].adapter]);
  const refAfter = await measureDecodeReference();
  const ref = Math.min(refBefore, refAfter);
  const refRate = GEN_PROMPTS / ref;
  const streamed = (params - (config.tieWordEmbeddings ? 0 : config.vocabSize * config.hiddenSize)) * 4; // embeddings are looked up, not streamed, when untied
  console.log(`generation: ${GEN_PROMPTS} prompts of ${genPrompts().map((p) => p.length).join(',')} tokens × ${GEN_NEW_TOKENS} new tokens, greedy, KV cache, best of ${GEN_ROUNDS} rounds (base and adapter taking turns)`);
  console.log(`reference: one decode step's Gemms alone (${GEN_PROMPTS} rows through every linear and the LM head, ${(streamed / 1e6).toFixed(0)} MB of weights read once): ` +
    `${(refBefore * 1000).toFixed(1)} ms before, ${(refAfter * 1000).toFixed(1)} ms after → ${refRate.toFixed(1)} tokens/s (${(streamed / ref / 1e9).toFixed(1)} GB/s)`);
  console.log(`measurement                                                 time    tokens/s   /reference`);
  for (const [label, g] of [['base model', base], ['r=8 q_proj,v_proj adapter, unmerged', withAdapter]]) {
    const decodeTokens = g.produced - GEN_PROMPTS;
    const decode = g.whole - g.prefill;
    console.log(`${`${label}: whole generate()`.padEnd(56)} ${g.whole.toFixed(2).padStart(7)} s ${(g.produced / g.whole).toFixed(1).padStart(10)}   ${(g.produced / g.whole / refRate).toFixed(3)}`);
    console.log(`${'  decode steps only (minus the 1-token call)'.padEnd(56)} ${decode.toFixed(2).padStart(7)} s ${(decodeTokens / decode).toFixed(1).padStart(10)}   ${(decodeTokens / decode / refRate).toFixed(3)}`);
    console.log(`${`  prefill + first token (${g.promptTokens} prompt tokens)`.padEnd(56)} ${g.prefill.toFixed(2).padStart(7)} s`);
  }
  console.log(`\nload average ${loadBefore} before, ${load()} after`);
} finally {
  await disposeMatmul();
}
