/**
 * The command's side of SetFit's body stage: decides whether an embedding model's body can be
 * fine-tuned, runs the training thread and relays its progress to the session.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SqlError } from '../errors/sql-error.js';
import { parseBertConfig } from '../llm/bert-config.js';
import { ONNX_MODEL_FILE } from '../llm/bert-weights.js';
import { hasFolderWeights } from '../llm/safetensors.js';
import type { SentenceEmbedding } from '../llm/sentence-embedding.js';
import type { CommandSession } from './command-session.js';
import type { FromSetFit, SetFitJobInput } from './setfit-messages.js';
import { runWorkerJob } from './worker-job.js';

/** What bodyRefusal needs of the embedding model: its provider, its folder, its registered pooling. */
export interface EmbeddingBody {
  provider: string;
  location: string;
  embedding?: SentenceEmbedding;
}

/**
 * Why the body of an embedding model cannot be fine-tuned here (`label` names it), or null when it can.
 * Any pooling the folder declares is trained with; a default prompt is not (SetFit trains on the texts
 * as they are, and the body would then be served with a prompt it was not trained with).
 */
export function bodyRefusal({ provider, location, embedding }: EmbeddingBody, label: string): SqlError | null {
  const hint = 'fine-tuning needs an embedding model registered from a folder (BERT-family, with onnx/model.onnx or model.safetensors); fine_tune_body => false fits the head alone';
  if (provider !== 'onnx') return new SqlError('0A000', `cannot fine-tune the body of ${label}: it is a ${provider} model`, hint);
  if (embedding?.prompt) {
    return new SqlError('0A000', `cannot fine-tune the body of ${label}: its folder puts a default prompt before every text (config_sentence_transformers.json)`,
      'fine_tune_body => false fits the head on its embeddings (prompt included)');
  }
  const configFile = join(location, 'config.json');
  if (!existsSync(configFile)) return new SqlError('0A000', `cannot fine-tune the body of ${label}: its folder has no config.json`, hint);
  try {
    parseBertConfig(JSON.parse(readFileSync(configFile, 'utf8')));
  } catch (err) {
    if (err instanceof SqlError) return err;
    return new SqlError('22P02', `config.json of ${label} is not valid JSON`);
  }
  if (!hasFolderWeights(location) && !existsSync(join(location, ONNX_MODEL_FILE))) {
    return new SqlError('0A000', `cannot fine-tune the body of ${label}: its folder has neither model.safetensors nor ${ONNX_MODEL_FILE}`, hint);
  }
  return null;
}

export interface BodyTrained {
  source: 'safetensors' | 'onnx';
  pairs: number;
  steps: number;
  epochLosses: number[];
  /** Fine-tuned vectors of SetFitJobInput.embed, in order. */
  vectors: Float32Array[];
}

/** Trains in a thread of its own; `exited` settles once the thread has ended (only then may its folder go). */
export function runSetFitJob(input: Omit<SetFitJobInput, 'cancel'>, session: CommandSession, label: string, runId: string | null): { result: Promise<BodyTrained>; exited: Promise<void> } {
  const cancel = new SharedArrayBuffer(4);
  let prepared: Extract<FromSetFit, { t: 'prepared' }> | null = null;
  let trained: Extract<FromSetFit, { t: 'trained' }> | null = null;
  const job = runWorkerJob<FromSetFit>(new URL('./setfit-worker.js', import.meta.url), { ...input, cancel } satisfies SetFitJobInput, session, (m) => {
    switch (m.t) {
      case 'prepared':
        prepared = m;
        session.notice(`fit_classifier(${label}): fine-tuning the body (${m.source}) on ${m.pairs} pairs, ${m.steps} steps`);
        break;
      case 'step':
        session.trainingStep('fit_classifier', label, m.examples, { runId, epoch: m.epoch, step: m.step, totalSteps: m.totalSteps, loss: m.loss });
        break;
      case 'trained':
        trained = m;
        break;
    }
  }, () => Atomics.store(new Int32Array(cancel), 0, 1));
  const result = job.result.then((): BodyTrained => {
    if (prepared === null || trained === null) throw new SqlError('58000', 'the body training thread ended without its results');
    const p = prepared as Extract<FromSetFit, { t: 'prepared' }>;
    const t = trained as Extract<FromSetFit, { t: 'trained' }>;
    return { source: p.source, pairs: p.pairs, steps: p.steps, epochLosses: t.epochLosses, vectors: t.vectors };
  });
  return { result, exited: job.exited };
}
