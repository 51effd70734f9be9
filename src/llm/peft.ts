/**
 * LoRA adapters in Hugging Face PEFT's on-disk format, so that adapters trained here load in Python
 * (`PeftModel.from_pretrained(base, dir)`) and adapters trained with PEFT, TRL, axolotl or unsloth load here:
 *
 *   adapter_config.json        peft_type "LORA", r, lora_alpha, target_modules, ...
 *   adapter_model.safetensors  base_model.model.model.layers.{i}.self_attn.q_proj.lora_A.weight  [r, in]
 *                              base_model.model.model.layers.{i}.self_attn.q_proj.lora_B.weight  [out, r]
 *
 * Only plain LoRA on the decoder layers' linear modules is accepted: variants that change the computation
 * (DoRA, biases, extra trained modules, per-module ranks...) are refused rather than silently ignored.
 */
import { existsSync } from 'node:fs';
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { SqlError } from '../errors/sql-error.js';
import { LINEAR_MODULES, linearShape, modulePath, type LinearModule, type LlamaConfig, type Tensor, type WeightMap } from './llama-config.js';
import type { LoraAdapter, LoraPair, LoraSpec } from './lora-types.js';
import { parseSafetensors, writeSafetensors } from './safetensors.js';

export const ADAPTER_CONFIG_FILE = 'adapter_config.json';
export const ADAPTER_WEIGHTS_FILE = 'adapter_model.safetensors';
const PICKLED_WEIGHTS_FILE = 'adapter_model.bin';

/** PEFT prefixes the model's own parameter names with the PeftModel → LoraModel wrappers. */
const PEFT_PREFIX = 'base_model.model.';

export function peftTensorName(path: string, matrix: 'A' | 'B'): string {
  return `${PEFT_PREFIX}${path}.lora_${matrix}.weight`;
}

const MODULE_PATH = /^model\.layers\.(\d+)\.(self_attn|mlp)\.([a-z_]+)$/;

function parseModulePath(path: string): { layer: number; module: LinearModule } | null {
  const m = MODULE_PATH.exec(path);
  if (!m) return null;
  const layer = Number(m[1]);
  const module = m[3] as LinearModule;
  if (!(LINEAR_MODULES as readonly string[]).includes(module) || modulePath(layer, module) !== path) return null;
  return { layer, module };
}

function layerOrder(a: string, b: string): number {
  const pa = parseModulePath(a);
  const pb = parseModulePath(b);
  if (!pa || !pb) return a < b ? -1 : 1;
  return pa.layer - pb.layer || LINEAR_MODULES.indexOf(pa.module) - LINEAR_MODULES.indexOf(pb.module);
}

// ---------------------------------------------------------------------------------------------------
// Writing

/**
 * adapter_config.json as PEFT writes it for a plain LoRA adapter. Only keys that PEFT has known since 0.10
 * are written: PEFT before 0.14 refuses configs with keys it does not know.
 */
export function peftAdapterConfig(spec: LoraSpec, baseModelNameOrPath: string): Record<string, unknown> {
  return {
    alpha_pattern: {},
    auto_mapping: null,
    base_model_name_or_path: baseModelNameOrPath,
    bias: 'none',
    fan_in_fan_out: false,
    inference_mode: true,
    init_lora_weights: true,
    layer_replication: null,
    layers_pattern: null,
    layers_to_transform: null,
    loftq_config: {},
    lora_alpha: spec.alpha,
    lora_dropout: spec.dropout,
    megatron_config: null,
    megatron_core: 'megatron.core',
    modules_to_save: null,
    peft_type: 'LORA',
    r: spec.r,
    rank_pattern: {},
    revision: null,
    target_modules: [...new Set(spec.targetModules)].sort(),
    task_type: 'CAUSAL_LM',
    use_dora: false,
    use_rslora: false,
  };
}

async function writeFileAtomic(path: string, content: string): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  const handle = await open(tmp, 'w');
  try {
    await handle.writeFile(content);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(tmp, path);
}

function checkPair(path: string, pair: LoraPair, spec: LoraSpec): void {
  const parsed = parseModulePath(path);
  if (!parsed) throw new Error(`LoRA module key ${path} is not of the form model.layers.{i}.self_attn.q_proj`);
  if (!spec.targetModules.includes(parsed.module)) throw new Error(`LoRA module ${path} is not among target modules ${spec.targetModules.join(', ')}`);
  const [aRows, aCols] = pair.A.shape;
  const [bRows, bCols] = pair.B.shape;
  if (pair.A.shape.length !== 2 || pair.B.shape.length !== 2 || aRows !== spec.r || bCols !== spec.r || aCols === undefined || bRows === undefined) {
    throw new Error(`LoRA module ${path}: A [${pair.A.shape.join(', ')}] and B [${pair.B.shape.join(', ')}] do not have rank ${spec.r}`);
  }
}

