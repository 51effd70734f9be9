/**
 * The LoRA training loop: seeded shuffling, micro-batches with gradient accumulation, gradient
 * clipping, AdamW with linear warmup and decay, an evaluation pass per epoch. The same seed and data
 * give the same adapter, bit for bit.
 */
import type { LlamaModel } from './llama-model.js';
import { initAdapter } from './lora.js';
import { AdamW, clipGradNorm, linearSchedule } from './adamw.js';
import type { LoraAdapter, LoraSpec } from './lora-types.js';
import type { TokenizedExample } from './training-data.js';
import { SeededRandom } from './seeded-random.js';
import { SqlError } from '../errors/sql-error.js';

export interface TrainParameters {
  lora: LoraSpec;
  epochs: number;
  learningRate: number;
  batchSize: number;
  gradientAccumulationSteps: number;
  /** Steps of linear warmup; when null, `warmupRatio` of all steps (rounded up). */
  warmupSteps: number | null;
  warmupRatio: number;
  weightDecay: number;
  maxGradNorm: number;
  seed: number;
}

export interface EpochMetrics {
  epoch: number;
  /** Optimizer steps taken so far. */
  steps: number;
  /** Mean cross-entropy per target token over the epoch's batches. */
  trainLoss: number;
  evalLoss: number | null;
  tokensPerSecond: number;
  elapsedSeconds: number;
}

export interface StepReport {
  epoch: number;
  step: number;
  totalSteps: number;
  loss: number;
  learningRate: number;
  tokens: number;
  examples: number;
}

export interface TrainHooks {
  onStep(s: StepReport): void;
  onEpoch(m: EpochMetrics): void;
  isCancelled(): boolean;
}

export class TrainingCancelled extends Error {
  constructor() {
    super('training was cancelled');
  }
}

/** Optimizer steps per epoch: every micro-batch of `batchSize` examples, `gradientAccumulationSteps` per step. */
export function stepsPerEpoch(examples: number, p: Pick<TrainParameters, 'batchSize' | 'gradientAccumulationSteps'>): number {
  return Math.ceil(Math.ceil(examples / p.batchSize) / p.gradientAccumulationSteps);
}

/** Mean loss per target token of `examples` (no dropout, no gradients). */
export async function evaluate(model: LlamaModel, adapter: LoraAdapter, examples: TokenizedExample[], batchSize: number, isCancelled: () => boolean): Promise<number | null> {
  let loss = 0;
  let tokens = 0;
  for (let i = 0; i < examples.length; i += batchSize) {
    if (isCancelled()) throw new TrainingCancelled();
    const r = await model.loss(examples.slice(i, i + batchSize), adapter);
    loss += r.lossSum;
    tokens += r.targetTokens;
  }
  return tokens > 0 ? loss / tokens : null;
}

