/**
 * A BERT encoder (BertModel, post-LayerNorm) over float32 weights: the forward pass to the last hidden
 * states of packed sentences, and the backward pass to the gradient of every weight, for full
 * fine-tuning of a sentence-transformers body (SetFit). Sentences are packed: every linear runs once
 * over all T tokens, attention stays within each sentence (no padding, so no mask), positions restart
 * at 0 and token types are 0 (single sentences).
 *
 *   x = LN(word[t] + position[p] + type[0])
 *   per layer: h = LN(x + O(attention(Q x, K x, V x))); x = LN(h + W2 gelu(W1 h))
 */
import { SqlError } from '../errors/sql-error.js';
import { fromHeads, toHeads, type Span } from './attention.js';
import { bertWeightShapes, type BertConfig } from './bert-config.js';
import { layerNorm, layerNormBackward } from './layer-norm.js';
import type { WeightMap } from './llama-config.js';
import { batchedGemm, gemm } from './matmul.js';
import { fullSoftmax, gelu, geluBackward, softmaxBackward } from './ort-ops.js';

export type Gradients = Map<string, Float32Array>;

interface LayerTape {
  x: Float32Array;
  qh: Float32Array;
  kh: Float32Array;
  vh: Float32Array;
  probs: Float32Array[];
  ctx: Float32Array;
  h1: Float32Array;
  xhat1: Float32Array;
  inv1: Float32Array;
  u: Float32Array;
  g: Float32Array;
  xhat2: Float32Array;
  inv2: Float32Array;
}

/** What backward() needs from a forward pass. */
export interface EncoderTape {
  tokens: Int32Array;
  spans: Span[];
  embXhat: Float32Array;
  embInv: Float32Array;
  layers: LayerTape[];
}

const ATTENTION_LINEARS = ['attention.self.query', 'attention.self.key', 'attention.self.value'] as const;

export class BertEncoder {
  /** The weights by Hugging Face name; training updates them in place. */
  readonly weights: WeightMap;
  private readonly headDim: number;

  private constructor(readonly config: BertConfig, weights: WeightMap) {
    this.weights = new Map();
    for (const [name, shape] of bertWeightShapes(config)) {
      const t = weights.get(name);
      const size = shape.reduce((a, b) => a * b, 1);
      if (t === undefined) throw new SqlError('22023', `encoder weights lack tensor "${name}" (expected shape [${shape.join(', ')}])`);
      if (t.data.length !== size) throw new SqlError('22023', `encoder tensor "${name}" has ${t.data.length} values, expected shape [${shape.join(', ')}]`);
      this.weights.set(name, { shape: [...shape], data: Float32Array.from(t.data) });
    }
    this.headDim = config.hiddenSize / config.numHeads;
  }

  /** A trainable copy of the weights (the caller's tensors are not changed). */
  static create(config: BertConfig, weights: WeightMap): BertEncoder {
    return new BertEncoder(config, weights);
  }

  private w(name: string): Float32Array {
    return this.weights.get(name)!.data;
  }

  private checkTokens(seqs: readonly Int32Array[]): void {
    if (seqs.length === 0) throw new SqlError('22023', 'no sentences to encode');
    for (const s of seqs) {
      if (s.length === 0) throw new SqlError('22023', 'a sentence has no tokens');
      if (s.length > this.config.maxPositionEmbeddings) throw new SqlError('22023', `a sentence has ${s.length} tokens, more than the encoder's ${this.config.maxPositionEmbeddings} positions`);
      for (const t of s) if (!(t >= 0 && t < this.config.vocabSize)) throw new SqlError('22023', `token id ${t} is outside the vocabulary [0, ${this.config.vocabSize})`);
    }
  }

  /** The last hidden states [T, hidden] of the packed sentences, and the tape backward() needs when asked. */
  async forward(seqs: readonly Int32Array[], keepTape: boolean): Promise<{ hidden: Float32Array; spans: Span[]; tape: EncoderTape | null }> {
    this.checkTokens(seqs);
    const c = this.config;
    const H = c.hiddenSize;
    const spans: Span[] = [];
    let T = 0;
    for (const s of seqs) {
      spans.push({ offset: T, length: s.length });
      T += s.length;
    }
    const tokens = new Int32Array(T);
    seqs.forEach((s, i) => tokens.set(s, spans[i]!.offset));
    const word = this.w('embeddings.word_embeddings.weight');
    const pos = this.w('embeddings.position_embeddings.weight');
    const type = this.w('embeddings.token_type_embeddings.weight');
    const e = new Float32Array(T * H);
    for (const { offset, length } of spans) {
      for (let p = 0; p < length; p++) {
        const t = offset + p;
        const tok = tokens[t]!;
        for (let h = 0; h < H; h++) e[t * H + h] = word[tok * H + h]! + pos[p * H + h]! + type[h]!;
      }
    }
    let x: Float32Array = new Float32Array(T * H);
    const embXhat = new Float32Array(T * H);
    const embInv = new Float32Array(T);
    layerNorm(e, this.w('embeddings.LayerNorm.weight'), this.w('embeddings.LayerNorm.bias'), T, c.layerNormEps, x, embXhat, embInv);
    const layers: LayerTape[] = [];
    for (let l = 0; l < c.numLayers; l++) {
      const r = await this.layerForward(l, x, T, spans);
      if (keepTape) layers.push(r.tape);
      x = r.out;
    }
    return { hidden: x, spans, tape: keepTape ? { tokens, spans, embXhat, embInv, layers } : null };
  }