export interface WritePeftOptions {
  /** Written as base_model_name_or_path: what PEFT loads the adapter onto by default. */
  baseModelNameOrPath: string;
  /**
   * Provenance (aiduck version, training settings...) stored in the safetensors metadata, which PEFT
   * ignores; adapter_config.json gets only PEFT's own keys so that every PEFT version reads it.
   */
  extra?: Record<string, string | number | boolean>;
}

/** Writes `adapter` into `dir` (created if needed) as a PEFT LoRA adapter; each file is replaced atomically. */
export async function writePeftAdapter(dir: string, adapter: LoraAdapter, options: WritePeftOptions): Promise<void> {
  const tensors: WeightMap = new Map();
  for (const path of [...adapter.modules.keys()].sort(layerOrder)) {
    const pair = adapter.modules.get(path);
    if (!pair) continue;
    checkPair(path, pair, adapter.spec);
    tensors.set(peftTensorName(path, 'A'), pair.A);
    tensors.set(peftTensorName(path, 'B'), pair.B);
  }
  const metadata: Record<string, string> = {};
  for (const [key, value] of Object.entries(options.extra ?? {})) metadata[key] = String(value);
  metadata.format = 'pt';
  await mkdir(dir, { recursive: true });
  await writeSafetensors(join(dir, ADAPTER_WEIGHTS_FILE), tensors, metadata);
  await writeFileAtomic(join(dir, ADAPTER_CONFIG_FILE), JSON.stringify(peftAdapterConfig(adapter.spec, options.baseModelNameOrPath), null, 2) + '\n');
}

// ---------------------------------------------------------------------------------------------------
// Reading

const unsupported = (what: string): SqlError => new SqlError('0A000', `this LoRA adapter uses ${what}, which aiduck does not support; only plain LoRA on the decoder's linear modules can be loaded`);

interface PeftSettings {
  r: number;
  alpha: number;
  dropout: number;
  useRslora: boolean;
  rankPattern: Record<string, number>;
  alphaPattern: Record<string, number>;
}

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

const isSet = (v: unknown): boolean => v !== undefined && v !== null && v !== false && !(Array.isArray(v) && v.length === 0);

/** Checks adapter_config.json: refuses what would change the computation, returns what defines it. */
export function parsePeftConfig(json: unknown): PeftSettings {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new SqlError('22P02', 'adapter_config.json is not a JSON object');
  const j = json as Record<string, unknown>;
  if (j.peft_type !== 'LORA') throw new SqlError('0A000', `adapter_config.json has peft_type ${JSON.stringify(j.peft_type ?? null)}; only LoRA adapters (peft_type "LORA") can be loaded`);
  if (j.task_type !== undefined && j.task_type !== null && j.task_type !== 'CAUSAL_LM') {
    throw new SqlError('0A000', `adapter_config.json has task_type "${String(j.task_type)}"; only causal language model adapters (CAUSAL_LM) can be loaded`);
  }
  if (j.use_dora === true) throw unsupported('DoRA (use_dora)');
  if (j.bias !== undefined && j.bias !== 'none') throw unsupported(`trained biases (bias "${String(j.bias)}")`);
  if (j.lora_bias === true) throw unsupported('LoRA biases (lora_bias)');
  if (j.fan_in_fan_out === true) throw unsupported('transposed weights (fan_in_fan_out, for GPT-2 style Conv1D layers)');
  if (isSet(j.modules_to_save)) throw unsupported(`fully trained extra modules (modules_to_save: ${JSON.stringify(j.modules_to_save)})`);
  if (isSet(j.trainable_token_indices)) throw unsupported('trained token embeddings (trainable_token_indices)');
  if (isSet(j.target_parameters)) throw unsupported('LoRA on raw parameters (target_parameters)');
  if (isSet(j.layer_replication)) throw unsupported('layer replication (layer_replication)');
  if (j.use_qalora === true) throw unsupported('QALoRA (use_qalora)');
  const init = j.init_lora_weights;
  if (typeof init === 'string' && /^(pissa|olora|corda|loftq)/i.test(init)) {
    throw unsupported(`a base model modified by its initialization (init_lora_weights "${init}"); convert it to plain LoRA with PEFT (save_pretrained with path_initial_model_for_weight_conversion)`);
  }
  if (Array.isArray(j.target_modules)) {
    const bad = j.target_modules.filter((t) => t === 'lm_head' || t === 'embed_tokens');
    if (bad.length > 0) throw unsupported(`LoRA on ${bad.join(' and ')}`);
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
  };
}

