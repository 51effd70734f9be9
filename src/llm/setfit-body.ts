/**
 * SetFit's first stage: contrastive fine-tuning of the sentence-transformer body on pairs built from
 * the labelled examples. As SetFit does with `num_iterations`, each iteration gives every example one
 * positive pair (a random example of its label, itself possible) and one negative pair (a random
 * example of another label), labelled 1 and 0. The body learns with sentence-transformers'
 * CosineSimilarityLoss: the mean of (cos(u, v) − label)² over a batch of pairs, u and v the pooled
 * token states of the two sentences (pooled as the embedding model's folder says: mean, cls, max, ...;
 * its normalisation does not change a cosine). AdamW (weight decay 0.01 except biases and LayerNorm),
 * linear warmup over 10% of the steps then linear decay, gradients clipped to norm 1 (as
 * sentence-transformers' fit). The same seed and data give the same body, bit for bit.
 */
import { SqlError } from '../errors/sql-error.js';
import { clipTensorGradNorm, linearSchedule, TensorAdamW } from './adamw.js';
import type { BertEncoder } from './bert-model.js';
import { SeededRandom } from './seeded-random.js';
import { DEFAULT_SENTENCE_EMBEDDING, type PoolingMode, type SentenceEmbedding } from './sentence-embedding.js';
import { embedSpans, poolSpans, poolSpansBackward } from './sentence-pooling.js';

export interface Pair {
  a: number;
  b: number;
  /** 1 for the same label, 0 for different ones. */
  label: number;
}

/** SetFit's pairs: per iteration, one positive and one negative pair for every example, in example order. */
export function generatePairs(labels: readonly number[], iterations: number, rng: SeededRandom): Pair[] {
  const byLabel = new Map<number, number[]>();
  labels.forEach((l, i) => byLabel.set(l, [...(byLabel.get(l) ?? []), i]));
  if (byLabel.size < 2) throw new SqlError('22023', 'contrastive pairs need examples of at least two labels');
  const pick = (xs: readonly number[]): number => xs[Math.floor(rng.next() * xs.length)]!;
  const others = new Map([...byLabel.keys()].map((l) => [l, labels.map((_, i) => i).filter((i) => labels[i] !== l)]));
  const pairs: Pair[] = [];
  for (let it = 0; it < iterations; it++) {
    labels.forEach((l, i) => {
      pairs.push({ a: i, b: pick(byLabel.get(l)!), label: 1 });
      pairs.push({ a: i, b: pick(others.get(l)!), label: 0 });
    });
  }
  return pairs;
}

export interface BodyTrainingParameters {
  iterations: number;
  epochs: number;
  batchSize: number;
  learningRate: number;
  seed: number;
}

export interface BodyStep {
  epoch: number;
  step: number;
  totalSteps: number;
  loss: number;
  /** Pairs in this step's batch. */
  examples: number;
}

export interface BodyTrainingResult {
  pairs: number;
  steps: number;
  /** Mean loss over each epoch's pairs. */
  epochLosses: number[];
}

/** The cosine-similarity loss of a batch and its gradient with respect to the pooled vectors. */
export function cosineLoss(pooled: Float32Array, H: number, pairs: readonly { a: number; b: number; label: number }[]): { loss: number; dPooled: Float32Array } {
  const dPooled = new Float32Array(pooled.length);
  let loss = 0;
  const n = pairs.length;
  for (const { a, b, label } of pairs) {
    let dot = 0;
    let na = 0;
    let nb = 0;
    for (let h = 0; h < H; h++) {
      const x = pooled[a * H + h]!;
      const y = pooled[b * H + h]!;
      dot += x * y;
      na += x * x;
      nb += y * y;
    }
    const la = Math.sqrt(na);
    const lb = Math.sqrt(nb);
    const cos = dot / (la * lb);
    const diff = cos - label;
    loss += (diff * diff) / n;
    const dCos = (2 * diff) / n;
    // d cos / d u = v / (|u||v|) − cos · u / |u|²
    for (let h = 0; h < H; h++) {
      const x = pooled[a * H + h]!;
      const y = pooled[b * H + h]!;
      dPooled[a * H + h] = dPooled[a * H + h]! + dCos * (y / (la * lb) - (cos * x) / (la * la));
      dPooled[b * H + h] = dPooled[b * H + h]! + dCos * (x / (la * lb) - (cos * y) / (lb * lb));
    }
  }
  return { loss, dPooled };
}

