/**
 * LoRA adapters in Hugging Face PEFT's on-disk format, so that adapters trained here load in Python
 * (`PeftModel.from_pretrained(base, dir)`) and adapters trained with PEFT, TRL, axolotl or unsloth load here:
 *
 *   adapter_config.json        peft_type "LORA", r, lora_alpha, target_modules, ...
 *   adapter_model.safetensors  base_model.model.model.layers.{i}.self_attn.q_proj.lora_A.weight  [r, in]
 *                              base_model.model.model.layers.{i}.self_attn.q_proj.lora_B.weight  [out, r]
 *                              base_model.model.lm_head.lora_A.weight                         [r, hidden]
 *                              base_model.model.model.embed_tokens.lora_embedding_A             [r, vocab]
 *                              base_model.model.model.embed_tokens.lora_embedding_B             [hidden, r]
 *
 * Plain LoRA on the decoder layers' linear modules, the output layer and the token embedding is
 * accepted; adapter_config.json goes through an allow-list (peft-config.ts), and tensors of variants
 * that change the computation (DoRA, biases, fully trained modules...) are refused rather than ignored.
 */
import { existsSync } from 'node:fs';
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { SqlError } from '../errors/sql-error.js';
import type { LlamaConfig, Tensor, WeightMap } from './llama-config.js';
import { EMBED_PATH, HEAD_PATH, LORA_TARGETS, loraPath, loraSites, parseLoraPath, pathOrder } from './lora-targets.js';
import type { LoraAdapter, LoraPair, LoraSpec } from './lora-types.js';
import { parsePeftConfig, unsupportedAdapter } from './peft-config.js';
import { parseSafetensors, writeSafetensors } from './safetensors.js';

export { parsePeftConfig } from './peft-config.js';

export const ADAPTER_CONFIG_FILE = 'adapter_config.json';
export const ADAPTER_WEIGHTS_FILE = 'adapter_model.safetensors';
const PICKLED_WEIGHTS_FILE = 'adapter_model.bin';

/** PEFT prefixes the model's own parameter names with the PeftModel → LoraModel wrappers. */
const PEFT_PREFIX = 'base_model.model.';

/** A pair's tensor name as PEFT saves it: lora_A/lora_B weights, or the embedding's lora_embedding_A/B parameters. */
export function peftTensorName(path: string, matrix: 'A' | 'B'): string {
  return path === EMBED_PATH ? `${PEFT_PREFIX}${path}.lora_embedding_${matrix}` : `${PEFT_PREFIX}${path}.lora_${matrix}.weight`;
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
  const parsed = parseLoraPath(path);
  if (!parsed) throw new Error(`LoRA module key ${path} is not of the form model.layers.{i}.self_attn.q_proj, lm_head or model.embed_tokens`);
  if (!spec.targetModules.includes(parsed.target)) throw new Error(`LoRA module ${path} is not among target modules ${spec.targetModules.join(', ')}`);
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
  for (const path of [...adapter.modules.keys()].sort(pathOrder)) {
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

const LINEAR_TENSOR = /^(?:base_model\.model\.)?(model\.layers\.\d+\.(?:self_attn|mlp)\.[a-z_]+|lm_head)\.lora_([AB])(?:\.default)?\.weight$/;
const EMBEDDING_TENSOR = /^(?:base_model\.model\.)?(model\.embed_tokens)\.lora_embedding_([AB])(?:\.default)?$/;

interface TensorPair {
  A?: Tensor;
  B?: Tensor;
  names: string[];
}

/** Sorts the adapter's tensors into A/B pairs by module path, refusing anything that is not plain LoRA. */
function pairTensors(tensors: WeightMap, config: LlamaConfig): Map<string, TensorPair> {
  const pairs = new Map<string, TensorPair>();
  for (const [name, tensor] of tensors) {
    if (name.includes('lora_magnitude_vector')) throw unsupportedAdapter('DoRA (lora_magnitude_vector tensors)');
    if (name.includes('modules_to_save')) throw unsupportedAdapter(`fully trained extra modules (tensor ${name})`);
    if (name.includes('trainable_tokens')) throw unsupportedAdapter(`trained token embeddings (tensor ${name})`);
    if (/\.lora_[AB](\.[^.]+)?\.bias$/.test(name)) throw unsupportedAdapter(`LoRA biases (tensor ${name})`);
    const m = LINEAR_TENSOR.exec(name) ?? EMBEDDING_TENSOR.exec(name);
    const path = m?.[1];
    const matrix = m?.[2] as 'A' | 'B' | undefined;
    const parsed = path === undefined ? null : parseLoraPath(path);
    if (path === undefined || matrix === undefined || parsed === null) {
      throw new SqlError('22P02', `adapter_model.safetensors: unexpected tensor ${name}; a LoRA adapter for a Llama-family model holds tensors like ${peftTensorName(loraPath('q_proj', 0), 'A')}`);
    }
    if (parsed.layer !== null && parsed.layer >= config.numLayers) {
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
  const sites = loraSites(config);
  const modules = new Map<string, LoraPair>();
  const ranks = new Set<number>();
  const alphas = new Set<number>();
  for (const path of [...pairs.keys()].sort(pathOrder)) {
    const entry = pairs.get(path);
    const site = sites.get(path);
    if (!entry || !site) continue;
    if (!entry.A || !entry.B) throw new SqlError('22P02', `adapter_model.safetensors has lora_${entry.A ? 'A' : 'B'} but no lora_${entry.A ? 'B' : 'A'} for ${path}`);
    const rank = patternValue(settings.rankPattern, path, settings.r);
    const fits = (t: Tensor, shape: readonly [number, number]): boolean => t.shape.length === 2 && t.shape[0] === shape[0] && t.shape[1] === shape[1];
    for (const [matrix, t, shape] of [['A', entry.A, [rank, site.in]], ['B', entry.B, [site.out, rank]]] as const) {
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
  if (ranks.size > 1 || r === undefined) throw unsupportedAdapter(`different ranks per module (rank_pattern: ${[...ranks].join(', ')})`);
  if (alphas.size > 1 || alpha === undefined) throw unsupportedAdapter(`different alphas per module (alpha_pattern: ${[...alphas].join(', ')})`);
  const tiedEdit = modules.has(HEAD_PATH) || modules.has(EMBED_PATH);
  if (settings.ensureWeightTying && config.tieWordEmbeddings && tiedEdit) {
    throw unsupportedAdapter('adapters tied between the tied embedding and output layer (ensure_weight_tying)',
      'merge the adapter into its base with PEFT (merge_and_unload) and register the merged folder');
  }
  const present = new Set([...modules.keys()].map((p) => parseLoraPath(p)?.target));
  const spec: LoraSpec = {
    r,
    alpha: settings.useRslora ? alpha * Math.sqrt(r) : alpha,
    dropout: settings.dropout,
    targetModules: LORA_TARGETS.filter((m) => present.has(m)),
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
