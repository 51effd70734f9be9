import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { SqlError } from '../errors/sql-error.js';
import { sqlString } from '../sqltext/quote.js';
import type { ModelSpec, Task } from '../runtime/provider.js';
import { BUILTIN_MODELS } from '../runtime/providers/builtin.js';
import { checkKeyEnv } from '../runtime/providers/openai/key-env.js';
import type { ArtifactStore } from './artifact-store.js';
import { fetchFromHub, removeOldHubDownloads, type HubKind } from './hf-hub.js';
import { checkAlias, checkModelName } from './model-ref.js';
import type { Registry } from './registry.js';
import { checkFolder, checkTask, decoderTask, folderProvider, inferTask, isLlamaFolder, parseSource, providerOf } from './sources.js';
import { checkAdapterFolder, checkDecoderFolder, poolingName, readSentenceEmbedding } from '../runtime/model-folders.js';
import type { SentenceEmbedding } from '../runtime/provider.js';

/** What the registry commands need from the engine. */
export interface RegistryContext {
  registry: Registry;
  store: ArtifactStore;
  hubCacheDir: string;
  /** Where relative `file:` paths point. */
  filesDir: string;
  /** Folders register_model may read from. */
  allowedDirs: readonly string[];
  /** Variables an operator allowed as endpoint API keys besides AIDUCK_KEY_*. */
  allowedKeyEnvs: readonly string[];
  /** Reads the committed registry tables again. */
  reloadRegistry(): Promise<void>;
}

export interface RegisterArgs {
  name: string | null;
  source: string | null;
  task: string | null;
  alias: string | null;
  tags: Record<string, string | null> | null;
  description: string | null;
  endpoint_model: string | null;
  api_key_env: string | null;
  options: Record<string, string> | null;
  /** A PEFT adapter folder runs on this registered model. */
  base_model: string | null;
}

const lit = (v: string | null): string => (v === null ? 'NULL' : sqlString(v));

function required(value: string | null, what: string): string {
  if (value === null || value.trim() === '') throw new SqlError('22004', `register_model needs a ${what}`);
  return value;
}

/** A registration checked and its files stored, before anything is written to the registry. */
export interface Registration {
  name: string;
  sourceText: string;
  spec: Omit<ModelSpec, 'version'>;
  digest: string | null;
  dimension: number | null;
  alias: string | null;
  args: RegisterArgs;
  /** train_lora: the run in ai.training_runs that made this version. */
  trainingRun?: string;
  /** Stored folders held for this registration: release them (releaseArtifacts) once it is written or not. */
  held?: string[];
}

/**
 * Lets go of stored folders a command held and removes those no committed version references: a
 * refused or failed registration, training or merge leaves nothing in the store.
 */
export async function releaseArtifacts(ctx: RegistryContext, digests: readonly (string | null | undefined)[]): Promise<void> {
  const held = digests.filter((d): d is string => typeof d === 'string');
  for (const d of held) ctx.store.release(d);
  if (held.length > 0) await ctx.store.collect(() => referencedLocations(ctx), held);
}

/** Removes the named stored folders if no version or run references them and no command holds them. */
export async function collectStored(ctx: RegistryContext, digests: readonly string[]): Promise<string[]> {
  return ctx.store.collect(() => referencedLocations(ctx), digests);
}

/**
 * Removes every stored folder no version references, what a crash left half written, and the copies
 * earlier versions kept in the Hub cache (at start, before any command).
 */
export async function collectArtifacts(ctx: RegistryContext): Promise<string[]> {
  await ctx.store.removeLeftovers();
  await removeOldHubDownloads(ctx.hubCacheDir);
  return ctx.store.collect(() => referencedLocations(ctx));
}

async function referencedLocations(ctx: RegistryContext): Promise<ReadonlySet<string>> {
  await ctx.reloadRegistry();
  return ctx.registry.referencedLocations();
}

/** What a model folder will be registered as, decided before its files are stored. */
interface FolderPlan {
  provider: ModelSpec['provider'];
  task: Task | null;
  base: ModelSpec | null;
  embedding: SentenceEmbedding | null;
}

/**
 * What aiduck can tell of a folder before storing it: the adapter's base, the task, a decoder's
 * config.json (rope, architecture), an embedding model's pooling (sentence-transformers' modules), an
 * adapter's tensors against its base (`withWeights`: the weights are there; a Hub download is vetted
 * on its small files first). Refusals keep their SQLSTATE and come before the store holds a copy.
 */
