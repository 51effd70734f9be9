import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { ModelCommand } from '../../src/functions/commands.js';
import type { SqlFunction } from '../../src/functions/sql-function.js';
import type { AiContext } from '../../src/functions/context.js';
import { setVariable } from '../../src/functions/session-variables.js';
import { sqlString } from '../../src/sqltext/quote.js';
import { SqlError } from '../../src/errors/sql-error.js';
import { insertRegistration, versionUri } from '../../src/registry/commands.js';
import { checkAlias, checkModelName } from '../../src/registry/model-ref.js';
import { checkFolder, decoderTask, hasSafetensors, parseSource } from '../../src/registry/sources.js';
import { parseLlamaConfig, type LlamaConfig } from '../../src/llm/llama-config.js';
import { countParameters } from '../../src/llm/param-count.js';
import { runTrainJob } from '../../src/jobs/train-job.js';
import { checkTrainArgs, recordedParameters, TRAIN_LORA_SIGNATURE, TRAIN_LORA_STRUCT, type TrainLoraArgs } from './args.js';
import { readTrainingRows } from './training-rows.js';

/** The base a run trains on: a registered version, or a folder given by path. */
interface Base {
  folder: string;
  /** models:/name/n, or the folder's place in the artifact store once stored. */
  uri: string | null;
  config: LlamaConfig;
}

const looksLikePath = (s: string): boolean => s.startsWith('/') || s.startsWith('file:');

function resolveBase(ai: AiContext, ref: string): Base {
  let folder: string;
  let uri: string | null = null;
  if (looksLikePath(ref)) {
    const source = parseSource(ref, ai.filesDir);
    if (source.kind !== 'folder') throw new SqlError('22023', `train_lora: base_model ${ref} is not a folder`);
    checkFolder(source.path, ai.allowedDirs);
    folder = source.path;
  } else {
    const spec = ai.registry.resolve(ref);
    if (spec.provider === 'lora') {
      throw new SqlError('0A000', `train_lora: ${ref} is a LoRA adapter (${versionUri(spec)})`,
        `train on its base (${spec.base?.uri ?? 'the model it was trained on'}), or merge it into a model of its own first with merge_adapter`);
    }
    if (spec.provider === 'openai' || spec.provider === 'builtin' || spec.provider === 'fewshot') {
      throw new SqlError('0A000', `train_lora: ${ref} is a ${spec.provider} model; LoRA trains local Llama-family models with safetensors weights`);
    }
    folder = spec.location;
    uri = versionUri(spec);
  }
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(join(folder, 'config.json'), 'utf8'));
  } catch {
    throw new SqlError('22023', `train_lora: ${ref} has no readable config.json`);
  }
  return { folder, uri, config: parseLlamaConfig(json) };
}

const RESULT_TYPES: Record<string, string> = {
  name: 'VARCHAR', version: 'INTEGER', run_id: 'VARCHAR', epoch: 'INTEGER', steps: 'INTEGER', train_loss: 'DOUBLE', eval_loss: 'DOUBLE',
  tokens_per_second: 'DOUBLE', elapsed_seconds: 'DOUBLE', trainable_params: 'BIGINT', total_params: 'BIGINT',
};
const RESULT_NAMES = Object.keys(RESULT_TYPES);
const RESULT_COLUMNS = JSON.stringify(RESULT_TYPES);

/**
 * `train_lora(name, base_model, training_data, r =>, lora_alpha =>, lora_dropout =>, target_modules =>,
 * epochs =>, learning_rate =>, batch_size =>, gradient_accumulation_steps =>, max_seq_length =>,
 * warmup_ratio =>, warmup_steps =>, weight_decay =>, max_grad_norm =>, seed =>, eval_data =>,
 * eval_fraction =>, dry_run =>, alias =>, description =>)`: trains a LoRA adapter on a Llama-family
 * base model in a thread of its own and registers it as the next version of `name`; one row per epoch.
 * `dry_run => true` only counts the parameters, from config.json.
 */
