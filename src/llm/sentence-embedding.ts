/**
 * How a sentence-transformers folder turns a text into one vector, read from the files its
 * `SentenceTransformer(dir)` reads: modules.json (Transformer → Pooling → optional Normalize), the
 * Pooling module's config.json (pooling_mode_cls_token, _mean_tokens, _max_tokens, _mean_sqrt_len_tokens,
 * _weightedmean_tokens, _lasttoken, include_prompt), sentence_bert_config.json (max_seq_length,
 * do_lower_case) and config_sentence_transformers.json (the default prompt). A folder without
 * modules.json is mean-pooled and L2-normalised, as aiduck always embedded.
 *
 * Everything is an allow-list: a module aiduck does not compute (Dense, LayerNorm, StaticEmbedding...),
 * a pooling mode or a Pooling key it does not know, is refused with 0A000 rather than ignored.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SqlError } from '../errors/sql-error.js';

/** sentence-transformers' pooling modes, in the order it concatenates them. */
export const POOLING_MODES = ['cls', 'max', 'mean', 'mean_sqrt_len_tokens', 'weightedmean', 'lasttoken'] as const;
export type PoolingMode = (typeof POOLING_MODES)[number];

export interface SentenceEmbedding {
  /** The poolings whose vectors are concatenated, in POOLING_MODES order. */
  pooling: PoolingMode[];
  /** L2-normalise the pooled vector (a Normalize module). */
  normalize: boolean;
  /** Whether the prompt's tokens count in the pooling. */
  includePrompt: boolean;
  /** Put before every text (the default prompt), or null. */
  prompt: string | null;
  /** Texts are cut at this many tokens (null: the tokenizer's own limit). */
  maxSeqLength: number | null;
  /** Texts are lower-cased before tokenizing (sentence_bert_config.json's do_lower_case). */
  lowercase: boolean;
}

/** What a folder without modules.json gets: mean pooling and L2 normalisation. */
export const DEFAULT_SENTENCE_EMBEDDING: SentenceEmbedding = { pooling: ['mean'], normalize: true, includePrompt: true, prompt: null, maxSeqLength: null, lowercase: false };

const MODULES_HINT = 'ai_embed computes sentence-transformers pipelines of a Transformer, one Pooling and an optional Normalize module; register a model without other modules, or serve it behind an OpenAI-compatible endpoint (openai: source)';
const POOLING_HINT = `the pooling modes are ${POOLING_MODES.join(', ')} (1_Pooling/config.json's pooling_mode_* keys, or pooling_mode)`;

const FLAGS: Record<string, PoolingMode> = {
  pooling_mode_cls_token: 'cls',
  pooling_mode_max_tokens: 'max',
  pooling_mode_mean_tokens: 'mean',
  pooling_mode_mean_sqrt_len_tokens: 'mean_sqrt_len_tokens',
  pooling_mode_weightedmean_tokens: 'weightedmean',
  pooling_mode_lasttoken: 'lasttoken',
};
const OTHER_POOLING_KEYS = new Set(['word_embedding_dimension', 'pooling_mode', 'include_prompt']);

