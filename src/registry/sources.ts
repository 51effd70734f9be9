import { existsSync, lstatSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve, sep } from 'node:path';
import { SqlError } from '../errors/sql-error.js';
import { TASKS, type ProviderKind, type Task } from '../runtime/provider.js';
import { BUILTIN_MODELS } from '../runtime/providers/builtin.js';
import { hasChatTemplate } from '../runtime/model-folders.js';

/** Where a model comes from, as register_model's `source` names it. */
export type ModelSource =
  | { kind: 'folder'; path: string }
  | { kind: 'hf'; repo: string; revision: string }
  | { kind: 'openai'; baseUrl: string }
  | { kind: 'builtin'; name: string };

/** Parses a source; a relative `file:` path is taken from `filesDir` (the data directory's files/). */
export function parseSource(source: string, filesDir: string): ModelSource {
  const s = source.trim();
  if (s.startsWith('file:')) return { kind: 'folder', path: resolve(filesDir, s.slice('file:'.length).replace(/^\/\/(?=\/)/, '')) };
  if (isAbsolute(s)) return { kind: 'folder', path: resolve(s) };
  if (s.startsWith('hf:')) {
    const m = /^hf:([\w.-]+\/[\w.-]+)(?:@([\w./-]+))?$/.exec(s);
    if (!m || m[1]!.split('/').some((part) => part.startsWith('.')) || (m[2] ?? '').split('/').some((part) => part === '..' || part === '.')) {
      throw new SqlError('22023', `invalid Hugging Face source "${s}"`, "write hf:<org>/<name> or hf:<org>/<name>@<revision>");
    }
    return { kind: 'hf', repo: m[1]!, revision: m[2] ?? 'main' };
  }
  if (s.startsWith('openai:')) {
    const url = s.slice('openai:'.length);
    if (!/^https?:\/\/[^\s]+$/.test(url)) throw new SqlError('22023', `invalid endpoint "${url}"`, 'write openai:http://host:port/v1');
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new SqlError('22023', `invalid endpoint "${url}"`, 'write openai:http://host:port/v1');
    }
    // The source is stored in ai.model_versions, which every session can read.
    if (parsed.username || parsed.password) {
      throw new SqlError('22023', 'the endpoint URL contains credentials, which would be stored in the registry for every session to read',
        "remove them from the URL and pass the key in an environment variable: api_key_env => 'AIDUCK_KEY_<NAME>'");
    }
    return { kind: 'openai', baseUrl: url.replace(/\/+$/, '') };
  }
  if (s.startsWith('builtin:')) {
    const name = s.slice('builtin:'.length);
    if (!BUILTIN_MODELS.some((b) => b.name === name)) {
      throw new SqlError('42704', `unknown builtin model "${name}"`, `the builtin models are: ${BUILTIN_MODELS.map((b) => b.name).join(', ')} (SELECT * FROM ai.builtin_models)`);
    }
    return { kind: 'builtin', name };
  }
  throw new SqlError('22023', `unsupported model source "${s}"`,
    'use an absolute folder path or file:<path>, hf:<org>/<name>[@revision], openai:<base URL> or builtin:<name>');
}

export const providerOf = (source: ModelSource): ProviderKind =>
  source.kind === 'openai' ? 'openai' : source.kind === 'builtin' ? 'builtin' : 'onnx';

/** The model_type values of the decoders aiduck serves and trains itself from safetensors. */
export const LLAMA_FAMILY: readonly string[] = ['llama', 'qwen2', 'mistral'];

/** A folder of safetensors weights (model.safetensors or a sharded index). */
export const hasSafetensors = (folder: string): boolean =>
  existsSync(join(folder, 'model.safetensors')) || existsSync(join(folder, 'model.safetensors.index.json'));

/** A PEFT adapter folder (adapter_config.json), which runs on a base model. */
export const isAdapterFolder = (folder: string): boolean => existsSync(join(folder, 'adapter_config.json'));

/**
 * Which runtime serves a local folder: ONNX graphs go to transformers.js; a Llama-family decoder
 * with only safetensors weights to aiduck's own runtime (which also trains it); an adapter runs on
 * its base.
 */
export function folderProvider(folder: string): ProviderKind {
  if (isAdapterFolder(folder)) return 'lora';
  return !existsSync(join(folder, 'onnx')) && isLlamaFolder(folder) ? 'llama' : 'onnx';
}

/** A Llama-family decoder with safetensors weights: what aiduck trains and serves itself. */
export function isLlamaFolder(folder: string): boolean {
  if (!hasSafetensors(folder)) return false;
  try {
    const config = JSON.parse(readFileSync(join(folder, 'config.json'), 'utf8')) as { model_type?: string };
    return LLAMA_FAMILY.includes(String(config.model_type));
  } catch {
    return false;
  }
}

