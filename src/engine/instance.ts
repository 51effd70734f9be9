import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { AiContext } from '../functions/context.js';
import { ArtifactStore } from '../registry/artifact-store.js';
import { collectArtifacts, hubCacheDirOf } from '../registry/commands.js';
import { Registry } from '../registry/registry.js';
import { openRegistrySchema } from '../registry/schema.js';
import { BUILTIN_MODELS } from '../runtime/providers/builtin.js';
import { RuntimeClient } from '../runtime/runtime-client.js';
import { isOwnVariable } from '../runtime/providers/openai/key-env.js';
import { sqlString } from '../sqltext/quote.js';
import { registerFunctions } from '../../udfs/catalog.js';
import { registerCopyTextFunctions } from '../session/copy/pg-text-functions.js';
import type { EngineOptions } from './options.js';

const builtinModelsView = (): string => `CREATE OR REPLACE VIEW ai.builtin_models AS SELECT * FROM (VALUES ${BUILTIN_MODELS
  .map((b) => `(${sqlString(`builtin:${b.name}`)}, ${sqlString(b.task)}, ${b.dimension}, ${sqlString(b.description)})`).join(', ')}) t(source, task, dimension, description)`;

const sqlList = (dirs: string[]): string => `[${dirs.map(sqlString).join(', ')}]`;

/** Opens the registry tables and starts the model runtime; the setup connection stays open, owning the AI functions. */
async function openAi(setup: DuckDBConnection, options: EngineOptions): Promise<AiContext> {
  await openRegistrySchema(setup);
  await setup.run(builtinModelsView());
  const registry = new Registry();
  await registry.load(setup);
  const persistent = options.databasePath !== ':memory:';
  const runtime = new RuntimeClient(persistent ? join(options.dataDir, 'cache') : null, options.allowedKeyEnvs);
  const ai = new AiContext(registry, runtime, new ArtifactStore(join(options.dataDir, 'models')), hubCacheDirOf(options.dataDir),
    join(options.dataDir, 'files'), options.allowedDirs, options.allowedKeyEnvs, setup);
  // The database file is locked to this process: what its registry does not reference is no one's.
  if (persistent) await collectArtifacts(ai);
  await registerFunctions(setup, ai);
  registerCopyTextFunctions(setup);
  return ai;
}

/**
 * The engine's DuckDB instance, with file access confined, the registry schema, the model runtime
 * and every SQL function of the catalog; the setup connection stays open, owning the functions.
 */
export async function openInstance(options: EngineOptions): Promise<{ instance: DuckDBInstance; ai: AiContext }> {
  const own = options.allowedKeyEnvs.filter(isOwnVariable);
  if (own.length) throw new Error(`--allow-key-env ${own.join(', ')}: aiduck's own variables are never sent to an endpoint`);
  const config: Record<string, string> = {
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
    allow_community_extensions: 'false',
    allow_unsigned_extensions: 'false',
    temp_directory: options.tmpDir,
  };
  if (options.threads) config['threads'] = String(options.threads);
  if (options.memoryLimit) config['memory_limit'] = options.memoryLimit;
  const instance = await DuckDBInstance.create(options.databasePath, config);
  const setup = await instance.connect();
  // File access from SQL is confined to these directories; once external access is off, neither
  // it nor the list can be changed back from SQL.
  await setup.run(`SET allowed_directories = ${sqlList(options.allowedDirs)}`);
  await setup.run('SET enable_external_access = false');
  // Postgres' default schema, where sessions create what they do not qualify (pg/search-path.ts).
  await setup.run('CREATE SCHEMA IF NOT EXISTS public');
  // Postgres' jsonb, as a type name tables and casts can use: DuckDB's JSON.
  await setup.run('CREATE TYPE IF NOT EXISTS main.jsonb AS JSON');
  return { instance, ai: await openAi(setup, options) };
}
