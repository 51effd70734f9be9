import type { DuckDBConnection } from '@duckdb/node-api';
import { SqlError } from '../errors/sql-error.js';
import type { ModelSpec, ProviderKind, SentenceEmbedding, Task } from '../runtime/provider.js';
import { parsePoolingName } from '../runtime/model-folders.js';
import { BUILTIN_MODELS } from '../runtime/providers/builtin.js';
import { formatRef, parseModelRef, type ModelRef } from './model-ref.js';

interface VersionRow {
  version: number;
  task: Task;
  provider: ProviderKind;
  location: string;
  endpointModel: string | null;
  apiKeyEnv: string | null;
  dimension: number | null;
  options: Record<string, string> | null;
  baseModel: string | null;
  embedding: SentenceEmbedding | null;
}

/** ai.model_versions.pooling as JSON. */
interface PoolingRow {
  mode: string;
  normalize: boolean;
  include_prompt: boolean;
  prompt: string | null;
  max_seq_length: number | null;
  lowercase: boolean;
}

const embeddingOf = (p: PoolingRow): SentenceEmbedding => ({
  pooling: parsePoolingName(p.mode), normalize: p.normalize, includePrompt: p.include_prompt, prompt: p.prompt, maxSeqLength: p.max_seq_length, lowercase: p.lowercase,
});

interface ModelEntry {
  versions: Map<number, VersionRow>;
  aliases: Map<string, number>;
}

/**
 * The engine's in-memory copy of the registry tables. SQL functions resolve model references
 * synchronously, inside DuckDB's calls, so they read this copy; every registry write reloads it.
 */
export class Registry {
  private models = new Map<string, ModelEntry>();
  private runArtifacts = new Set<string>();
  /** Counts reloads: statements prepared under an older registry may name other versions. */
  generation = 0;

  async load(conn: DuckDBConnection): Promise<void> {
    const models = new Map<string, ModelEntry>();
    const entry = (name: string): ModelEntry => {
      let e = models.get(name);
      if (!e) models.set(name, (e = { versions: new Map(), aliases: new Map() }));
      return e;
    };
    const versions = await conn.runAndReadAll('SELECT name, version, task, provider, location, endpoint_model, api_key_env, dimension, CAST(to_json(options) AS VARCHAR), base_model, CAST(to_json(pooling) AS VARCHAR) FROM ai.model_versions');
    for (const [name, version, task, provider, location, endpointModel, apiKeyEnv, dimension, options, baseModel, pooling] of versions.getRows()) {
      entry(String(name)).versions.set(Number(version), {
        version: Number(version), task: task as Task, provider: provider as ProviderKind, location: String(location),
        endpointModel: endpointModel === null ? null : String(endpointModel), apiKeyEnv: apiKeyEnv === null ? null : String(apiKeyEnv),
        dimension: dimension === null ? null : Number(dimension),
        options: options === null ? null : (JSON.parse(String(options)) as Record<string, string>),
        baseModel: baseModel === null ? null : String(baseModel),
        embedding: pooling === null ? null : embeddingOf(JSON.parse(String(pooling)) as PoolingRow),
      });
    }
    const aliases = await conn.runAndReadAll('SELECT name, alias, version FROM ai.model_aliases');
    for (const [name, alias, version] of aliases.getRows()) entry(String(name)).aliases.set(String(alias), Number(version));
    const artifacts = await conn.runAndReadAll('SELECT DISTINCT artifact FROM ai.run_records WHERE artifact IS NOT NULL');
    this.runArtifacts = new Set(artifacts.getRows().map(([a]) => String(a)));
    this.models = models;
    this.generation++;
  }

  /**
   * The folders registered versions use: their locations, and the base folders of adapters whose base
   * was given by path (stored apart, named by location in base_model); and the folders runs produced
   * (kept while the run is: runs:/ registers from them).
   */
  referencedLocations(): Set<string> {
    const out = new Set<string>(this.runArtifacts);
    for (const model of this.models.values()) {
      for (const v of model.versions.values()) {
        out.add(v.location);
        if (v.baseModel !== null && !v.baseModel.startsWith('models:/')) out.add(v.baseModel);
      }
    }
    return out;
  }

  /** The version a reference names: an alias, a number, or `champion` else the latest. */
  resolveRef(ref: ModelRef): ModelSpec {
    const model = this.models.get(ref.name);
    if (!model || model.versions.size === 0) {
      const known = [...this.models.keys()].sort().slice(0, 20);
      throw new SqlError('42704', `model "${ref.name}" is not registered`,
        known.length ? `registered models: ${known.join(', ')}` : "register one first: SELECT * FROM register_model('name', '/path/to/folder')");
    }
    const latest = Math.max(...model.versions.keys());
    let version: number | undefined;
    if (ref.kind === 'version') version = ref.version;
    else if (ref.kind === 'alias') version = ref.alias.toLowerCase() === 'latest' ? latest : model.aliases.get(ref.alias.toLowerCase());
    else version = model.aliases.get('champion') ?? latest;
    const row = version === undefined ? undefined : model.versions.get(version);
    if (!row) {
      const aliases = [...model.aliases.keys()];
      throw new SqlError('42704', `model "${formatRef(ref)}" does not exist`,
        `${ref.name} has versions ${[...model.versions.keys()].sort((a, b) => a - b).join(', ')}${aliases.length ? ` and aliases ${aliases.join(', ')}` : ''}`);
    }
    const spec: ModelSpec = { name: ref.name, version: row.version, task: row.task, provider: row.provider, location: row.location };
    if (row.endpointModel) spec.endpointModel = row.endpointModel;
    if (row.apiKeyEnv) spec.apiKeyEnv = row.apiKeyEnv;
    if (row.options) spec.options = row.options;
    if (row.baseModel) spec.base = { uri: row.baseModel, location: this.baseLocation(row.baseModel) };
    if (row.embedding) spec.embedding = row.embedding;
    return spec;
  }

  /** An adapter's base: a registered version (models:/name/n), or a folder in the artifact store. */
  private baseLocation(base: string): string {
    return base.startsWith('models:/') ? this.resolveRef(parseModelRef(base)).location : base;
  }

  /** Resolves a reference; `builtin:<name>` names a builtin model without registering it. */
  resolve(text: string): ModelSpec {
    const builtin = /^builtin:(.+)$/.exec(text.trim());
    if (builtin) {
      const b = BUILTIN_MODELS.find((m) => m.name === builtin[1]);
      if (!b) throw new SqlError('42704', `unknown builtin model "${builtin[1]}"`, 'SELECT * FROM ai.builtin_models lists them');
      return { name: text.trim(), version: 0, task: b.task, provider: 'builtin', location: b.name };
    }
    return this.resolveRef(parseModelRef(text));
  }

  /** The vector length of the embedding model a reference names, when known. */
  dimensionOf(text: string): number | null {
    try {
      const spec = this.resolve(text);
      if (spec.provider === 'builtin') return BUILTIN_MODELS.find((m) => m.name === spec.location)?.dimension ?? null;
      return this.models.get(spec.name)?.versions.get(spec.version)?.dimension ?? null;
    } catch {
      return null;
    }
  }
}
