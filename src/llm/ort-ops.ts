/**
 * The elementwise and row-wise steps of a training step that are too slow as JavaScript loops (each
 * costs an exp per element): SiLU-gated product and its gradient, causal softmax and its gradient,
 * the LM head's softmax. Each is a small onnxruntime graph run on caller buffers, where
 * the arithmetic is vectorized and threaded.
 */
import { GraphBuilder, int } from '../onnx/graph.js';
import { DataType, encodeModel } from '../onnx/proto.js';
import { runGraph } from './matmul.js';

const F = DataType.FLOAT;

function graph(name: string, build: (g: GraphBuilder) => void): Uint8Array {
  const g = new GraphBuilder(name);
  build(g);
  return encodeModel({ graph: g.build() });
}

/** silu(g) · u, elementwise, with silu(g) = g · sigmoid(g). */
export async function siluMul(gate: Float32Array, up: Float32Array): Promise<Float32Array> {
  const out = new Float32Array(gate.length);
  const n = [gate.length];
  await runGraph(
    'siluMul',
    () =>
      graph('siluMul', (g) => {
        const x = g.input('G', F, ['n']);
        const silu = g.op('Mul', [x, g.op('Sigmoid', [x])]);
        g.op('Mul', [silu, g.input('U', F, ['n'])], {}, 'Y');
        g.output('Y', 'Y', F, ['n']);
      }),
    { G: [gate, n], U: [up, n] },
    { Y: [out, n] },
  );
  return out;
}

/** Gradients of siluMul's inputs from its output's: dGate = d · u · silu'(g), dUp = d · silu(g). */
export async function siluMulBackward(dOut: Float32Array, gate: Float32Array, up: Float32Array): Promise<{ dGate: Float32Array; dUp: Float32Array }> {
  const dGate = new Float32Array(gate.length);
  const dUp = new Float32Array(gate.length);
  const n = [gate.length];
  await runGraph(
    'siluMulBackward',
    () =>
      graph('siluMulBackward', (g) => {
        const d = g.input('D', F, ['n']);
        const x = g.input('G', F, ['n']);
        const u = g.input('U', F, ['n']);
        const sig = g.op('Sigmoid', [x]);
        g.op('Mul', [d, g.op('Mul', [x, sig])], {}, 'DU');
        // silu'(g) = sig · (1 + g · (1 - sig))
        const one = g.f32([1], []);
        const slope = g.op('Mul', [sig, g.op('Add', [one, g.op('Mul', [x, g.op('Sub', [one, sig])])])]);
        g.op('Mul', [g.op('Mul', [d, u]), slope], {}, 'DG');
        g.output('DG', 'DG', F, ['n']);
        g.output('DU', 'DU', F, ['n']);
      }),
    { D: [dOut, n], G: [gate, n], U: [up, n] },
    { DG: [dGate, n], DU: [dUp, n] },
  );
  return { dGate, dUp };
}

const causalMasks = new Map<number, Float32Array>();

/** [n, n]: 0 on and below the diagonal, -∞ above (position i attends to 0..i). */
export function causalMask(n: number): Float32Array {
  let m = causalMasks.get(n);
  if (m === undefined) {
    m = new Float32Array(n * n);
    for (let i = 0; i < n; i++) m.fill(-Infinity, i * n + i + 1, (i + 1) * n);
    if (causalMasks.size >= 8) causalMasks.delete(causalMasks.keys().next().value!);
    causalMasks.set(n, m);
  }
  return m;
}

/**
 * Softmax over the last axis of scale · scores + mask, scores [b, r, n], the additive mask (0 or -∞)
 * broadcast from [1 or b, 1 or r, n].
 */
export async function maskedSoftmax(scores: Float32Array, dims: readonly [number, number, number], mask: Float32Array, maskDims: readonly [number, number, number], scale: number): Promise<Float32Array> {
  const out = new Float32Array(scores.length);
  await runGraph(
    `maskedSoftmax:${scale}`,
    () =>
      graph('maskedSoftmax', (g) => {
        const s = g.op('Mul', [g.input('S', F, ['b', 'r', 'n']), g.f32([scale], [])]);
        g.op('Softmax', [g.op('Add', [s, g.input('M', F, ['mb', 'mr', 'n'])])], { axis: int(-1) }, 'P');
        g.output('P', 'P', F, ['b', 'r', 'n']);
      }),
    { S: [scores, dims], M: [mask, maskDims] },
    { P: [out, dims] },
  );
  return out;
}