export async function train(model: LlamaModel, trainSet: TokenizedExample[], evalSet: TokenizedExample[], p: TrainParameters, hooks: TrainHooks): Promise<{ adapter: LoraAdapter; epochs: EpochMetrics[] }> {
  const adapter = initAdapter(model.config, p.lora, p.seed);
  const optimizer = new AdamW(adapter, { learningRate: p.learningRate, weightDecay: p.weightDecay });
  const perEpoch = stepsPerEpoch(trainSet.length, p);
  const totalSteps = perEpoch * p.epochs;
  const warmup = p.warmupSteps ?? Math.ceil(p.warmupRatio * totalSteps);
  const order = new SeededRandom(p.seed);
  const dropout = new SeededRandom(p.seed ^ 0x5bd1e995);
  const started = performance.now();
  const epochs: EpochMetrics[] = [];
  let step = 0;
  for (let epoch = 1; epoch <= p.epochs; epoch++) {
    const epochStart = performance.now();
    const indices = order.permutation(trainSet.length);
    let epochLoss = 0;
    let epochTargets = 0;
    let epochTokens = 0;
    for (let s = 0; s < perEpoch; s++) {
      const first = s * p.batchSize * p.gradientAccumulationSteps;
      const groupIndices = indices.slice(first, first + p.batchSize * p.gradientAccumulationSteps);
      let lossSum = 0;
      let targets = 0;
      let tokens = 0;
      let grads: Map<string, { A: Float32Array; B: Float32Array }> | null = null;
      for (let m = 0; m < groupIndices.length; m += p.batchSize) {
        if (hooks.isCancelled()) throw new TrainingCancelled();
        const batch = groupIndices.slice(m, m + p.batchSize).map((i) => trainSet[i]!);
        const r = await model.lossAndGrads(batch, adapter, { dropout });
        lossSum += r.lossSum;
        targets += r.targetTokens;
        tokens += batch.reduce((n, e) => n + e.inputIds.length, 0);
        grads = grads ? addInto(grads, r.grads) : r.grads;
      }
      // The loss is the mean over every target token of the accumulated micro-batches.
      if (grads && targets > 0) {
        scale(grads, 1 / targets);
        const norm = clipGradNorm(grads, p.maxGradNorm);
        if (!Number.isFinite(norm) || !Number.isFinite(lossSum)) {
          throw new SqlError('22003', `training diverged at step ${step + 1}: the ${Number.isFinite(lossSum) ? 'gradients are' : 'loss is'} not finite`,
            'lower learning_rate or lora_alpha, or keep max_grad_norm small');
        }
        const lr = linearSchedule(step, warmup, totalSteps) * p.learningRate;
        optimizer.step(grads, lr);
        step++;
        hooks.onStep({ epoch, step, totalSteps, loss: lossSum / targets, learningRate: lr, tokens, examples: groupIndices.length });
      }
      epochLoss += lossSum;
      epochTargets += targets;
      epochTokens += tokens;
    }
    const trainSeconds = (performance.now() - epochStart) / 1000;
    const evalLoss = evalSet.length ? await evaluate(model, adapter, evalSet, p.batchSize, hooks.isCancelled) : null;
    const metrics: EpochMetrics = {
      epoch,
      steps: step,
      trainLoss: epochTargets > 0 ? epochLoss / epochTargets : NaN,
      evalLoss,
      tokensPerSecond: epochTokens / Math.max(trainSeconds, 1e-9),
      elapsedSeconds: (performance.now() - started) / 1000,
    };
    epochs.push(metrics);
    hooks.onEpoch(metrics);
  }
  await checkOutputs(model, adapter, trainSet[0]!);
  return { adapter, epochs };
}

/**
 * Saturated activations can keep the loss and gradients finite while the model is broken (values
 * past float32's range normalise to zero, and every token then scores the same): look at its outputs.
 */
async function checkOutputs(model: LlamaModel, adapter: LoraAdapter, example: TokenizedExample): Promise<void> {
  const logits = await model.logits(example.inputIds, adapter);
  const V = model.config.vocabSize;
  for (let row = 0; row < example.inputIds.length; row++) {
    const scores = logits.subarray(row * V, (row + 1) * V);
    let min = Infinity;
    let max = -Infinity;
    for (const x of scores) {
      if (!Number.isFinite(x)) min = NaN;
      if (x < min) min = x;
      if (x > max) max = x;
    }
    if (!(max > min)) {
      throw new SqlError('22003', 'training diverged: the trained model\'s outputs are no longer numbers it can choose a token from', 'lower learning_rate or lora_alpha');
    }
  }
}

function addInto(into: Map<string, { A: Float32Array; B: Float32Array }>, more: Map<string, { A: Float32Array; B: Float32Array }>): Map<string, { A: Float32Array; B: Float32Array }> {
  for (const [k, g] of more) {
    const t = into.get(k)!;
    for (let i = 0; i < g.A.length; i++) t.A[i]! += g.A[i]!;
    for (let i = 0; i < g.B.length; i++) t.B[i]! += g.B[i]!;
  }
  return into;
}

function scale(grads: Map<string, { A: Float32Array; B: Float32Array }>, factor: number): void {
  for (const g of grads.values()) {
    for (let i = 0; i < g.A.length; i++) g.A[i]! *= factor;
    for (let i = 0; i < g.B.length; i++) g.B[i]! *= factor;
  }
}