async function readJson(file: string, what: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as unknown;
  } catch (err) {
    throw new SqlError('22P02', `${what} cannot be read as JSON: ${(err as Error).message}`);
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The Pooling module's settings, as sentence-transformers' Pooling(**config) takes them (mean on by default). */
export function parsePoolingConfig(json: unknown, where = '1_Pooling/config.json'): Pick<SentenceEmbedding, 'pooling' | 'includePrompt'> {
  if (!isObject(json)) throw new SqlError('22P02', `${where} is not a JSON object`);
  const on = new Set<PoolingMode>(['mean']);
  for (const [key, value] of Object.entries(json)) {
    const mode = FLAGS[key];
    if (mode === undefined) {
      if (OTHER_POOLING_KEYS.has(key)) continue;
      throw new SqlError('0A000', `${where} sets "${key}", which aiduck does not know: it would pool differently than sentence-transformers`, POOLING_HINT);
    }
    if (typeof value !== 'boolean') throw new SqlError('22P02', `${where}: ${key} is ${JSON.stringify(value)}, not true or false`);
    if (value) on.add(mode);
    else on.delete(mode);
  }
  if (json.pooling_mode !== undefined && json.pooling_mode !== null) {
    // A mode given by name replaces the flags, as in Pooling's constructor.
    const named = String(json.pooling_mode).toLowerCase();
    if (!(POOLING_MODES as readonly string[]).includes(named)) {
      throw new SqlError('0A000', `${where} asks for pooling mode "${String(json.pooling_mode)}", which aiduck does not compute`, POOLING_HINT);
    }
    on.clear();
    on.add(named as PoolingMode);
  }
  if (on.size === 0) throw new SqlError('22P02', `${where} turns every pooling mode off`, POOLING_HINT);
  const include = json.include_prompt ?? true;
  if (typeof include !== 'boolean') throw new SqlError('22P02', `${where}: include_prompt is ${JSON.stringify(include)}, not true or false`);
  return { pooling: POOLING_MODES.filter((m) => on.has(m)), includePrompt: include };
}

/** The name of a module's class from modules.json's type (sentence_transformers.models.Pooling → Pooling), or null for another library's. */
const moduleClass = (type: unknown): string | null =>
  typeof type === 'string' && type.startsWith('sentence_transformers.') ? type.slice(type.lastIndexOf('.') + 1) : null;

/** Reads how a model folder makes sentence vectors (see the file comment). */
export async function readSentenceEmbedding(folder: string): Promise<SentenceEmbedding> {
  const modulesFile = join(folder, 'modules.json');
  if (!existsSync(modulesFile)) return { ...DEFAULT_SENTENCE_EMBEDDING };
  const modules = await readJson(modulesFile, 'modules.json');
  if (!Array.isArray(modules) || !modules.every(isObject)) throw new SqlError('22P02', 'modules.json is not a list of modules');
  const classes = modules.map((m) => moduleClass(m.type));
  const unknown = modules.findIndex((_, i) => !['Transformer', 'Pooling', 'Normalize'].includes(classes[i] ?? ''));
  if (unknown >= 0) throw new SqlError('0A000', `modules.json has a ${String(modules[unknown]!.type)} module, which ai_embed does not compute`, MODULES_HINT);
  const shape = classes.join(' → ');
  if (!/^Transformer → Pooling( → Normalize)?$/.test(shape)) {
    throw new SqlError('0A000', `modules.json chains ${shape}; ai_embed computes Transformer → Pooling, then optionally Normalize`, MODULES_HINT);
  }
  const transformerPath = String(modules[0]!.path ?? '');
  if (transformerPath !== '' && transformerPath !== '.') {
    throw new SqlError('0A000', `modules.json keeps the Transformer in ${transformerPath}/, not in the folder itself`, 'register that subfolder (with its tokenizer files and onnx/model.onnx) after copying modules.json and the module folders beside it');
  }
  const poolingDir = String(modules[1]!.path ?? '');
  const poolingFile = join(folder, poolingDir, 'config.json');
  if (poolingDir === '' || !existsSync(poolingFile)) {
    throw new SqlError('58P01', `modules.json names a Pooling module in "${poolingDir}", which has no config.json`, 'copy the whole sentence-transformers folder, module folders included');
  }
  const pooling = parsePoolingConfig(await readJson(poolingFile, `${poolingDir}/config.json`), `${poolingDir}/config.json`);
  const embedding: SentenceEmbedding = { ...DEFAULT_SENTENCE_EMBEDDING, ...pooling, normalize: classes.length === 3 };
  const bertConfigFile = join(folder, 'sentence_bert_config.json');
  if (existsSync(bertConfigFile)) {
    const c = await readJson(bertConfigFile, 'sentence_bert_config.json');
    if (!isObject(c)) throw new SqlError('22P02', 'sentence_bert_config.json is not a JSON object');
    if (c.max_seq_length !== undefined && c.max_seq_length !== null) {
      if (!Number.isInteger(c.max_seq_length) || Number(c.max_seq_length) < 1) throw new SqlError('22P02', `sentence_bert_config.json: max_seq_length is ${JSON.stringify(c.max_seq_length)}, not a positive integer`);
      embedding.maxSeqLength = Number(c.max_seq_length);
    }
    embedding.lowercase = c.do_lower_case === true;
  }
  const stConfigFile = join(folder, 'config_sentence_transformers.json');
  if (existsSync(stConfigFile)) {
    const c = await readJson(stConfigFile, 'config_sentence_transformers.json');
    if (!isObject(c)) throw new SqlError('22P02', 'config_sentence_transformers.json is not a JSON object');
    const name = c.default_prompt_name;
    if (name !== undefined && name !== null) {
      const prompts = isObject(c.prompts) ? c.prompts : {};
      const prompt = prompts[String(name)];
      if (typeof prompt !== 'string') throw new SqlError('22P02', `config_sentence_transformers.json's default prompt "${String(name)}" is not among its prompts`);
      embedding.prompt = prompt === '' ? null : prompt;
    }
  }
  return embedding;
}

/** The pooling as sentence-transformers names a combination: modes joined by "+" (in concatenation order). */
export const poolingName = (e: Pick<SentenceEmbedding, 'pooling'>): string => e.pooling.join('+');

/** The modes a "+"-joined name lists (refused with 0A000 when one is unknown). */
export function parsePoolingName(name: string): PoolingMode[] {
  const modes = name.split('+');
  for (const m of modes) if (!(POOLING_MODES as readonly string[]).includes(m)) throw new SqlError('0A000', `unknown pooling mode "${m}"`, POOLING_HINT);
  return POOLING_MODES.filter((m) => modes.includes(m));
}