/** The value of the first pattern key matching the module path (as PEFT matches them: a dotted suffix), else `fallback`. */
function patternValue(pattern: Record<string, number>, path: string, fallback: number): number {
  for (const [key, value] of Object.entries(pattern)) {
    let matches: boolean;
    try {
      matches = new RegExp(`^(?:.*\\.)?(?:${key})$`).test(path);
    } catch {
      matches = path === key || path.endsWith(`.${key}`);
    }
    if (matches) return value;
  }
  return fallback;
}

const LORA_TENSOR = /^(?:base_model\.model\.)?(model\.layers\.\d+\.(?:self_attn|mlp)\.[a-z_]+)\.lora_([AB])(?:\.default)?\.weight$/;

/** Sorts the adapter's tensors into A/B pairs by module path, refusing anything that is not plain linear LoRA. */
function pairTensors(tensors: WeightMap, config: LlamaConfig): Map<string, { A?: Tensor; B?: Tensor; names: string[] }> {
  const pairs = new Map<string, { A?: Tensor; B?: Tensor; names: string[] }>();
  for (const [name, tensor] of tensors) {
    if (name.includes('lora_magnitude_vector')) throw unsupported('DoRA (lora_magnitude_vector tensors)');
    if (/lora_embedding_[AB]|embed_tokens|lm_head/.test(name)) throw unsupported(`LoRA on the embeddings or the output layer (tensor ${name})`);
    if (name.includes('modules_to_save')) throw unsupported(`fully trained extra modules (tensor ${name})`);
    if (/\.lora_[AB](\.[^.]+)?\.bias$/.test(name)) throw unsupported(`LoRA biases (tensor ${name})`);
    const m = LORA_TENSOR.exec(name);
    const path = m?.[1];
    const matrix = m?.[2] as 'A' | 'B' | undefined;
    const parsed = path === undefined ? null : parseModulePath(path);
    if (path === undefined || matrix === undefined || parsed === null) {
      throw new SqlError('22P02', `adapter_model.safetensors: unexpected tensor ${name}; a LoRA adapter for a Llama-family model holds tensors like ${peftTensorName(modulePath(0, 'q_proj'), 'A')}`);
    }
    if (parsed.layer >= config.numLayers) {
      throw new SqlError('22023', `adapter tensor ${name} is for layer ${parsed.layer}, but the base model has ${config.numLayers} layers; the adapter was trained for a different base model`);
    }
    let entry = pairs.get(path);
    if (!entry) pairs.set(path, (entry = { names: [] }));
    if (entry[matrix]) throw new SqlError('22P02', `adapter_model.safetensors holds lora_${matrix} of ${path} twice (${[...entry.names, name].join(', ')})`);
    entry[matrix] = tensor;
    entry.names.push(name);
  }
  return pairs;
}

/**
 * Builds a LoraAdapter from adapter_config.json's content and the adapter's tensors, checking every tensor
 * against the base model. rsLoRA scales by alpha/√r instead of alpha/r; it is represented by the effective
 * alpha = lora_alpha·√r, so loraScale (alpha/r) stays the one formula.
 */
