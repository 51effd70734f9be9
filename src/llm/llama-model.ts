/**
 * A Llama-family decoder (LlamaForCausalLM, Qwen2ForCausalLM) over float32 weights, with LoRA
 * adapters applied unmerged (on the layers' linears, the output layer and the token embedding): the
 * forward pass for logits and losses, and the backward pass giving the gradient of the summed token
 * cross-entropy with respect to every LoRA A and B (base weights frozen).
 *
 * A batch of sequences is packed: every linear runs once over all T tokens of the batch, attention stays
 * within each sequence, and positions restart at 0 per sequence.
 */
import { SqlError } from '../errors/sql-error.js';
import { PackedCausalAttention, type AttentionRunner, type Span } from './attention.js';
import { LINEAR_MODULES, hasBias, linearShape, modulePath, type LinearModule, type LlamaConfig, type WeightMap } from './llama-config.js';
import { addInPlace, rmsNorm, rmsNormBackwardAdd, type Rng } from './kernels.js';
import { linearBackward, linearForward, type Dropout, type LinearWeights, type LoraTape, type LoraWeights } from './linear.js';
import { embeddingLoraBackward, embeddingLoraForward } from './embedding-lora.js';
import { LmHead } from './lm-head.js';
import { EMBED_PATH, HEAD_PATH, loraSites } from './lora-targets.js';
import { loraScale, type LoraAdapter } from './lora-types.js';
import { siluMul, siluMulBackward } from './ort-ops.js';
import { RopeTable } from './rope.js';

export interface TrainSequence {
  inputIds: Int32Array;
  /** lossMask[t] = 1: the loss includes predicting token t from tokens < t (lossMask[0] is ignored). */
  lossMask: Uint8Array;
}

export interface LossResult {
  /** Sum of the cross-entropies (natural log) of every target token. */
  lossSum: number;
  targetTokens: number;
}

export interface LoraGrad {
  A: Float32Array;
  B: Float32Array;
}

export interface GradResult extends LossResult {
  /** d lossSum / d A and d B, by module path. */
  grads: Map<string, LoraGrad>;
}

export interface TrainOptions {
  /** Draws LoRA dropout masks (p = the adapter's spec.dropout); without it no dropout is applied. */
  dropout?: Rng | undefined;
  /**
   * Attention probabilities are kept for the backward pass while they take at most this many floats
   * (default 64M, 256 MB); beyond, each layer's are recomputed from its queries and keys.
   */
  attentionMemoryFloats?: number | undefined;
}

/** The LoRA branches of each layer, by module. */
export type LayerLora = Partial<Record<LinearModule, LoraWeights>>;

/** An adapter resolved against the model: the branches of each layer, of the output layer, of the embedding. */
export interface ResolvedLora {
  layers: LayerLora[];
  head: LoraWeights | null;
  /** A [r, vocab], B [hidden, r]. */
  embed: LoraWeights | null;
}

interface LayerParams {
  inputNorm: Float32Array;
  postNorm: Float32Array;
  linears: Record<LinearModule, LinearWeights>;
}

interface LayerTape {
  x: Float32Array;
  inv1: Float32Array;
  h: Float32Array;
  inv2: Float32Array;
  gate: Float32Array;
  up: Float32Array;
  lora: Partial<Record<LinearModule, LoraTape>>;
}

interface Packed {
  tokens: Int32Array;
  spans: Span[];
  /** Packed rows whose next-token prediction is scored, and the token they must predict. */
  rows: Int32Array;
  labels: Int32Array;
}

/** Attention probabilities kept for backward up to this many floats; beyond, they are recomputed. */
const KEPT_PROBS_FLOATS = 64 * 1024 * 1024;

const ATTENTION: readonly LinearModule[] = ['q_proj', 'k_proj', 'v_proj', 'o_proj'];

export class LlamaModel {
  readonly rope: RopeTable;
  private readonly embedding: Float32Array;
  private readonly finalNorm: Float32Array;
  private readonly head: LmHead;
  private readonly layers: LayerParams[];
  /** Adapters already resolved (generation resolves the same one every step). */
  private readonly resolved = new WeakMap<LoraAdapter, ResolvedLora>();

