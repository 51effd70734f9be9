/**
 * The shape of a Llama-family decoder (Llama, Qwen2, SmolLM, Mistral) as its Hugging Face config.json
 * describes it, and the tensors that hold its weights. Everything in src/llm works from these types.
 */
import { SqlError } from '../errors/sql-error.js';
import { parseRopeSettings, type RopeScaling } from './rope-parameters.js';

export type { RopeScaling } from './rope-parameters.js';

export interface LlamaConfig {
  /** config.json's `architectures[0]`, e.g. LlamaForCausalLM. */
  architecture: string;
  /** config.json's `model_type`: llama, qwen2, mistral. */
  modelType: string;
  vocabSize: number;
  hiddenSize: number;
  intermediateSize: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  rmsNormEps: number;
  ropeTheta: number;
  ropeScaling: RopeScaling | null;
  maxPositionEmbeddings: number;
  tieWordEmbeddings: boolean;
  /** q/k/v projections carry a bias (Qwen2 always; Llama when attention_bias is set). */
  qkvBias: boolean;
  /** o_proj carries a bias (Llama's attention_bias). */
  oBias: boolean;
  /** gate/up/down projections carry a bias (Llama's mlp_bias). */
  mlpBias: boolean;
  bosTokenId: number | null;
  eosTokenIds: number[];
}

/** A dense float32 tensor in row-major order. */
export interface Tensor {
  shape: number[];
  data: Float32Array;
}

/** Weights by their Hugging Face names: `model.embed_tokens.weight`, `model.layers.0.self_attn.q_proj.weight`, ... */
export type WeightMap = Map<string, Tensor>;

/** The linear modules of a decoder layer, by the names PEFT's target_modules uses. */
export const ATTENTION_MODULES = ['q_proj', 'k_proj', 'v_proj', 'o_proj'] as const;
export const MLP_MODULES = ['gate_proj', 'up_proj', 'down_proj'] as const;
export const LINEAR_MODULES = [...ATTENTION_MODULES, ...MLP_MODULES] as const;
export type LinearModule = (typeof LINEAR_MODULES)[number];

/** `model.layers.{layer}.self_attn.q_proj` or `model.layers.{layer}.mlp.up_proj`. */
export function modulePath(layer: number, module: LinearModule): string {
  const block = (ATTENTION_MODULES as readonly string[]).includes(module) ? 'self_attn' : 'mlp';
  return `model.layers.${layer}.${block}.${module}`;
}

/** [out, in] of a linear module, as its weight is stored (y = x Wᵀ). */
export function linearShape(c: LlamaConfig, module: LinearModule): [number, number] {
  const q = c.numHeads * c.headDim;
  const kv = c.numKvHeads * c.headDim;
  switch (module) {
    case 'q_proj': return [q, c.hiddenSize];
    case 'k_proj': case 'v_proj': return [kv, c.hiddenSize];
    case 'o_proj': return [c.hiddenSize, q];
    case 'gate_proj': case 'up_proj': return [c.intermediateSize, c.hiddenSize];
    case 'down_proj': return [c.hiddenSize, c.intermediateSize];
  }
}

export function hasBias(c: LlamaConfig, module: LinearModule): boolean {
  if (module === 'o_proj') return c.oBias;
  if ((ATTENTION_MODULES as readonly string[]).includes(module)) return c.qkvBias;
  return c.mlpBias;
}

const SUPPORTED_TYPES = ['llama', 'qwen2', 'mistral'];

/** Reads config.json of a Llama-family causal LM; anything else is refused with a message that says why. */
export function parseLlamaConfig(json: unknown): LlamaConfig {
  if (typeof json !== 'object' || json === null) throw new SqlError('22023', 'config.json is not a JSON object');
  const j = json as Record<string, unknown>;
  const modelType = String(j.model_type ?? '');
  const architecture = Array.isArray(j.architectures) ? String(j.architectures[0] ?? '') : '';
  if (!SUPPORTED_TYPES.includes(modelType)) {
    throw new SqlError('0A000', `model_type "${modelType}" is not supported for LoRA training and local generation; supported: ${SUPPORTED_TYPES.join(', ')} (Llama-family decoders)`);
  }
  const num = (key: string, fallback?: number): number => {
    const v = j[key] ?? fallback;
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new SqlError('22023', `config.json has no numeric "${key}"`);
    return v;
  };
  const hidden = num('hidden_size');
  const heads = num('num_attention_heads');
  const activation = String(j.hidden_act ?? 'silu');
  if (activation !== 'silu') throw new SqlError('0A000', `hidden_act "${activation}" is not supported (only silu)`);
  const eos = j.eos_token_id;
  const rope = parseRopeSettings(j);
  const config: LlamaConfig = {
    architecture,
    modelType,
    vocabSize: num('vocab_size'),
    hiddenSize: hidden,
    intermediateSize: num('intermediate_size'),
    numLayers: num('num_hidden_layers'),
    numHeads: heads,
    numKvHeads: num('num_key_value_heads', heads),
    headDim: typeof j.head_dim === 'number' ? j.head_dim : hidden / heads,
    rmsNormEps: num('rms_norm_eps', 1e-6),
    ropeTheta: rope.theta,
    ropeScaling: rope.scaling,
    maxPositionEmbeddings: num('max_position_embeddings', 2048),
    tieWordEmbeddings: j.tie_word_embeddings === true,
    qkvBias: modelType === 'qwen2' || j.attention_bias === true,
    oBias: modelType !== 'qwen2' && j.attention_bias === true,
    mlpBias: j.mlp_bias === true,
    bosTokenId: typeof j.bos_token_id === 'number' ? j.bos_token_id : null,
    eosTokenIds: Array.isArray(eos) ? eos.map(Number) : typeof eos === 'number' ? [eos] : [],
  };
  for (const [k, v] of Object.entries(config)) {
    if (typeof v === 'number' && (!Number.isInteger(v) || v <= 0) && !['rmsNormEps', 'ropeTheta'].includes(k)) {
      throw new SqlError('22023', `config.json: ${k} must be a positive integer, got ${v}`);
    }
  }
  if (config.numHeads % config.numKvHeads !== 0) throw new SqlError('22023', 'config.json: num_attention_heads must be a multiple of num_key_value_heads');
  return config;
}
