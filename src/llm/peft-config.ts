/**
 * adapter_config.json checked against an allow-list. Every key PEFT's LoraConfig writes (up to PEFT 0.21)
 * is classified: what the adapter is (metadata), which modules carry it (the tensors say so, and are
 * checked against the base model), what aiduck computes (r, alpha, rsLoRA, rank and alpha patterns),
 * what only training uses, and the variants aiduck does not implement, accepted only while off. A key
 * aiduck does not know is refused unless it holds no value (null, false, an empty list or object), so a
 * variant a later PEFT release adds is refused rather than applied as plain LoRA.
 */
import { SqlError } from '../errors/sql-error.js';

export interface PeftSettings {
  r: number;
  alpha: number;
  dropout: number;
  useRslora: boolean;
  rankPattern: Record<string, number>;
  alphaPattern: Record<string, number>;
  /** PEFT ties the adapters of tied embedding and output layers (checked against the base model later). */
  ensureWeightTying: boolean;
}

const PLAIN_LORA = 'aiduck loads plain LoRA (with rsLoRA, uniform rank and alpha) on the decoder layers\' linear modules, lm_head and embed_tokens';

export const unsupportedAdapter = (what: string, hint = PLAIN_LORA): SqlError =>
  new SqlError('0A000', `this LoRA adapter uses ${what}, which aiduck does not support`, hint);

const isUnset = (v: unknown): boolean =>
  v === undefined || v === null || v === false || (Array.isArray(v) && v.length === 0) || (typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 0);

type Rule = (value: unknown) => void;

const accepted: Rule = () => undefined;
/** A variant aiduck does not compute: refused unless it is off. */
const offOnly = (what: string, hint?: string): Rule => (value) => {
  if (!isUnset(value)) throw unsupportedAdapter(what, hint);
};

/** Initializations that change the base model's weights (the adapter is only valid on the modified base). */
const MUTATING_INIT = /^(pissa|olora|corda|loftq|lora_ga)/i;

const RULES: Record<string, Rule> = {
  // What the adapter is and where it came from (peft_type and task_type are checked first).
  peft_type: accepted,
  task_type: accepted,
  base_model_name_or_path: accepted,
  revision: accepted,
  inference_mode: accepted,
  auto_mapping: accepted,
  peft_version: accepted,
  // Which modules carry an adapter: the adapter's tensors say it, and each is checked against the base model.
  target_modules: accepted,
  exclude_modules: accepted,
  layers_to_transform: accepted,
  layers_pattern: accepted,
  // What aiduck computes: read by parsePeftConfig.
  r: accepted,
  lora_alpha: accepted,
  use_rslora: accepted,
  rank_pattern: accepted,
  alpha_pattern: accepted,
  ensure_weight_tying: accepted,
  // Training only: no effect on what a trained adapter computes.
  lora_dropout: accepted,
  runtime_config: accepted,
  megatron_core: accepted,
  loftq_config: accepted,
  eva_config: accepted,
  corda_config: accepted,
  lora_ga_config: accepted,
  velora_config: accepted,
  qalora_group_size: accepted,
  init_lora_weights: (value) => {
    if (typeof value === 'string' && MUTATING_INIT.test(value)) {
      throw unsupportedAdapter(`a base model modified by its initialization (init_lora_weights "${value}")`,
        'convert it to plain LoRA with PEFT: save_pretrained(..., path_initial_model_for_weight_conversion=...)');
    }
  },
  // Variants aiduck does not compute.
  use_dora: offOnly('DoRA (use_dora)'),
  bias: (value) => {
    if (value !== undefined && value !== null && value !== 'none') throw unsupportedAdapter(`trained biases (bias "${String(value)}")`);
  },
  lora_bias: offOnly('LoRA biases (lora_bias)'),
  fan_in_fan_out: offOnly('transposed weights (fan_in_fan_out, for GPT-2 style Conv1D layers)'),
  modules_to_save: (value) => offOnly(`fully trained extra modules (modules_to_save: ${JSON.stringify(value)})`,
    'train LoRA on those modules instead (target_modules can name lm_head and embed_tokens), or merge the adapter into the model with PEFT and register the merged folder')(value),
  trainable_token_indices: offOnly('trained token embeddings (trainable_token_indices)', 'train LoRA on embed_tokens instead, or merge the adapter with PEFT and register the merged folder'),
  target_parameters: offOnly('LoRA on raw parameters (target_parameters)'),
  layer_replication: offOnly('layer replication (layer_replication)'),
  use_qalora: offOnly('QALoRA (use_qalora)'),
  alora_invocation_tokens: offOnly('activated LoRA (aLoRA: alora_invocation_tokens), which applies the adapter only from its invocation tokens on',
    'serve it with a runtime that implements aLoRA, or train a plain LoRA adapter'),
  megatron_config: offOnly('Megatron parallel layers (megatron_config)'),
  monteclora_config: offOnly('Monte Carlo LoRA (monteclora_config)'),
  use_bdlora: offOnly('block-diagonal LoRA (use_bdlora)'),
  arrow_config: offOnly('Arrow routing between LoRA modules (arrow_config)'),
};