  private linear(x: Float32Array, rows: number, name: string, inDim: number, outDim: number): Promise<Float32Array> {
    return gemm(x, this.w(`${name}.weight`), rows, inDim, outDim, { transB: true, c: this.w(`${name}.bias`) });
  }

  private async layerForward(l: number, x: Float32Array, T: number, spans: Span[]): Promise<{ out: Float32Array; tape: LayerTape }> {
    const c = this.config;
    const H = c.hiddenSize;
    const I = c.intermediateSize;
    const nh = c.numHeads;
    const d = this.headDim;
    const p = `encoder.layer.${l}`;
    const q = await this.linear(x, T, `${p}.${ATTENTION_LINEARS[0]}`, H, H);
    const k = await this.linear(x, T, `${p}.${ATTENTION_LINEARS[1]}`, H, H);
    const v = await this.linear(x, T, `${p}.${ATTENTION_LINEARS[2]}`, H, H);
    const qh = new Float32Array(T * H);
    const kh = new Float32Array(T * H);
    const vh = new Float32Array(T * H);
    const ctx = new Float32Array(T * H);
    const probs: Float32Array[] = [];
    for (const { offset, length: n } of spans) {
      const span = (b: Float32Array): Float32Array => b.subarray(offset * H, (offset + n) * H);
      toHeads(q, offset, n, nh, d, null, span(qh));
      toHeads(k, offset, n, nh, d, null, span(kh));
      toHeads(v, offset, n, nh, d, null, span(vh));
      const scores = await batchedGemm(span(qh), span(kh), nh, n, d, n, { transB: true });
      const prob = await fullSoftmax(scores, nh, n, 1 / Math.sqrt(d));
      probs.push(prob);
      fromHeads(await batchedGemm(prob, span(vh), nh, n, n, d), n, nh, d, null, ctx, offset);
    }
    const r1 = await gemm(ctx, this.w(`${p}.attention.output.dense.weight`), T, H, H, { transB: true, c: this.w(`${p}.attention.output.dense.bias`) });
    for (let i = 0; i < r1.length; i++) r1[i] = r1[i]! + x[i]!;
    const h1 = new Float32Array(T * H);
    const xhat1 = new Float32Array(T * H);
    const inv1 = new Float32Array(T);
    layerNorm(r1, this.w(`${p}.attention.output.LayerNorm.weight`), this.w(`${p}.attention.output.LayerNorm.bias`), T, c.layerNormEps, h1, xhat1, inv1);
    const u = await this.linear(h1, T, `${p}.intermediate.dense`, H, I);
    const g = await gelu(u);
    const r2 = await this.linear(g, T, `${p}.output.dense`, I, H);
    for (let i = 0; i < r2.length; i++) r2[i] = r2[i]! + h1[i]!;
    const out = new Float32Array(T * H);
    const xhat2 = new Float32Array(T * H);
    const inv2 = new Float32Array(T);
    layerNorm(r2, this.w(`${p}.output.LayerNorm.weight`), this.w(`${p}.output.LayerNorm.bias`), T, c.layerNormEps, out, xhat2, inv2);
    return { out, tape: { x, qh, kh, vh, probs, ctx, h1, xhat1, inv1, u, g, xhat2, inv2 } };
  }

  /** The gradient of every weight, given the gradient of the last hidden states of a forward pass with a tape. */
  async backward(tape: EncoderTape, dHidden: Float32Array): Promise<Gradients> {
    const c = this.config;
    const H = c.hiddenSize;
    const T = tape.tokens.length;
    const grads: Gradients = new Map();
    for (const [name, t] of this.weights) grads.set(name, new Float32Array(t.data.length));
    let dx: Float32Array = Float32Array.from(dHidden);
    for (let l = c.numLayers - 1; l >= 0; l--) dx = await this.layerBackward(l, tape.layers[l]!, dx, T, tape.spans, grads);
    const de = new Float32Array(T * H);
    layerNormBackward(dx, tape.embXhat, tape.embInv, this.w('embeddings.LayerNorm.weight'), T, de, grads.get('embeddings.LayerNorm.weight')!, grads.get('embeddings.LayerNorm.bias')!);
    const dWord = grads.get('embeddings.word_embeddings.weight')!;
    const dPos = grads.get('embeddings.position_embeddings.weight')!;
    const dType = grads.get('embeddings.token_type_embeddings.weight')!;
    for (const { offset, length } of tape.spans) {
      for (let p = 0; p < length; p++) {
        const t = offset + p;
        const tok = tape.tokens[t]!;
        for (let h = 0; h < H; h++) {
          const g = de[t * H + h]!;
          dWord[tok * H + h] = dWord[tok * H + h]! + g;
          dPos[p * H + h] = dPos[p * H + h]! + g;
          dType[h] = dType[h]! + g;
        }
      }
    }
    return grads;
  }