  private constructor(
    readonly config: LlamaConfig,
    weights: WeightMap,
  ) {
    const c = config;
    const tensor = (name: string, shape: number[]): Float32Array => {
      const t = weights.get(name);
      if (t === undefined) throw new SqlError('22023', `model weights lack tensor "${name}" (expected shape [${shape.join(', ')}])`);
      const size = shape.reduce((a, b) => a * b, 1);
      if (t.shape.length !== shape.length || t.shape.some((v, i) => v !== shape[i]) || t.data.length !== size) {
        throw new SqlError('22023', `model tensor "${name}" has shape [${t.shape.join(', ')}], expected [${shape.join(', ')}]`);
      }
      return t.data;
    };
    if (c.headDim % 2 !== 0) throw new SqlError('22023', `head_dim must be even for rotary embeddings, got ${c.headDim}`);
    this.embedding = tensor('model.embed_tokens.weight', [c.vocabSize, c.hiddenSize]);
    this.finalNorm = tensor('model.norm.weight', [c.hiddenSize]);
    this.head = new LmHead(c.tieWordEmbeddings ? this.embedding : tensor('lm_head.weight', [c.vocabSize, c.hiddenSize]), c.hiddenSize, c.vocabSize);
    this.layers = [];
    for (let l = 0; l < c.numLayers; l++) {
      const linears = {} as Record<LinearModule, LinearWeights>;
      for (const m of LINEAR_MODULES) {
        const [out, inDim] = linearShape(c, m);
        const path = modulePath(l, m);
        linears[m] = { W: tensor(`${path}.weight`, [out, inDim]), bias: hasBias(c, m) ? tensor(`${path}.bias`, [out]) : null, out, in: inDim };
      }
      this.layers.push({
        inputNorm: tensor(`model.layers.${l}.input_layernorm.weight`, [c.hiddenSize]),
        postNorm: tensor(`model.layers.${l}.post_attention_layernorm.weight`, [c.hiddenSize]),
        linears,
      });
    }
    this.rope = new RopeTable(c);
  }

  /** Checks that every tensor the config implies is present with its shape (SQLSTATE 22023 otherwise). */
  static create(config: LlamaConfig, weights: WeightMap): LlamaModel {
    return new LlamaModel(config, weights);
  }

  /** Logits [n, vocab] of every position of one sequence. */
  async logits(inputIds: Int32Array | readonly number[], adapter?: LoraAdapter): Promise<Float32Array> {
    const tokens = Int32Array.from(inputIds);
    this.checkTokens(tokens, 'input');
    const T = tokens.length;
    const attention = new PackedCausalAttention(this.config, this.rope, [{ offset: 0, length: T }], { keepTapeFrom: Infinity, keepProbs: false });
    const hidden = await this.hidden(tokens, attention, adapter);
    return this.headLogits(hidden, T, adapter);
  }

  /** The summed cross-entropy of a batch's target tokens, without dropout or gradients. */
  async loss(batch: readonly TrainSequence[], adapter?: LoraAdapter): Promise<LossResult> {
    const packed = this.pack(batch);
    const attention = new PackedCausalAttention(this.config, this.rope, packed.spans, { keepTapeFrom: Infinity, keepProbs: false });
    const hidden = await this.hidden(packed.tokens, attention, adapter);
    const lossSum = await this.head.loss(hidden, packed, this.resolveAdapter(adapter).head, null, null);
    return { lossSum, targetTokens: packed.rows.length };
  }