async function planFolder(ctx: RegistryContext, args: RegisterArgs, sourceText: string, folder: string, provider: ModelSpec['provider'], withWeights: boolean): Promise<FolderPlan> {
  let task: Task | null = args.task ? checkTask(args.task) : null;
  let base: ModelSpec | null = null;
  if (provider === 'lora') {
    if (!args.base_model) throw new SqlError('22004', `${sourceText} is a PEFT adapter: say which registered model it runs on`, "add base_model => 'name' (the base model it was trained on)");
    base = adapterBase(ctx, args.base_model);
    task ??= decoderTask(base.location);
    if (withWeights) await checkAdapterFolder(folder, base.location);
  } else if (args.base_model) {
    throw new SqlError('22023', 'base_model applies to PEFT adapter folders (adapter_config.json) only');
  }
  if (provider === 'llama') {
    task ??= decoderTask(folder);
    await checkDecoderFolder(folder);
  }
  task ??= inferTask(folder);
  const embedding = provider === 'onnx' && task === 'embedding' ? await readSentenceEmbedding(folder) : null;
  return { provider, task, base, embedding };
}

const HUB_PROVIDER: Record<HubKind, ModelSpec['provider']> = { onnx: 'onnx', safetensors: 'llama', adapter: 'lora' };

/**
 * Checks a registration, stores its files and loads the model once (probe) — everything that may
 * take long or fail, done before the registry is touched. `probe` returns the vector length of an
 * embedding model.
 */
export async function prepareRegistration(ctx: RegistryContext, args: RegisterArgs,
  probe: (spec: ModelSpec) => Promise<number | null>): Promise<Registration> {
  const name = checkModelName(required(args.name, 'model name'));
  const sourceText = required(args.source, 'source');
  const source = parseSource(sourceText, ctx.filesDir);
  let location: string;
  let digest: string | null = null;
  let plan: FolderPlan = { provider: providerOf(source), task: args.task ? checkTask(args.task) : null, base: null, embedding: null };
  const tags = { ...(args.tags ?? {}) };
  if (source.kind === 'folder') {
    checkFolder(source.path, ctx.allowedDirs);
    plan = await planFolder(ctx, args, sourceText, source.path, folderProvider(source.path), true);
    const stored = await ctx.store.put(source.path);
    location = stored.path;
    digest = stored.digest;
  } else if (source.kind === 'hf') {
    const download = await fetchFromHub(source.repo, source.revision, {
      store: ctx.store, cacheDir: ctx.hubCacheDir,
      vet: async (folder, kind) => { await planFolder(ctx, args, sourceText, folder, HUB_PROVIDER[kind], false); },
    });
    location = download.path;
    digest = download.digest;
    // The commit the revision was: what this version's files are, whatever the branch becomes.
    if (download.commit && !('hub_commit' in tags)) tags['hub_commit'] = download.commit;
  } else if (source.kind === 'openai') {
    location = source.baseUrl;
    if (!args.endpoint_model) throw new SqlError('22004', 'an openai: source needs endpoint_model => \'<model name at the endpoint>\'');
    plan.task ??= 'chat';
  } else {
    location = source.name;
    plan.task ??= BUILTIN_MODELS.find((b) => b.name === source.name)!.task;
  }
  // From here a stored copy is held: a refusal lets it go, and it is removed unless a version uses it.
  try {
    if (source.kind === 'hf') plan = await planFolder(ctx, args, sourceText, location, folderProvider(location), true);
    const { task, base, provider } = plan;
    if (!task) throw new SqlError('22023', `cannot tell the task of ${sourceText} from its config.json`, "say it: task => 'embedding' (or chat, text-generation, zero-shot-classification, ...)");
    if (args.api_key_env !== null) checkKeyEnv(args.api_key_env, ctx.allowedKeyEnvs);
    const alias = args.alias === null ? null : checkAlias(args.alias);
    const spec: Omit<ModelSpec, 'version'> = { name, task, provider, location };
    if (base) spec.base = { uri: versionUri(base), location: base.location };
    if (args.endpoint_model) spec.endpointModel = args.endpoint_model;
    if (args.api_key_env) spec.apiKeyEnv = args.api_key_env;
    if (plan.embedding) spec.embedding = plan.embedding;
    const options = checkOptions(args.options, spec.provider);
    if (options) spec.options = options;
    // The model must load; an embedding model's vector length is recorded so ai_embed can return FLOAT[n].
    const dimension = await probe({ ...spec, version: 0 });
    return { name, sourceText, spec, digest, dimension, alias, args: { ...args, tags: Object.keys(tags).length ? tags : args.tags }, held: digest === null ? [] : [digest] };
  } catch (err) {
    await releaseArtifacts(ctx, [digest]);
    throw err;
  }
}

