/**
 * A decoder's rotary-embedding settings from config.json, in both layouts Hugging Face writes:
 *
 *   transformers 4:  "rope_theta": 500000.0, "rope_scaling": {"rope_type": "llama3", "factor": 8.0, ...}
 *   transformers 5:  "rope_parameters": {"rope_type": "llama3", "rope_theta": 500000.0, "factor": 8.0, ...}
 *
 * read with transformers 5's precedence: a non-null `rope_scaling` is taken over `rope_parameters`, θ
 * inside the dict over the top-level `rope_theta`, `rope_type` over the legacy `type`. Each rope type has
 * an allow-list of keys: a key aiduck does not know, a type it does not implement, per-layer parameters
 * or partial rotary embeddings are refused (0A000) rather than computed as something else.
 */
import { SqlError } from '../errors/sql-error.js';

export type RopeType = 'default' | 'linear' | 'llama3';

export interface RopeScaling {
  /** 'default' (none), 'linear' or 'llama3'. */
  type: RopeType;
  factor: number;
  lowFreqFactor: number;
  highFreqFactor: number;
  originalMaxPositionEmbeddings: number;
}

export interface RopeSettings {
  theta: number;
  /** null when the frequencies are not rescaled. */
  scaling: RopeScaling | null;
}

const DEFAULT_THETA = 10000;

/** Keys every rope type may carry; `partial_rotary_factor` is accepted only as 1 (checked apart). */
const COMMON_KEYS = ['rope_type', 'type', 'rope_theta', 'partial_rotary_factor'];

/** The keys each implemented type reads, beyond the common ones. */
const TYPE_KEYS: Record<string, readonly string[]> = {
  default: [],
  // Dynamic NTK only changes the frequencies for sequences longer than max_position_embeddings, which
  // aiduck refuses; up to there transformers computes exactly the default frequencies.
  dynamic: ['factor'],
  linear: ['factor'],
  llama3: ['factor', 'low_freq_factor', 'high_freq_factor', 'original_max_position_embeddings'],
};

const HINT = 'aiduck computes rope types default, linear, dynamic and llama3 (Llama, Qwen2, SmolLM, Mistral); register a model whose config.json uses one of them';

const unsupported = (what: string, hint = HINT): SqlError => new SqlError('0A000', `config.json: ${what} is not supported`, hint);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function positiveNumber(dict: Record<string, unknown>, key: string, fallback: number | null, where: string): number {
  const v = dict[key] ?? fallback;
  if (v === null) throw new SqlError('22023', `config.json: ${where} has no "${key}"`, `rope type "${String(dict.rope_type ?? dict.type)}" needs it`);
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new SqlError('22023', `config.json: ${where}.${key} must be a positive number, got ${JSON.stringify(v)}`);
  return v;
}

/** Reads and checks the rope settings of a config.json object. */
export function parseRopeSettings(j: Readonly<Record<string, unknown>>): RopeSettings {
  const legacy = j.rope_scaling;
  const current = j.rope_parameters;
  if (legacy !== undefined && legacy !== null && !isObject(legacy)) throw new SqlError('22023', 'config.json: rope_scaling must be an object or null');
  if (current !== undefined && current !== null && !isObject(current)) throw new SqlError('22023', 'config.json: rope_parameters must be an object or null');
  const where = isObject(legacy) ? 'rope_scaling' : 'rope_parameters';
  const dict: Record<string, unknown> = isObject(legacy) ? legacy : isObject(current) ? current : {};
  const values = Object.values(dict);
  if (values.length > 0 && values.every(isObject)) {
    throw unsupported(`${where} per layer type (${Object.keys(dict).join(', ')}, as hybrid-attention models use)`);
  }
  const type = String(dict.rope_type ?? dict.type ?? 'default');
  const allowed = TYPE_KEYS[type];
  if (allowed === undefined) throw unsupported(`rope type "${type}" (${where}.rope_type)`);
  for (const [key, value] of Object.entries(dict)) {
    if (value === null || COMMON_KEYS.includes(key) || allowed.includes(key)) continue;
    throw unsupported(`${where}.${key} (with rope type "${type}")`, `aiduck reads ${[...COMMON_KEYS, ...allowed].join(', ')} for rope type "${type}"; a key it does not know could change the computation`);
  }
  const partial = dict.partial_rotary_factor ?? j.partial_rotary_factor;
  if (partial !== undefined && partial !== null && partial !== 1) throw unsupported(`partial rotary embeddings (partial_rotary_factor ${JSON.stringify(partial)})`);
  const theta = positiveNumber({ rope_theta: dict.rope_theta ?? j.rope_theta }, 'rope_theta', DEFAULT_THETA, dict.rope_theta === undefined ? 'config' : where);
  if (type === 'default' || type === 'dynamic') return { theta, scaling: null };
  const factor = positiveNumber(dict, 'factor', null, where);
  if (type === 'linear') return { theta, scaling: { type, factor, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 0 } };
  const original = dict.original_max_position_embeddings ?? j.original_max_position_embeddings ?? j.max_position_embeddings;
  return {
    theta,
    scaling: {
      type: 'llama3',
      factor,
      lowFreqFactor: positiveNumber(dict, 'low_freq_factor', 1, where),
      highFreqFactor: positiveNumber(dict, 'high_freq_factor', 4, where),
      originalMaxPositionEmbeddings: positiveNumber({ original_max_position_embeddings: original }, 'original_max_position_embeddings', 8192, where),
    },
  };
}
