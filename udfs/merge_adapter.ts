import { randomBytes } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { ModelCommand } from '../src/functions/commands.js';
import type { SqlFunction } from '../src/functions/sql-function.js';
import { setVariable } from '../src/functions/session-variables.js';
import { SqlError } from '../src/errors/sql-error.js';
import { insertRegistration, releaseArtifacts, versionUri } from '../src/registry/commands.js';
import { checkAlias, checkModelName } from '../src/registry/model-ref.js';
import type { MergeJobInput } from '../src/jobs/merge-worker.js';
import { runWorkerJob } from '../src/jobs/worker-job.js';

interface Args {
  name: string | null;
  adapter: string | null;
  alias: string | null;
  description: string | null;
}

/**
 * `merge_adapter(name, adapter, alias =>, description =>)`: folds a LoRA adapter version into its
 * base's weights (W + (alpha / r)·B·A) and registers the result as the next version of `name`, a model
 * of its own that needs no base at run time.
 */
const command: ModelCommand = {
  name: 'merge_adapter',
  signature: 'name, adapter, alias := NULL, description := NULL',
  argsStruct: 'struct_pack(name := name::VARCHAR, adapter := adapter::VARCHAR, alias := alias::VARCHAR, description := description::VARCHAR)',
  resultSql: `SELECT name, version, uri, task, provider, source, location, aliases, description, created_at
    FROM ai.model_versions_with_aliases WHERE name = getvariable('aiduck_model') AND version = getvariable('aiduck_version_n')`,
  async run(conn, ai, raw, transaction, session) {
    const a = raw as unknown as Args;
    const name = checkModelName(a.name ?? '');
    if (!a.adapter) throw new SqlError('22004', 'merge_adapter needs the adapter version to merge (a model reference)');
    const alias = a.alias === null ? null : checkAlias(a.alias);
    const spec = ai.registry.resolve(a.adapter);
    if (spec.provider !== 'lora' || !spec.base) {
      throw new SqlError('22023', `merge_adapter: ${a.adapter} (${versionUri(spec)}) is a ${spec.provider} model, not a LoRA adapter`);
    }
    const outDir = join(ai.store.root, `.merge-${randomBytes(6).toString('hex')}`);
    await mkdir(outDir, { recursive: true });
    const input: MergeJobInput = { baseFolder: spec.base.location, adapterFolder: spec.location, outDir };
    // A merge is not stopped halfway (it has no steps): a cancel answers at once and the thread finishes unseen.
    const job = runWorkerJob(new URL('../src/jobs/merge-worker.js', import.meta.url), input, session, () => undefined, () => undefined);
    let stored: { digest: string; path: string };
    try {
      await job.result;
      await job.exited;
      stored = await ai.store.put(outDir);
    } finally {
      void job.exited.then(() => rm(outDir, { recursive: true, force: true }));
    }
    const source = `merge_adapter:${versionUri(spec)}`;
    const description = a.description ?? `${versionUri(spec)} merged into ${spec.base.uri}`;
    let version = 0;
    try {
      await transaction(async () => {
        version = await insertRegistration(conn, {
          name, sourceText: source, digest: stored.digest, dimension: null, alias,
          spec: { name, task: spec.task, provider: 'llama', location: stored.path },
          args: { name, source, task: null, alias, tags: { merged_from: versionUri(spec), base_model: spec.base!.uri }, description, endpoint_model: null, api_key_env: null, options: null, base_model: null },
        });
      });
    } finally {
      await releaseArtifacts(ai, [stored.digest]);
    }
    await setVariable(conn, 'aiduck_model', name);
    await setVariable(conn, 'aiduck_version_n', version);
  },
};

export const mergeAdapter: SqlFunction = {
  name: 'merge_adapter',
  kind: 'model-command',
  description: "folds a LoRA version into its base's weights and registers the result as a model of its own",
  example: "SELECT * FROM merge_adapter('support_bot_merged', 'support_bot/2');",
  command,
};