  /** The summed cross-entropy of a batch's target tokens and its gradient with respect to the adapter. */
  async lossAndGrads(batch: readonly TrainSequence[], adapter: LoraAdapter, options: TrainOptions = {}): Promise<GradResult> {
    const c = this.config;
    const packed = this.pack(batch);
    const T = packed.tokens.length;
    const lora = this.resolveAdapter(adapter);
    const grads = new Map<string, LoraGrad>();
    const gradOf = (path: string, w: LoraWeights): LoraGrad => {
      const g = { A: new Float32Array(w.A.length), B: new Float32Array(w.B.length) };
      grads.set(path, g);
      return g;
    };
    let lowest = Infinity;
    lora.layers.forEach((layer, l) => {
      for (const [m, w] of Object.entries(layer) as [LinearModule, LoraWeights][]) {
        gradOf(modulePath(l, m), w);
        lowest = Math.min(lowest, l);
      }
    });
    const embedGrad = lora.embed === null ? null : gradOf(EMBED_PATH, lora.embed);
    const headGrad = lora.head === null ? null : gradOf(HEAD_PATH, lora.head);
    // The embedding's adapter needs the gradient of the first layer's input: every layer is run backward.
    if (lora.embed !== null) lowest = 0;
    const taped = Number.isFinite(lowest) ? c.numLayers - lowest : 0;
    const probFloats = taped * c.numHeads * packed.spans.reduce((a, s) => a + s.length * s.length, 0);
    const attention = new PackedCausalAttention(c, this.rope, packed.spans, { keepTapeFrom: lowest, keepProbs: probFloats <= (options.attentionMemoryFloats ?? KEPT_PROBS_FLOATS) });
    const drop: Dropout | null = options.dropout !== undefined && adapter.spec.dropout > 0 ? { p: adapter.spec.dropout, rng: options.dropout } : null;

    let x = this.embed(packed.tokens, lora.embed);
    const tapes: (LayerTape | null)[] = [];
    for (let l = 0; l < c.numLayers; l++) {
      const r = await this.layerForward(l, x, T, attention, lora.layers[l]!, drop, l >= lowest);
      tapes.push(r.tape);
      x = r.out;
    }
    const normed = new Float32Array(T * c.hiddenSize);
    const invF = new Float32Array(T);
    rmsNorm(x, this.finalNorm, T, c.rmsNormEps, normed, invF);
    const targets = packed.rows.length;
    const throughLayers = Number.isFinite(lowest);
    if (targets === 0 || (!throughLayers && headGrad === null)) {
      return { lossSum: await this.head.loss(normed, packed, lora.head, drop, null), targetTokens: targets, grads };
    }
    const dNormed = throughLayers ? new Float32Array(T * c.hiddenSize) : null;
    const lossSum = await this.head.loss(normed, packed, lora.head, drop, { dHidden: dNormed, lora: headGrad });
    if (dNormed === null) return { lossSum, targetTokens: targets, grads };
    let dx: Float32Array | null = new Float32Array(T * c.hiddenSize);
    rmsNormBackwardAdd(dNormed, x, this.finalNorm, invF, T, dx);
    for (let l = c.numLayers - 1; l >= lowest && dx !== null; l--) {
      dx = await this.layerBackward(l, tapes[l]!, dx, T, attention, lora.layers[l]!, grads, l > lowest || embedGrad !== null);
      tapes[l] = null;
    }
    if (embedGrad !== null && lora.embed !== null && dx !== null) await embeddingLoraBackward(dx, packed.tokens, lora.embed, c.hiddenSize, c.vocabSize, embedGrad);
    return { lossSum, targetTokens: targets, grads };
  }

  /** Token embeddings [T, hidden], plus s · B A[:, token] with a LoRA on the embedding. */
  embed(tokens: Int32Array, lora: LoraWeights | null = null): Float32Array {
    const H = this.config.hiddenSize;
    const V = this.config.vocabSize;
    const x = new Float32Array(tokens.length * H);
    for (let t = 0; t < tokens.length; t++) x.set(this.embedding.subarray(tokens[t]! * H, (tokens[t]! + 1) * H), t * H);
    if (lora !== null) embeddingLoraForward(x, tokens, lora, H, V);
    return x;
  }

  /** The final-normed hidden states [T, hidden] of tokens whose attention `attention` carries out. */
  async hidden(tokens: Int32Array, attention: AttentionRunner, adapter?: LoraAdapter): Promise<Float32Array> {
    const c = this.config;
    const T = tokens.length;
    const lora = this.resolveAdapter(adapter);
    let x = this.embed(tokens, lora.embed);
    for (let l = 0; l < c.numLayers; l++) x = (await this.layerForward(l, x, T, attention, lora.layers[l]!, null, false)).out;
    const normed = new Float32Array(T * c.hiddenSize);
    rmsNorm(x, this.finalNorm, T, c.rmsNormEps, normed, new Float32Array(T));
    return normed;
  }

