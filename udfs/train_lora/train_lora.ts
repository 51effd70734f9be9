import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { ModelCommand } from '../../src/functions/commands.js';
import type { SqlFunction } from '../../src/functions/sql-function.js';
import type { AiContext } from '../../src/functions/context.js';
import { setVariable } from '../../src/functions/session-variables.js';
import { SqlError } from '../../src/errors/sql-error.js';
import { insertRegistration, releaseArtifacts, versionUri } from '../../src/registry/commands.js';
import { checkAlias, checkModelName } from '../../src/registry/model-ref.js';
import { checkFolder, decoderTask, hasSafetensors, parseSource } from '../../src/registry/sources.js';
import { parseLlamaConfig, type LlamaConfig } from '../../src/llm/llama-config.js';
import { countParameters } from '../../src/llm/param-count.js';
import { runTrainJob, type TrainObserver } from '../../src/jobs/train-job.js';
import { Run, statusOf, type SqlRunner } from '../../src/registry/runs.js';
import { checkTrainArgs, recordedParameters, TRAIN_LORA_SIGNATURE, TRAIN_LORA_STRUCT, type TrainLoraArgs } from './args.js';
import { readTrainingRows } from './training-rows.js';

/** The base a run trains on: a registered version, or a folder given by path. */
interface Base {
  folder: string;
  /** models:/name/n, or the folder's place in the artifact store once stored. */
  uri: string | null;
  config: LlamaConfig;
}

/** Parameters as a run records them: strings (lists and objects as JSON). */
function flatParams(p: Record<string, unknown>): Record<string, string | null> {
  return Object.fromEntries(Object.entries(p).map(([k, v]) => [k, v === null || v === undefined ? null : typeof v === 'object' ? JSON.stringify(v) : String(v)]));
}

/**
 * The run's curves as training goes: the loss and learning rate at every optimizer step, and per
 * epoch the mean train and eval losses, throughput and time; written at the end of each epoch, so a
 * run that stops keeps what it had.
 */
function curvesOf(run: Run, conn: SqlRunner): TrainObserver {
  return {
    prepared: (d) => void run.addParams(conn, { training_rows: d.trainExamples, eval_rows: d.evalExamples, data_digest: d.dataDigest }).catch(() => undefined),
    step: (s) => {
      run.metric('train_loss', s.loss, s.step);
      run.metric('learning_rate', s.learningRate, s.step);
    },
    epoch: (e) => {
      run.metric('epoch_train_loss', e.trainLoss, e.epoch);
      if (e.evalLoss !== null) run.metric('epoch_eval_loss', e.evalLoss, e.epoch);
      run.metric('epoch_steps', e.steps, e.epoch);
      run.metric('tokens_per_second', e.tokensPerSecond, e.epoch);
      run.metric('elapsed_seconds', e.elapsedSeconds, e.epoch);
      void run.flush(conn).catch(() => undefined);
    },
  };
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
 * eval_fraction =>, dry_run =>, alias =>, description =>, experiment =>, run_name =>)`: trains a LoRA adapter on a Llama-family
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

    // Stored folders are held until the version is written, or not: the adapter, and the base given by path
    // (trained from its copy in the store, so what is recorded is what was trained) until the trainer has ended.
    const held: string[] = [];
    let commandDone!: () => void;
    const ended = new Promise<void>((resolve) => (commandDone = resolve));
    const baseCopy = base.uri ? null : await ai.store.put(base.folder);
    let trainerExited: Promise<void> = Promise.resolve();
    if (baseCopy) void Promise.all([ended, ended.then(() => trainerExited)]).then(() => releaseArtifacts(ai, [baseCopy.digest])).catch(() => undefined);
    const baseFolder = baseCopy?.path ?? base.folder;
    const baseUri = base.uri ?? baseFolder;
    const run = await Run.start(conn, {
      experiment: a.experiment ?? name, name: a.run_name, source: 'train_lora', statement: session.statement,
      params: { ...flatParams(recordedParameters(checked, a)), base_model: baseUri, training_data: a.training_data,
        trainable_params: counts.trainableParams, total_params: counts.totalParams },
    }).catch((err: unknown) => {
      commandDone();
      throw err;
    });
    let registered: { version: number; epochRows: Array<Record<string, unknown>> };
    try {
      registered = await trainAndRegister();
    } catch (err) {
      // A failed or cancelled run keeps its record: its status, why, and the curves up to where it stopped.
      await run.end(conn, statusOf(err), { error: err instanceof Error ? err.message : String(err) }).catch(() => undefined);
      throw err;
    } finally {
      commandDone();
      await releaseArtifacts(ai, held);
    }
    const { version, epochRows } = registered;
    const runId = run.id;

    async function trainAndRegister(): Promise<{ version: number; epochRows: Array<Record<string, unknown>> }> {
      const outDir = join(ai.store.root, `.train-${randomBytes(6).toString('hex')}`);
      await mkdir(outDir, { recursive: true });
      const job = runTrainJob({
        // adapter_config.json names the base by a path Python's PEFT can load (the store keeps Hugging Face layout).
        baseFolder, baseModelName: baseFolder, train: trainRows, eval: evalRows,
        evalFraction: checked.evalFraction, maxSeqLength: checked.maxSeqLength, params: checked.params, outDir,
      }, session, { label: name, runId: run.id, observer: curvesOf(run, conn) });
      trainerExited = job.exited;
      let result: Awaited<typeof job.result>;
      let stored: { digest: string; path: string };
      try {
        result = await job.result;
        await job.exited;
        stored = await ai.store.put(outDir);
        held.push(stored.digest);
      } finally {
        // The folder goes once the trainer has ended: a stopped one finishes the step it is in first.
        void job.exited.then(() => rm(outDir, { recursive: true, force: true }));
      }
      const last = result.epochs.at(-1)!;
      const epochRows = result.epochs.map((e) => ({
        epoch: e.epoch, steps: e.steps, train_loss: e.trainLoss, eval_loss: e.evalLoss, tokens_per_second: e.tokensPerSecond, elapsed_seconds: e.elapsedSeconds,
      }));
      const tags: Record<string, string> = { train_loss: String(last.trainLoss), training_run: run.id };
      if (last.evalLoss !== null) tags.eval_loss = String(last.evalLoss);
      let version = 0;
      await transaction(async () => {
        version = await insertRegistration(conn, {
          name, sourceText: `train_lora:${a.training_data}`, digest: stored.digest, dimension: null, alias, trainingRun: run.id,
          // Training went through the tokenizer's chat template when it has one, so serving must too.
          spec: { name, task: decoderTask(baseFolder), provider: 'lora', location: stored.path, base: { uri: baseUri, location: baseFolder } },
          args: { name, source: null, task: null, alias, tags, description: a.description, endpoint_model: null, api_key_env: null, options: null, base_model: baseUri },
        });
        // The version and the run that made it, in one transaction.
        for (const sql of await run.endSql('finished', { model: { name, version }, artifact: stored.path })) await conn.run(sql);
      });
      return { version, epochRows };
    }
    await setVariable(conn, 'aiduck_train_rows', JSON.stringify(epochRows.map((e) => row({ ...e, version, run_id: runId }))));
  },
};


export const trainLora: SqlFunction = {
  name: 'train_lora',
  kind: 'model-command',
  description: "trains a LoRA adapter on a Llama-family model from a table of chats or instruction pairs and registers it; one row per epoch",
  example: "SELECT epoch, train_loss FROM train_lora('bank_bot', 'bank_bot@base', 'chats', r => 8, epochs => 3);",
  command,
};
