import type { DuckDBConnection } from '@duckdb/node-api';
import { SqlError } from '../errors/sql-error.js';
import { sqlString } from '../sqltext/quote.js';
import { checkAlias, checkModelName } from './model-ref.js';
import type { RegisterArgs, Registration } from './commands.js';
import type { Registry } from './registry.js';

/** `runs:/<run_id>`: MLflow's source for the model a run produced. */
export const runIdOf = (source: string | null): string | null => /^runs:\/([A-Za-z0-9_-]+)\/?$/.exec(source ?? '')?.[1] ?? null;

/**
 * Registers what a run produced as a version of another (or the same) model: the same files,
 * provider, task and base as the version the run made, with the run recorded as its origin.
 */
export async function registrationFromRun(conn: DuckDBConnection, registry: Registry, args: RegisterArgs, runId: string): Promise<Registration> {
  const name = checkModelName(args.name ?? '');
  const rows = (await conn.runAndReadAll(`SELECT model_name, model_version, status FROM ai.run_records WHERE run_id = ${sqlString(runId)}`)).getRows();
  if (!rows.length) throw new SqlError('42704', `there is no run ${runId}`, 'SELECT run_id, experiment, model_name FROM ai.runs lists the runs');
  const [modelName, modelVersion, status] = rows[0]!;
  if (modelName === null || modelVersion === null) {
    throw new SqlError('42704', `run ${runId} (${String(status)}) produced no model`, 'only runs of train_lora and fit_classifier that finished produce one');
  }
  const made = `${String(modelName)}/${String(modelVersion)}`;
  let spec;
  try {
    spec = registry.resolve(made);
  } catch {
    throw new SqlError('42704', `the version run ${runId} produced (${made}) has been deleted`);
  }
  if (args.task || args.base_model || args.endpoint_model || args.api_key_env || args.options) {
    throw new SqlError('22023', 'a runs:/ source takes the task, base and options of the version the run produced',
      'give only name, source, alias, tags and description');
  }
  const digest = (await conn.runAndReadAll(`SELECT artifact_digest FROM ai.model_versions WHERE uri = ${sqlString(`models:/${made}`)}`)).getRows()[0]?.[0] ?? null;
  const { version, ...rest } = spec;
  return {
    name, sourceText: `runs:/${runId}`, spec: { ...rest, name }, digest: digest === null ? null : String(digest),
    dimension: registry.dimensionOf(made), alias: args.alias === null ? null : checkAlias(args.alias), trainingRun: runId,
    args: { ...args, endpoint_model: spec.endpointModel ?? null, api_key_env: spec.apiKeyEnv ?? null, options: spec.options ?? null, base_model: spec.base?.uri ?? null },
  };
}