/** Row softmax of scale · scores [batch, n, n] with position i attending to 0..i only. */
export function causalSoftmax(scores: Float32Array, batch: number, n: number, scale: number): Promise<Float32Array> {
  return maskedSoftmax(scores, [batch, n, n], causalMask(n), [1, n, n], scale);
}

/** The gradient of causalSoftmax's scores from its output P and the output's gradient: scale · P · (dP - Σ P·dP). */
export async function causalSoftmaxBackward(p: Float32Array, dP: Float32Array, batch: number, n: number, scale: number): Promise<Float32Array> {
  const out = new Float32Array(p.length);
  const dims = [batch, n, n];
  await runGraph(
    `causalSoftmaxBackward:${scale}`,
    () =>
      graph('causalSoftmaxBackward', (g) => {
        const prob = g.input('P', F, ['b', 'n', 'n']);
        const grad = g.input('D', F, ['b', 'n', 'n']);
        const dot = g.op('ReduceSum', [g.op('Mul', [prob, grad]), g.i64([-1])], { keepdims: int(1) });
        const centered = g.op('Sub', [grad, dot]);
        g.op('Mul', [g.op('Mul', [prob, g.f32([scale], [])]), centered], {}, 'DS');
        g.output('DS', 'DS', F, ['b', 'n', 'n']);
      }),
    { P: [p, dims], D: [dP, dims] },
    { DS: [out, dims] },
  );
  return out;
}

/** Row softmax of logits [rows, vocab] into `probs`. */
export async function rowSoftmax(logits: Float32Array, rows: number, vocab: number, probs: Float32Array): Promise<void> {
  await runGraph(
    'rowSoftmax',
    () =>
      graph('rowSoftmax', (g) => {
        g.op('Softmax', [g.input('X', F, ['r', 'v'])], { axis: int(-1) }, 'P');
        g.output('P', 'P', F, ['r', 'v']);
      }),
    { X: [logits, [rows, vocab]] },
    { P: [probs, [rows, vocab]] },
  );
}

/** GELU, exact form: 0.5 · x · (1 + erf(x / √2)) (BERT's hidden_act "gelu"). */
export async function gelu(x: Float32Array): Promise<Float32Array> {
  const out = new Float32Array(x.length);
  const n = [x.length];
  await runGraph(
    'gelu',
    () =>
      graph('gelu', (g) => {
        const v = g.input('X', F, ['n']);
        const erf = g.op('Erf', [g.op('Mul', [v, g.f32([Math.SQRT1_2], [])])]);
        g.op('Mul', [g.op('Mul', [v, g.f32([0.5], [])]), g.op('Add', [erf, g.f32([1], [])])], {}, 'Y');
        g.output('Y', 'Y', F, ['n']);
      }),
    { X: [x, n] },
    { Y: [out, n] },
  );
  return out;
}

/** The gradient of gelu's input from its output's: d · (Φ(x) + x · φ(x)), Φ and φ the normal CDF and density. */
export async function geluBackward(dOut: Float32Array, x: Float32Array): Promise<Float32Array> {
  const out = new Float32Array(x.length);
  const n = [x.length];
  await runGraph(
    'geluBackward',
    () =>
      graph('geluBackward', (g) => {
        const d = g.input('D', F, ['n']);
        const v = g.input('X', F, ['n']);
        const cdf = g.op('Mul', [g.op('Add', [g.op('Erf', [g.op('Mul', [v, g.f32([Math.SQRT1_2], [])])]), g.f32([1], [])]), g.f32([0.5], [])]);
        const density = g.op('Mul', [g.op('Exp', [g.op('Mul', [g.op('Mul', [v, v]), g.f32([-0.5], [])])]), g.f32([1 / Math.sqrt(2 * Math.PI)], [])]);
        g.op('Mul', [d, g.op('Add', [cdf, g.op('Mul', [v, density])])], {}, 'DX');
        g.output('DX', 'DX', F, ['n']);
      }),
    { D: [dOut, n], X: [x, n] },
    { DX: [out, n] },
  );
  return out;
}

const noMasks = new Map<number, Float32Array>();

/** Row softmax of scale · scores [batch, n, n] with every position attending to every other. */
export function fullSoftmax(scores: Float32Array, batch: number, n: number, scale: number): Promise<Float32Array> {
  let mask = noMasks.get(n);
  if (mask === undefined) {
    mask = new Float32Array(n);
    if (noMasks.size >= 8) noMasks.delete(noMasks.keys().next().value!);
    noMasks.set(n, mask);
  }
  return maskedSoftmax(scores, [batch, n, n], mask, [1, 1, n], scale);
}

/** The gradient of a scaled row softmax's scores from its output P and the output's gradient (any mask). */
export const softmaxBackward = causalSoftmaxBackward;
