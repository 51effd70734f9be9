/**
 * Float32 matrix products on onnxruntime: each variant (transposes, bias or accumulator input) is a
 * one-node ONNX graph with symbolic shapes, built and loaded once, then run on caller-owned buffers.
 * onnxruntime reads typed-array views in place (subarrays cost no copy) and writes into a preallocated
 * output, so a product costs the arithmetic plus ~20 µs of call overhead. Runs are synchronous on the
 * calling thread (plus onnxruntime's own intra-op threads); the API is async because session.run is.
 * runGraph runs any other small graph (ort-ops.ts) through the same session cache.
 */
import { availableParallelism } from 'node:os';
import ort from 'onnxruntime-node';
import { DataType, encodeModel, type NodeSpec, type ValueInfoSpec } from '../onnx/proto.js';

export interface GemmOptions {
  /** A is stored [K, M] and used transposed. */
  transA?: boolean;
  /** B is stored [N, K] and used transposed (a linear's [out, in] weight). */
  transB?: boolean;
  /** Added to the product: [N] (broadcast over rows, a bias) or [M, N] (an accumulator). */
  c?: Float32Array;
  /** Receives the [M, N] result (must not alias an input); a new array when absent. */
  out?: Float32Array;
}

const threads = availableParallelism();
const sessions = new Map<string, Promise<ort.InferenceSession>>();

/** Releases every cached session; later products create them again. */
export async function disposeMatmul(): Promise<void> {
  const all = [...sessions.values()];
  sessions.clear();
  for (const s of all) await (await s).release();
}

const floatInput = (name: string, shape: readonly string[]): ValueInfoSpec => ({ name, elemType: DataType.FLOAT, shape });

function gemmGraph(transA: boolean, transB: boolean, cRank: 0 | 1 | 2): Uint8Array {
  const inputs = [floatInput('A', ['a0', 'a1']), floatInput('B', ['b0', 'b1'])];
  if (cRank === 1) inputs.push(floatInput('C', ['n']));
  if (cRank === 2) inputs.push(floatInput('C', ['m', 'n']));
  const node: NodeSpec = {
    opType: 'Gemm',
    name: 'gemm',
    inputs: inputs.map((i) => i.name),
    outputs: ['Y'],
    attributes: { transA: { kind: 'int', value: transA ? 1 : 0 }, transB: { kind: 'int', value: transB ? 1 : 0 } },
  };
  return encodeModel({ graph: { name: 'gemm', nodes: [node], initializers: [], inputs, outputs: [floatInput('Y', ['m', 'n'])] } });
}

/** A batched [batch, M, K] × [batch, K, N] MatMul. */
function batchedGraph(): Uint8Array {
  const node: NodeSpec = { opType: 'MatMul', name: 'bmm', inputs: ['A', 'B'], outputs: ['Y'] };
  return encodeModel({
    graph: {
      name: 'bmm',
      nodes: [node],
      initializers: [],
      inputs: [floatInput('A', ['b', 'm', 'k']), floatInput('B', ['b', 'k', 'n'])],
      outputs: [floatInput('Y', ['b', 'm', 'n'])],
    },
  });
}

function session(key: string, build: () => Uint8Array): Promise<ort.InferenceSession> {
  let s = sessions.get(key);
  if (s === undefined) {
    // Each session has its own intra-op thread pool; spinning pools of recently used sessions would take
    // the cores from the one running (measured: 2-3x slower products), so idle workers sleep instead.
    s = ort.InferenceSession.create(build(), {
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
      extra: { session: { intra_op: { allow_spinning: '0' } } },
    });
    sessions.set(key, s);
  }
  return s;
}

const tensor = (data: Float32Array, dims: readonly number[]): ort.Tensor => new ort.Tensor('float32', data, dims);

/** A float32 buffer and the shape onnxruntime sees it as. */
export type Operand = readonly [data: Float32Array, dims: readonly number[]];

/**
 * Runs the graph `build` makes (loaded once under `key`) on float32 inputs, writing its outputs into
 * the given buffers.
 */
export async function runGraph(key: string, build: () => Uint8Array, inputs: Record<string, Operand>, outputs: Record<string, Operand>): Promise<void> {
  const s = await session(key, build);
  const feeds: Record<string, ort.Tensor> = {};
  for (const [name, [data, dims]] of Object.entries(inputs)) feeds[name] = tensor(data, dims);
  const fetches: Record<string, ort.Tensor> = {};
  for (const [name, [data, dims]] of Object.entries(outputs)) fetches[name] = tensor(data, dims);
  await s.run(feeds, fetches);
}

/**
 * Y [M, N] = op(A) · op(B) (+ C), op transposing when asked. `a` holds exactly M·K values, `b` K·N.
 */
export async function gemm(a: Float32Array, b: Float32Array, M: number, K: number, N: number, options: GemmOptions = {}): Promise<Float32Array> {
  const { transA = false, transB = false, c } = options;
  const out = options.out ?? new Float32Array(M * N);
  if (M === 0 || N === 0) return out;
  if (K === 0) {
    if (c === undefined) out.fill(0);
    else for (let i = 0; i < M * N; i++) out[i] = c[c.length === N ? i % N : i]!;
    return out;
  }
  const cRank = c === undefined ? 0 : c.length === N && M !== 1 ? 1 : 2;
  const s = await session(`gemm${+transA}${+transB}c${cRank}`, () => gemmGraph(transA, transB, cRank));
  const feeds: Record<string, ort.Tensor> = {
    A: tensor(a, transA ? [K, M] : [M, K]),
    B: tensor(b, transB ? [N, K] : [K, N]),
  };
  if (c !== undefined) feeds.C = tensor(c, cRank === 1 ? [N] : [M, N]);
  await s.run(feeds, { Y: tensor(out, [M, N]) });
  return out;
}

/**
 * `batch` independent products: Y[i] [M, N] = op(A[i]) · op(B[i]), each operand stored contiguously
 * batch-major. Untransposed products run as one batched MatMul; transposed ones as one Gemm per item,
 * which onnxruntime runs faster than a MatMul over transposed operands.
 */
export async function batchedGemm(
  a: Float32Array,
  b: Float32Array,
  batch: number,
  M: number,
  K: number,
  N: number,
  options: Omit<GemmOptions, 'c'> = {},
): Promise<Float32Array> {
  const out = options.out ?? new Float32Array(batch * M * N);
  if (batch === 0 || M === 0 || N === 0) return out;
  if (!options.transA && !options.transB && K > 0) {
    const s = await session('bmm', batchedGraph);
    await s.run({ A: tensor(a, [batch, M, K]), B: tensor(b, [batch, K, N]) }, { Y: tensor(out, [batch, M, N]) });
    return out;
  }
  const sa = M * K;
  const sb = K * N;
  const so = M * N;
  for (let i = 0; i < batch; i++) {
    await gemm(a.subarray(i * sa, (i + 1) * sa), b.subarray(i * sb, (i + 1) * sb), M, K, N, {
      transA: options.transA ?? false,
      transB: options.transB ?? false,
      out: out.subarray(i * so, (i + 1) * so),
    });
  }
  return out;
}