/** Writes a prepared registration as the model's next version; returns the version number. */
export async function insertRegistration(conn: DuckDBConnection, r: Registration): Promise<number> {
  const next = await conn.runAndReadAll(`SELECT coalesce(max(version), 0) + 1 FROM ai.model_versions WHERE name = ${lit(r.name)}`);
  const version = Number(next.getRows()[0]![0]);
  const { spec, args } = r;
  await conn.run(`INSERT INTO ai.model_versions (name, version, uri, task, provider, source, location, artifact_digest, endpoint_model, api_key_env, description, tags, dimension, options, base_model, training_run, pooling)
    VALUES (${lit(r.name)}, ${version}, ${lit(`models:/${r.name}/${version}`)}, ${lit(spec.task)}, ${lit(spec.provider)}, ${lit(r.sourceText)}, ${lit(spec.location)},
            ${lit(r.digest)}, ${lit(args.endpoint_model)}, ${lit(args.api_key_env)}, ${lit(args.description)}, ${mapLiteral(args.tags)},
            ${r.dimension === null ? 'NULL' : r.dimension}, ${mapLiteral(spec.options ?? null)}, ${lit(spec.base?.uri ?? null)}, ${lit(r.trainingRun ?? null)},
            ${poolingLiteral(spec.embedding ?? null)})`);
  if (r.alias) await setAlias(conn, r.name, r.alias, version);
  return version;
}

export const versionUri = (spec: Pick<ModelSpec, 'name' | 'version'>): string => `models:/${spec.name}/${spec.version}`;

/** The model an adapter runs on: a registered Llama-family model with safetensors weights, not itself an adapter. */
export function adapterBase(ctx: RegistryContext, ref: string): ModelSpec {
  const base = ctx.registry.resolve(ref);
  if (base.provider === 'lora') {
    throw new SqlError('0A000', `${ref} is itself a LoRA adapter (${versionUri(base)})`,
      `name its base (${base.base?.uri ?? 'the model it was trained on'}), or merge it first with merge_adapter`);
  }
  // A folder with both ONNX graphs and safetensors weights (as many Hub repositories have) will do too.
  if (base.provider !== 'llama' && !(base.provider === 'onnx' && isLlamaFolder(base.location))) {
    throw new SqlError('0A000', `${ref} is a ${base.provider} model; LoRA adapters run on Llama-family models registered from a folder with safetensors weights`);
  }
  return base;
}

/** An embedding's pooling as the STRUCT of ai.model_versions.pooling. */
const poolingLiteral = (e: SentenceEmbedding | null): string => (e === null ? 'NULL'
  : `{'mode': ${lit(poolingName(e))}, 'normalize': ${e.normalize}, 'include_prompt': ${e.includePrompt}, 'prompt': ${lit(e.prompt)}, 'max_seq_length': ${e.maxSeqLength ?? 'NULL'}, 'lowercase': ${e.lowercase}}`);

export const mapLiteral = (m: Record<string, string | null> | null): string => (m && Object.keys(m).length
  ? `MAP {${Object.entries(m).map(([k, v]) => `${lit(k)}: ${v === null ? 'NULL' : lit(String(v))}`).join(', ')}}`
  : 'NULL');

/** The provider options register_model accepts, with the provider option each one sets. */
export const MODEL_OPTIONS: Record<string, { provider: string; what: string }> = {
  max_concurrency: { provider: 'openai', what: 'requests in flight to the endpoint (default 8)' },
  timeout_ms: { provider: 'openai', what: 'time allowed for one request (default 120000)' },
  max_retries: { provider: 'openai', what: 'retries after 429, 5xx or a network error (default 5)' },
};

function checkOptions(options: Record<string, string> | null, provider: string): Record<string, string> | null {
  if (!options) return null;
  for (const [k, v] of Object.entries(options)) {
    const known = MODEL_OPTIONS[k];
    if (!known) throw new SqlError('22023', `unknown model option "${k}"`, `the options are: ${Object.keys(MODEL_OPTIONS).join(', ')}`);
    if (known.provider !== provider) throw new SqlError('22023', `option ${k} applies to ${known.provider} models only`);
    if (!/^\d+$/.test(String(v))) throw new SqlError('22023', `option ${k} must be a whole number, not "${v}"`);
  }
  return options;
}

/** Points an alias at a version (creating or moving it). */
export async function setAlias(conn: DuckDBConnection, name: string, alias: string, version: number): Promise<void> {
  const exists = await conn.runAndReadAll(`SELECT count(*) FROM ai.model_versions WHERE name = ${lit(name)} AND version = ${version}`);
  if (Number(exists.getRows()[0]![0]) === 0) throw new SqlError('42704', `model ${name} has no version ${version}`);
  await conn.run(`INSERT OR REPLACE INTO ai.model_aliases (name, alias, version, updated_at) VALUES (${lit(name)}, ${lit(checkAlias(alias).toLowerCase())}, ${version}, current_timestamp)`);
}

export async function deleteAlias(conn: DuckDBConnection, name: string, alias: string): Promise<void> {
  const r = await conn.runAndReadAll(`DELETE FROM ai.model_aliases WHERE name = ${lit(name)} AND alias = ${lit(alias.toLowerCase())} RETURNING 1`);
  if (r.currentRowCount === 0) throw new SqlError('42704', `model ${name} has no alias ${alias}`);
}

export const hubCacheDirOf = (dataDir: string): string => join(dataDir, 'hub-cache');