  /** Writes the gradients of linear `name` (dW = dyᵀ x, db = Σ dy) and returns dx = dy W (plus `accumulate`). */
  private async linearBackward(dy: Float32Array, x: Float32Array, rows: number, name: string, inDim: number, outDim: number, grads: Gradients, accumulate?: Float32Array): Promise<Float32Array> {
    await gemm(dy, x, outDim, rows, inDim, { transA: true, out: grads.get(`${name}.weight`)! });
    const db = grads.get(`${name}.bias`)!;
    for (let r = 0; r < rows; r++) for (let o = 0; o < outDim; o++) db[o] = db[o]! + dy[r * outDim + o]!;
    return gemm(dy, this.w(`${name}.weight`), rows, outDim, inDim, accumulate === undefined ? {} : { c: accumulate });
  }

  private async layerBackward(l: number, tape: LayerTape, dOut: Float32Array, T: number, spans: Span[], grads: Gradients): Promise<Float32Array> {
    const c = this.config;
    const H = c.hiddenSize;
    const I = c.intermediateSize;
    const nh = c.numHeads;
    const d = this.headDim;
    const p = `encoder.layer.${l}`;
    const dr2 = new Float32Array(T * H);
    layerNormBackward(dOut, tape.xhat2, tape.inv2, this.w(`${p}.output.LayerNorm.weight`), T, dr2, grads.get(`${p}.output.LayerNorm.weight`)!, grads.get(`${p}.output.LayerNorm.bias`)!);
    const dg = await this.linearBackward(dr2, tape.g, T, `${p}.output.dense`, I, H, grads);
    const du = await geluBackward(dg, tape.u);
    // h1 feeds both the MLP and the residual.
    const dh1 = await this.linearBackward(du, tape.h1, T, `${p}.intermediate.dense`, H, I, grads, dr2);
    const dr1 = new Float32Array(T * H);
    layerNormBackward(dh1, tape.xhat1, tape.inv1, this.w(`${p}.attention.output.LayerNorm.weight`), T, dr1, grads.get(`${p}.attention.output.LayerNorm.weight`)!, grads.get(`${p}.attention.output.LayerNorm.bias`)!);
    const dctx = await this.linearBackward(dr1, tape.ctx, T, `${p}.attention.output.dense`, H, H, grads);
    const dq = new Float32Array(T * H);
    const dk = new Float32Array(T * H);
    const dv = new Float32Array(T * H);
    const scale = 1 / Math.sqrt(d);
    for (let i = 0; i < spans.length; i++) {
      const { offset, length: n } = spans[i]!;
      const span = (b: Float32Array): Float32Array => b.subarray(offset * H, (offset + n) * H);
      const prob = tape.probs[i]!;
      const dOh = new Float32Array(n * H);
      toHeads(dctx, offset, n, nh, d, null, dOh);
      const dP = await batchedGemm(dOh, span(tape.vh), nh, n, d, n, { transB: true });
      const dVh = await batchedGemm(prob, dOh, nh, n, n, d, { transA: true });
      const dS = await softmaxBackward(prob, dP, nh, n, scale);
      const dQh = await batchedGemm(dS, span(tape.kh), nh, n, n, d);
      const dKh = await batchedGemm(dS, span(tape.qh), nh, n, n, d, { transA: true });
      fromHeads(dQh, n, nh, d, null, dq, offset);
      fromHeads(dKh, n, nh, d, null, dk, offset);
      fromHeads(dVh, n, nh, d, null, dv, offset);
    }
    // x feeds the three projections and the residual.
    let dx = await this.linearBackward(dq, tape.x, T, `${p}.attention.self.query`, H, H, grads, dr1);
    dx = await this.linearBackward(dk, tape.x, T, `${p}.attention.self.key`, H, H, grads, dx);
    return this.linearBackward(dv, tape.x, T, `${p}.attention.self.value`, H, H, grads, dx);
  }
}

/** The mean of each sentence's token states [sentences, hidden]. */
export function meanPool(hidden: Float32Array, spans: readonly Span[], H: number): Float32Array {
  const out = new Float32Array(spans.length * H);
  spans.forEach(({ offset, length }, s) => {
    for (let t = offset; t < offset + length; t++) for (let h = 0; h < H; h++) out[s * H + h] = out[s * H + h]! + hidden[t * H + h]!;
    for (let h = 0; h < H; h++) out[s * H + h] = out[s * H + h]! / length;
  });
  return out;
}

/** The gradient of the token states from that of their sentences' means. */
export function meanPoolBackward(dPooled: Float32Array, spans: readonly Span[], H: number, T: number): Float32Array {
  const out = new Float32Array(T * H);
  spans.forEach(({ offset, length }, s) => {
    for (let t = offset; t < offset + length; t++) for (let h = 0; h < H; h++) out[t * H + h] = dPooled[s * H + h]! / length;
  });
  return out;
}