  /** LM-head logits [rows, vocab] of `rows` hidden states [rows, hidden] (with the adapter's LoRA on lm_head, if any). */
  headLogits(hidden: Float32Array, rows: number, adapter?: LoraAdapter): Promise<Float32Array> {
    return this.head.logits(hidden, rows, this.resolveAdapter(adapter).head);
  }

  /** The LoRA branches of the adapter by place; refuses adapters that do not fit this model. */
  resolveAdapter(adapter: LoraAdapter | undefined): ResolvedLora {
    const c = this.config;
    const resolved: ResolvedLora = { layers: Array.from({ length: c.numLayers }, () => ({})), head: null, embed: null };
    if (adapter === undefined) return resolved;
    const cached = this.resolved.get(adapter);
    if (cached !== undefined) return cached;
    const sites = loraSites(c);
    const r = adapter.spec.r;
    const scale = loraScale(adapter.spec);
    for (const [path, pair] of adapter.modules) {
      const site = sites.get(path);
      if (site === undefined) throw new SqlError('22023', `LoRA adapter module "${path}" is not a module of this model (a linear of a decoder layer, lm_head or model.embed_tokens)`);
      const fits = (t: { shape: number[]; data: Float32Array }, rows: number, cols: number): boolean =>
        t.shape.length === 2 && t.shape[0] === rows && t.shape[1] === cols && t.data.length === rows * cols;
      if (!fits(pair.A, r, site.in)) throw new SqlError('22023', `LoRA tensor "${path}.lora_A" has shape [${pair.A.shape.join(', ')}], expected [${r}, ${site.in}]`);
      if (!fits(pair.B, site.out, r)) throw new SqlError('22023', `LoRA tensor "${path}.lora_B" has shape [${pair.B.shape.join(', ')}], expected [${site.out}, ${r}]`);
      const w: LoraWeights = { A: pair.A.data, B: pair.B.data, r, scale };
      if (path === HEAD_PATH) resolved.head = w;
      else if (path === EMBED_PATH) resolved.embed = w;
      else resolved.layers[site.layer!]![site.target as LinearModule] = w;
    }
    this.resolved.set(adapter, resolved);
    return resolved;
  }

  private checkTokens(tokens: Int32Array, what: string): void {
    const V = this.config.vocabSize;
    if (tokens.length === 0) throw new SqlError('22023', `${what} sequence is empty`);
    if (tokens.length > this.config.maxPositionEmbeddings) {
      throw new SqlError('22023', `${what} sequence has ${tokens.length} tokens, more than the model's ${this.config.maxPositionEmbeddings} positions`);
    }
    for (const t of tokens) if (!(t >= 0 && t < V)) throw new SqlError('22023', `token id ${t} is outside the vocabulary [0, ${V})`);
  }

  private pack(batch: readonly TrainSequence[]): Packed {
    if (batch.length === 0) throw new SqlError('22023', 'a training batch needs at least one sequence');
    let T = 0;
    let targets = 0;
    for (const s of batch) {
      if (s.lossMask.length !== s.inputIds.length) throw new SqlError('22023', `loss mask has ${s.lossMask.length} entries for ${s.inputIds.length} tokens`);
      this.checkTokens(s.inputIds, 'training');
      T += s.inputIds.length;
      for (let t = 1; t < s.lossMask.length; t++) if (s.lossMask[t] !== 0) targets++;
    }
    const tokens = new Int32Array(T);
    const rows = new Int32Array(targets);
    const labels = new Int32Array(targets);
    const spans: Span[] = [];
    let offset = 0;
    let k = 0;
    for (const s of batch) {
      tokens.set(s.inputIds, offset);
      spans.push({ offset, length: s.inputIds.length });
      for (let t = 1; t < s.lossMask.length; t++) {
        if (s.lossMask[t] === 0) continue;
        rows[k] = offset + t - 1;
        labels[k++] = s.inputIds[t]!;
      }
      offset += s.inputIds.length;
    }
    return { tokens, spans, rows, labels };
  }