function numberPattern(value: unknown, key: string): Record<string, number> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new SqlError('22P02', `adapter_config.json: ${key} must be an object`);
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new SqlError('22P02', `adapter_config.json: ${key}["${k}"] must be a positive number`);
    out[k] = v;
  }
  return out;
}

/** Checks adapter_config.json: refuses what would change the computation, returns what defines it. */
export function parsePeftConfig(json: unknown): PeftSettings {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new SqlError('22P02', 'adapter_config.json is not a JSON object');
  const j = json as Record<string, unknown>;
  if (j.peft_type !== 'LORA') {
    throw new SqlError('0A000', `adapter_config.json has peft_type ${JSON.stringify(j.peft_type ?? null)}; only LoRA adapters (peft_type "LORA") can be loaded`,
      'merge the adapter into its base with PEFT (merge_and_unload) and register the merged folder');
  }
  if (j.task_type !== undefined && j.task_type !== null && j.task_type !== 'CAUSAL_LM') {
    throw new SqlError('0A000', `adapter_config.json has task_type "${String(j.task_type)}"; only causal language model adapters (CAUSAL_LM) can be loaded`);
  }
  for (const [key, value] of Object.entries(j)) {
    const rule = RULES[key];
    if (rule !== undefined) rule(value);
    else if (!isUnset(value)) {
      throw unsupportedAdapter(`the setting ${key} = ${JSON.stringify(value).slice(0, 80)}, unknown to aiduck`,
        'a PEFT setting aiduck does not know could change what the adapter computes; merge the adapter into its base with PEFT (merge_and_unload) and register the merged folder');
    }
  }
  const r = j.r ?? 8;
  if (typeof r !== 'number' || !Number.isInteger(r) || r <= 0) throw new SqlError('22P02', `adapter_config.json: r must be a positive integer, got ${JSON.stringify(r)}`);
  const alpha = j.lora_alpha ?? 8;
  if (typeof alpha !== 'number' || !Number.isFinite(alpha)) throw new SqlError('22P02', `adapter_config.json: lora_alpha must be a number, got ${JSON.stringify(alpha)}`);
  const dropout = j.lora_dropout ?? 0;
  if (typeof dropout !== 'number' || !(dropout >= 0 && dropout < 1)) throw new SqlError('22P02', `adapter_config.json: lora_dropout must be a number in [0, 1), got ${JSON.stringify(dropout)}`);
  return {
    r,
    alpha,
    dropout,
    useRslora: j.use_rslora === true,
    rankPattern: numberPattern(j.rank_pattern, 'rank_pattern'),
    alphaPattern: numberPattern(j.alpha_pattern, 'alpha_pattern'),
    ensureWeightTying: j.ensure_weight_tying === true,
  };
}