const command: ModelCommand = {
  name: 'train_lora',
  signature: TRAIN_LORA_SIGNATURE,
  argsStruct: TRAIN_LORA_STRUCT,
  // The variable is NULL when the statement is described: the cast keeps the row type known then.
  resultSql: `SELECT ${RESULT_NAMES.map((n) => `r.${n}`).join(', ')} FROM (SELECT unnest(from_json(CAST(getvariable('aiduck_train_rows') AS VARCHAR), '[${RESULT_COLUMNS}]')) AS r)`,
  async run(conn, ai, raw, transaction, session) {
    const a = raw as unknown as TrainLoraArgs;
    if (a.name === null) throw new SqlError('22004', 'train_lora needs the name of the model the adapter becomes a version of');
    if (a.dry_run === null) throw new SqlError('22004', 'dry_run must be true or false');
    const name = checkModelName(a.name);
    if (!a.base_model) throw new SqlError('22004', "train_lora needs a base_model: a registered model or a folder path");
    const alias = a.alias === null ? null : checkAlias(a.alias);
    const base = resolveBase(ai, a.base_model);
    const checked = checkTrainArgs(a, base.config);
    const counts = countParameters(base.config, checked.params.lora);
    const row = (extra: Record<string, unknown>): Record<string, unknown> => ({ name, trainable_params: counts.trainableParams, total_params: counts.totalParams, ...extra });
    if (a.dry_run) {
      await setVariable(conn, 'aiduck_train_rows', JSON.stringify([row({})]));
      return;
    }
    if (!a.training_data) throw new SqlError('22004', 'train_lora needs training_data: a table name or a query');
    if (!hasSafetensors(base.folder)) throw new SqlError('58P01', `train_lora: ${a.base_model} has no safetensors weights (model.safetensors)`);
    const trainRows = await readTrainingRows(conn, a.training_data, 'training_data');
    const evalRows = a.eval_data === null ? null : await readTrainingRows(conn, a.eval_data, 'eval_data');

    const startedAt = new Date();
    // A base given by path is trained from its copy in the store, so what is recorded is what was trained.
    const baseFolder = base.uri ? base.folder : (await ai.store.put(base.folder)).path;
    const baseUri = base.uri ?? baseFolder;
    const outDir = join(ai.store.root, `.train-${randomBytes(6).toString('hex')}`);
    await mkdir(outDir, { recursive: true });
    const job = runTrainJob({
      // adapter_config.json names the base by a path Python's PEFT can load (the store keeps Hugging Face layout).
      baseFolder, baseModelName: baseFolder, train: trainRows, eval: evalRows,
      evalFraction: checked.evalFraction, maxSeqLength: checked.maxSeqLength, params: checked.params, outDir,
    }, session, name);
    let result: Awaited<typeof job.result>;
    let stored: { digest: string; path: string };
    try {
      result = await job.result;
      await job.exited;
      stored = await ai.store.put(outDir);
    } finally {
      // The folder goes once the trainer has ended: a stopped one finishes the step it is in first.
      void job.exited.then(() => rm(outDir, { recursive: true, force: true }));
    }
    const runId = `run-${randomBytes(8).toString('hex')}`;
    const last = result.epochs.at(-1)!;
    const epochRows = result.epochs.map((e) => ({
      epoch: e.epoch, steps: e.steps, train_loss: e.trainLoss, eval_loss: e.evalLoss, tokens_per_second: e.tokensPerSecond, elapsed_seconds: e.elapsedSeconds,
    }));
    const tags: Record<string, string> = { train_loss: String(last.trainLoss), training_run: runId };
    if (last.evalLoss !== null) tags.eval_loss = String(last.evalLoss);
    let version = 0;
    await transaction(async () => {
      version = await insertRegistration(conn, {
        name, sourceText: `train_lora:${a.training_data}`, digest: stored.digest, dimension: null, alias, trainingRun: runId,
        // Training went through the tokenizer's chat template when it has one, so serving must too.
        spec: { name, task: decoderTask(baseFolder), provider: 'lora', location: stored.path, base: { uri: baseUri, location: baseFolder } },
        args: { name, source: null, task: null, alias, tags, description: a.description, endpoint_model: null, api_key_env: null, options: null, base_model: baseUri },
      });
      await conn.run(`INSERT INTO ai.training_runs VALUES (${sqlString(runId)}, ${sqlString(name)}, ${version}, ${sqlString(baseUri)}, ${sqlString(a.training_data!)},
        ${result.prepared.trainExamples}, ${a.eval_data === null ? 'NULL' : sqlString(a.eval_data)}, ${result.prepared.evalExamples}, ${sqlString(result.prepared.dataDigest)},
        ${sqlString(JSON.stringify(recordedParameters(checked, a)))}, ${sqlString(JSON.stringify(epochRows))}, ${last.trainLoss}, ${last.evalLoss ?? 'NULL'},
        ${counts.trainableParams}, ${counts.totalParams}, ${sqlString(startedAt.toISOString())}, current_timestamp)`);
    });
    await setVariable(conn, 'aiduck_train_rows', JSON.stringify(epochRows.map((e) => row({ ...e, version, run_id: runId }))));
  },
};


export const trainLora: SqlFunction = {
  name: 'train_lora',
  kind: 'model-command',
  description: "trains a LoRA adapter on a Llama-family model from a table of chats or instruction pairs and registers it; one row per epoch",
  command,
};