  private async layerForward(
    l: number,
    x: Float32Array,
    T: number,
    attention: AttentionRunner,
    lora: LayerLora,
    drop: Dropout | null,
    keepTape: boolean,
  ): Promise<{ out: Float32Array; tape: LayerTape | null }> {
    const c = this.config;
    const p = this.layers[l]!;
    const loraTapes: Partial<Record<LinearModule, LoraTape>> = {};
    const linear = async (m: LinearModule, input: Float32Array): Promise<Float32Array> => {
      const r = await linearForward(input, T, p.linears[m], lora[m] ?? null, drop);
      if (keepTape && r.tape !== null) loraTapes[m] = r.tape;
      return r.y;
    };
    const n1 = new Float32Array(T * c.hiddenSize);
    const inv1 = new Float32Array(T);
    rmsNorm(x, p.inputNorm, T, c.rmsNormEps, n1, inv1);
    const q = await linear('q_proj', n1);
    const k = await linear('k_proj', n1);
    const v = await linear('v_proj', n1);
    const h = await linear('o_proj', await attention.forward(l, q, k, v, T));
    addInPlace(h, x);
    const n2 = new Float32Array(T * c.hiddenSize);
    const inv2 = new Float32Array(T);
    rmsNorm(h, p.postNorm, T, c.rmsNormEps, n2, inv2);
    const gate = await linear('gate_proj', n2);
    const up = await linear('up_proj', n2);
    const act = await siluMul(gate, up);
    const out = await linear('down_proj', act);
    addInPlace(out, h);
    return { out, tape: keepTape ? { x, inv1, h, inv2, gate, up, lora: loraTapes } : null };
  }

  /**
   * Backward through layer l given the gradient of its output (overwritten); writes its LoRA gradients
   * and returns the gradient of its input when `needDx`.
   */
  private async layerBackward(
    l: number,
    tape: LayerTape,
    dOut: Float32Array,
    T: number,
    attention: PackedCausalAttention,
    lora: LayerLora,
    grads: Map<string, LoraGrad>,
    needDx: boolean,
  ): Promise<Float32Array | null> {
    const p = this.layers[l]!;
    const back = (m: LinearModule, dy: Float32Array, wantDx: boolean, accumulate: Float32Array | null = null): Promise<Float32Array | null> =>
      linearBackward(dy, T, p.linears[m], lora[m] ?? null, tape.lora[m] ?? null, grads.get(modulePath(l, m)) ?? null, wantDx, accumulate);
    const needAttention = needDx || ATTENTION.some((m) => lora[m] !== undefined);
    const needGateUp = needAttention || lora.gate_proj !== undefined || lora.up_proj !== undefined;

    const dAct = await back('down_proj', dOut, needGateUp);
    if (dAct === null) return null;
    const { dGate, dUp } = await siluMulBackward(dAct, tape.gate, tape.up);
    const dn2Gate = await back('gate_proj', dGate, needAttention);
    const dn2 = await back('up_proj', dUp, needAttention, dn2Gate);
    if (dn2 === null) return null;
    rmsNormBackwardAdd(dn2, tape.h, p.postNorm, tape.inv2, T, dOut);
    const dh = dOut;

    const needQkv = needDx || lora.q_proj !== undefined || lora.k_proj !== undefined || lora.v_proj !== undefined;
    const dAttn = await back('o_proj', dh, needQkv);
    if (dAttn === null) return null;
    const { dq, dk, dv } = await attention.backward(l, dAttn, T);
    let dn1 = await back('q_proj', dq, needDx);
    dn1 = await back('k_proj', dk, needDx, dn1);
    dn1 = await back('v_proj', dv, needDx, dn1);
    if (dn1 === null) return null;
    rmsNormBackwardAdd(dn1, tape.x, p.inputNorm, tape.inv1, T, dh);
    return dh;
  }
}
