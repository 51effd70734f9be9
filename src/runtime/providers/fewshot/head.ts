import type { ModelSpec } from '../../provider.js';

/** A classification head over a registered embedding model, as fit_classifier stores it (head.json). */
export interface Head {
  /** The embedding model version the head was fitted on, or whose body was fine-tuned (SetFit). */
  embedding: ModelSpec;
  /** With a fine-tuned body: its folder, relative to the head's; the head reads the vectors it makes. */
  body?: string;
  labels: string[];
  /** weights[c][d] for class c and dimension d. */
  weights: number[][];
  bias: number[];
}

/** Class probabilities of one vector. */
export function predict(head: Head, v: Float32Array): number[] {
  const logits = head.labels.map((_, c) => {
    let z = head.bias[c]!;
    const w = head.weights[c]!;
    for (let d = 0; d < v.length; d++) z += w[d]! * v[d]!;
    return z;
  });
  const m = Math.max(...logits);
  const e = logits.map((z) => Math.exp(z - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / s);
}

/**
 * Fits a multinomial logistic regression (softmax) head by full-batch gradient descent with L2
 * regularisation: small, deterministic, and enough on good sentence embeddings (SetFit's second stage;
 * the first, fine-tuning the body, is body-training.ts).
 */
export function fitHead(embedding: ModelSpec, xs: Float32Array[], ys: number[], labels: string[], epochs: number, l2 = 1e-3, rate = 1): Head {
  const dim = xs[0]?.length ?? 0;
  const weights = labels.map(() => new Array<number>(dim).fill(0));
  const bias = labels.map(() => 0);
  const n = xs.length;
  for (let epoch = 0; epoch < epochs; epoch++) {
    const gw = labels.map(() => new Array<number>(dim).fill(0));
    const gb = labels.map(() => 0);
    xs.forEach((x, i) => {
      const p = predict({ embedding, labels, weights, bias }, x);
      p.forEach((pc, c) => {
        const err = pc - (ys[i] === c ? 1 : 0);
        gb[c]! += err;
        const g = gw[c]!;
        for (let d = 0; d < dim; d++) g[d]! += err * x[d]!;
      });
    });
    labels.forEach((_, c) => {
      bias[c]! -= (rate * gb[c]!) / n;
      const w = weights[c]!;
      const g = gw[c]!;
      for (let d = 0; d < dim; d++) w[d]! -= rate * (g[d]! / n + l2 * w[d]!);
    });
  }
  return { embedding, labels, weights, bias };
}

/** Accuracy and macro-averaged F1 of predicted against true class indices. */
export function scores(truth: number[], predicted: number[], classes: number): { accuracy: number; macroF1: number } {
  const accuracy = truth.length ? truth.filter((t, i) => t === predicted[i]).length / truth.length : 0;
  const f1s: number[] = [];
  for (let c = 0; c < classes; c++) {
    const tp = truth.filter((t, i) => t === c && predicted[i] === c).length;
    const fp = truth.filter((t, i) => t !== c && predicted[i] === c).length;
    const fn = truth.filter((t, i) => t === c && predicted[i] !== c).length;
    if (tp + fp + fn === 0) continue; // a class absent from the held-out split and never predicted
    f1s.push((2 * tp) / (2 * tp + fp + fn));
  }
  return { accuracy, macroF1: f1s.length ? f1s.reduce((a, b) => a + b, 0) / f1s.length : 0 };
}