/** One batch: the loss of its pairs and the gradient of every weight. */
export async function pairBatchGradients(encoder: BertEncoder, sentences: readonly Int32Array[], batch: readonly Pair[],
  pooling: readonly PoolingMode[] = ['mean']): Promise<{ loss: number; grads: Map<string, Float32Array> }> {
  // Each distinct sentence of the batch is encoded once; its gradient sums over the pairs it is in.
  const slot = new Map<number, number>();
  const seqs: Int32Array[] = [];
  for (const { a, b } of batch) {
    for (const i of [a, b]) {
      if (!slot.has(i)) {
        slot.set(i, seqs.length);
        seqs.push(sentences[i]!);
      }
    }
  }
  const H = encoder.config.hiddenSize;
  const { hidden, spans, tape } = await encoder.forward(seqs, true);
  const pooled = poolSpans(hidden, spans, H, pooling);
  const { loss, dPooled } = cosineLoss(pooled, pooling.length * H, batch.map((p) => ({ a: slot.get(p.a)!, b: slot.get(p.b)!, label: p.label })));
  const grads = await encoder.backward(tape!, poolSpansBackward(dPooled, hidden, spans, H, hidden.length / H, pooling));
  return { loss, grads };
}

const noDecay = (name: string): boolean => name.endsWith('.bias') || name.includes('LayerNorm');

/** Fine-tunes the encoder in place on the pairs of the labelled sentences. */
export async function trainBody(encoder: BertEncoder, sentences: readonly Int32Array[], labels: readonly number[], p: BodyTrainingParameters,
  hooks: { onStep(s: BodyStep): void; isCancelled(): boolean }, pooling: readonly PoolingMode[] = ['mean']): Promise<BodyTrainingResult> {
  const rng = new SeededRandom(p.seed);
  const pairs = generatePairs(labels, p.iterations, rng);
  const params = new Map([...encoder.weights].map(([name, t]) => [name, t.data]));
  const optimizer = new TensorAdamW(params, { weightDecay: 0.01, decays: (name) => !noDecay(name) });
  const perEpoch = Math.ceil(pairs.length / p.batchSize);
  const totalSteps = perEpoch * p.epochs;
  const warmup = Math.ceil(0.1 * totalSteps);
  const epochLosses: number[] = [];
  let step = 0;
  for (let epoch = 1; epoch <= p.epochs; epoch++) {
    const order = rng.permutation(pairs.length);
    let epochLoss = 0;
    for (let s = 0; s < perEpoch; s++) {
      if (hooks.isCancelled()) throw new SqlError('57014', 'canceling statement due to user request');
      const batch = order.slice(s * p.batchSize, (s + 1) * p.batchSize).map((i) => pairs[i]!);
      const { loss, grads } = await pairBatchGradients(encoder, sentences, batch, pooling);
      const norm = clipTensorGradNorm(grads, 1);
      if (!Number.isFinite(loss) || !Number.isFinite(norm)) {
        throw new SqlError('22003', `body fine-tuning diverged at step ${step + 1}`, 'lower body_learning_rate');
      }
      optimizer.step(grads, linearSchedule(step, warmup, totalSteps) * p.learningRate);
      step++;
      epochLoss += loss * batch.length;
      hooks.onStep({ epoch, step, totalSteps, loss, examples: batch.length });
    }
    epochLosses.push(epochLoss / pairs.length);
  }
  return { pairs: pairs.length, steps: step, epochLosses };
}

/** Sentence vectors as ai_embed computes them with the folder's pooling (mean and L2-normalised by default), `chunk` sentences per pass. */
export async function embedSentences(encoder: BertEncoder, sentences: readonly Int32Array[],
  embedding: Pick<SentenceEmbedding, 'pooling' | 'normalize'> = DEFAULT_SENTENCE_EMBEDDING, chunk = 64): Promise<Float32Array[]> {
  const H = encoder.config.hiddenSize;
  const out: Float32Array[] = [];
  for (let i = 0; i < sentences.length; i += chunk) {
    const { hidden, spans } = await encoder.forward(sentences.slice(i, i + chunk), false);
    out.push(...embedSpans(hidden, spans, H, embedding));
  }
  return out;
}