export function parsePeftAdapter(configJson: unknown, tensors: WeightMap, config: LlamaConfig): LoraAdapter {
  const settings = parsePeftConfig(configJson);
  const pairs = pairTensors(tensors, config);
  if (pairs.size === 0) throw new SqlError('22P02', 'adapter_model.safetensors holds no LoRA tensors');
  const modules = new Map<string, LoraPair>();
  const ranks = new Set<number>();
  const alphas = new Set<number>();
  for (const path of [...pairs.keys()].sort(layerOrder)) {
    const entry = pairs.get(path);
    const parsed = parseModulePath(path);
    if (!entry || !parsed) continue;
    if (!entry.A || !entry.B) throw new SqlError('22P02', `adapter_model.safetensors has lora_${entry.A ? 'A' : 'B'} but no lora_${entry.A ? 'B' : 'A'} for ${path}`);
    const [out, inp] = linearShape(config, parsed.module);
    const rank = patternValue(settings.rankPattern, path, settings.r);
    const fits = (t: Tensor, shape: readonly [number, number]): boolean => t.shape.length === 2 && t.shape[0] === shape[0] && t.shape[1] === shape[1];
    for (const [matrix, t, shape] of [['A', entry.A, [rank, inp]], ['B', entry.B, [out, rank]]] as const) {
      if (!fits(t, shape)) {
        throw new SqlError(
          '22023',
          `adapter tensor lora_${matrix} of ${path} has shape [${t.shape.join(', ')}], but rank ${rank} on this base model needs [${shape.join(', ')}]; the adapter was trained for a different base model, or its r does not match its tensors`,
        );
      }
    }
    ranks.add(rank);
    alphas.add(patternValue(settings.alphaPattern, path, settings.alpha));
    modules.set(path, { A: entry.A, B: entry.B });
  }
  const [r] = ranks;
  const [alpha] = alphas;
  if (ranks.size > 1 || r === undefined) throw unsupported(`different ranks per module (rank_pattern: ${[...ranks].join(', ')})`);
  if (alphas.size > 1 || alpha === undefined) throw unsupported(`different alphas per module (alpha_pattern: ${[...alphas].join(', ')})`);
  const present = new Set([...modules.keys()].map((p) => parseModulePath(p)?.module));
  const spec: LoraSpec = {
    r,
    alpha: settings.useRslora ? alpha * Math.sqrt(r) : alpha,
    dropout: settings.dropout,
    targetModules: LINEAR_MODULES.filter((m) => present.has(m)),
  };
  return { spec, modules };
}

async function readAdapterFiles(dir: string): Promise<{ configJson: unknown; weights: Uint8Array }> {
  const configPath = join(dir, ADAPTER_CONFIG_FILE);
  if (!existsSync(configPath)) {
    throw new SqlError('58P01', `${dir} has no ${ADAPTER_CONFIG_FILE}; a PEFT LoRA adapter folder holds ${ADAPTER_CONFIG_FILE} and ${ADAPTER_WEIGHTS_FILE}`);
  }
  let configJson: unknown;
  try {
    configJson = JSON.parse(await readFile(configPath, 'utf8'));
  } catch (e) {
    throw new SqlError('22P02', `${configPath} is not valid JSON: ${(e as Error).message}`);
  }
  const weightsPath = join(dir, ADAPTER_WEIGHTS_FILE);
  if (!existsSync(weightsPath)) {
    if (existsSync(join(dir, PICKLED_WEIGHTS_FILE))) {
      throw new SqlError(
        '0A000',
        `${dir} holds ${PICKLED_WEIGHTS_FILE} (PyTorch pickle), which aiduck does not read; convert it to safetensors, e.g. in Python: PeftModel.from_pretrained(base, dir).save_pretrained(dir, safe_serialization=True)`,
      );
    }
    throw new SqlError('58P01', `${dir} has no ${ADAPTER_WEIGHTS_FILE}`);
  }
  return { configJson, weights: await readFile(weightsPath) };
}

/** Reads a PEFT LoRA adapter folder and checks it against the base model it is to be applied to. */
export async function readPeftAdapter(dir: string, config: LlamaConfig): Promise<LoraAdapter> {
  const { configJson, weights } = await readAdapterFiles(dir);
  parsePeftConfig(configJson); // refuse unsupported variants before decoding the weights
  const adapter = parsePeftAdapter(configJson, parseSafetensors(weights).tensors, config);
  for (const [path, pair] of adapter.modules) {
    if (!pair.A.data.every(Number.isFinite) || !pair.B.data.every(Number.isFinite)) {
      throw new SqlError('22003', `the adapter's ${path} holds values that are not finite (NaN or infinity)`, 'the run that wrote it diverged; train it again with a lower learning rate');
    }
  }
  return adapter;
}

export interface PeftAdapterInfo {
  /** adapter_config.json's base_model_name_or_path, if any. */
  baseModelNameOrPath: string | null;
  /** The safetensors metadata: format "pt" and, for adapters written here, `extra`. */
  metadata: Record<string, string>;
}

/** What an adapter folder says about itself, without checking it against a base model. */
export async function readPeftAdapterInfo(dir: string): Promise<PeftAdapterInfo> {
  const { configJson, weights } = await readAdapterFiles(dir);
  const base = (configJson as { base_model_name_or_path?: unknown } | null)?.base_model_name_or_path;
  return {
    baseModelNameOrPath: typeof base === 'string' ? base : null,
    metadata: parseSafetensors(weights, () => false).metadata,
  };
}