/**
 * chat when the folder has a chat template (chat_template.jinja, as transformers 5 saves it, or
 * tokenizer_config.json's), else text-generation (a decoder served by aiduck).
 */
export function decoderTask(folder: string): Task {
  return hasChatTemplate(folder) ? 'chat' : 'text-generation';
}

/** The first symbolic link under a folder whose target is outside the given directories, if any. */
function linkLeadingOut(folder: string, roots: readonly string[]): { from: string; to: string } | null {
  const pending = [folder];
  let seen = 0;
  while (pending.length) {
    const dir = pending.pop()!;
    for (const name of readdirSync(dir)) {
      if (++seen > MAX_FOLDER_ENTRIES) return null;
      const entry = join(dir, name);
      const st = lstatSync(entry);
      if (st.isSymbolicLink()) {
        const to = realOrSelf(entry);
        if (!isInside(to, roots)) return { from: entry, to };
      } else if (st.isDirectory()) pending.push(entry);
    }
  }
  return null;
}

export function checkTask(task: string): Task {
  const t = task.trim().toLowerCase() === 'feature-extraction' ? 'embedding' : task.trim().toLowerCase();
  if (!(TASKS as readonly string[]).includes(t)) {
    throw new SqlError('22023', `unknown task "${task}"`, `the tasks are: ${TASKS.join(', ')}`);
  }
  return t as Task;
}

/** The task a Hugging Face folder's config.json implies, when it implies one. */
export function inferTask(folder: string): Task | null {
  const file = join(folder, 'config.json');
  if (!existsSync(file)) return null;
  let config: { architectures?: string[]; model_type?: string; id2label?: Record<string, string>; is_encoder_decoder?: boolean };
  try {
    config = JSON.parse(readFileSync(file, 'utf8')) as typeof config;
  } catch {
    throw new SqlError('22P02', `config.json in ${folder} is not valid JSON`);
  }
  const arch = config.architectures?.[0] ?? '';
  const labels = Object.values(config.id2label ?? {}).map((l) => l.toLowerCase());
  if (/ForSequenceClassification$/.test(arch)) return labels.includes('entailment') ? 'zero-shot-classification' : 'text-classification';
  if (/ForConditionalGeneration$|Seq2SeqLM$/.test(arch) || config.is_encoder_decoder) return 'text2text-generation';
  if (/ForCausalLM$|LMHeadModel$/.test(arch)) return 'text-generation';
  if (/Model$/.test(arch)) return 'embedding';
  return null;
}

/** The real path (symbolic links resolved) of what exists; the path itself otherwise. */
const realOrSelf = (path: string): string => {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
};

const isInside = (path: string, dirs: readonly string[]): boolean =>
  dirs.some((d) => path === d.replace(/\/+$/, '') || path.startsWith(d.endsWith(sep) ? d : d + sep));

/** Files looked at in a model folder for links leading out of it (a Hugging Face folder has a few dozen). */
const MAX_FOLDER_ENTRIES = 100_000;

/**
 * A folder source must hold a Hugging Face layout, inside a directory the server may read: the
 * folder and every link in it are resolved before the check, so a symbolic link placed in files/
 * cannot lead to a folder (or a file) outside the allowed directories.
 */
export function checkFolder(path: string, allowedDirs: readonly string[]): void {
  const roots = allowedDirs.map(realOrSelf);
  const refuse = (what: string): SqlError => new SqlError('42501', `the server may not read ${what}`,
    `model folders must be under one of: ${allowedDirs.join(', ')} (start aiduck with --import-dir <dir> to add one)`);
  if (!isInside(path, allowedDirs)) throw refuse(path);
  const real = realOrSelf(path);
  if (!isInside(real, roots)) throw refuse(`${path}: it is a link to ${real}`);
  if (!existsSync(path) || !statSync(path).isDirectory()) throw new SqlError('58P01', `model folder ${path} does not exist`);
  const link = linkLeadingOut(real, roots);
  if (link) throw refuse(`${path}: ${link.from} is a link to ${link.to}`);
  if (!existsSync(join(path, 'config.json')) && !isAdapterFolder(path)) {
    throw new SqlError('22023', `${path} is not a Hugging Face model folder (no config.json, nor adapter_config.json)`,
      'export the model with optimum or transformers.js conventions: config.json, tokenizer.json, onnx/model.onnx; or save it with safetensors weights (model.safetensors); or a PEFT adapter (adapter_config.json)');
  }
}
