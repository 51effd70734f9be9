/**
 * A LoRA training run in a thread of its own, so the engine keeps serving every other session while
 * it trains for minutes or hours. It reports each step and epoch, stops between steps when asked,
 * and writes the adapter only once training has finished.
 */
import { createHash } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';
import { SqlError } from '../errors/sql-error.js';
import { loadTokenizer, readLlamaConfig } from '../llm/model-folder.js';
import { LlamaModel } from '../llm/llama-model.js';
import { writePeftAdapter } from '../llm/peft.js';
import { loadFolderWeights } from '../llm/safetensors.js';
import { SeededRandom } from '../llm/seeded-random.js';
import type { FromTrainer, TrainJobInput } from './train-job-messages.js';
import { errorMessage, type JobEnd } from './worker-job.js';
import { train, TrainingCancelled } from '../llm/trainer.js';
import { tokenizeExamples, type TokenizedExample, type TrainingRow } from '../llm/training-data.js';

const input = workerData as TrainJobInput;
const cancelFlag = new Int32Array(input.cancel);
const post = (m: FromTrainer | JobEnd): void => parentPort!.postMessage(m);
const isCancelled = (): boolean => Atomics.load(cancelFlag, 0) !== 0;

function digest(examples: TokenizedExample[]): string {
  const h = createHash('sha256');
  for (const e of examples) {
    h.update(new Uint8Array(e.inputIds.buffer, e.inputIds.byteOffset, e.inputIds.byteLength));
    h.update(e.lossMask);
    h.update('\n');
  }
  return h.digest('hex');
}

/** Holds out a seeded share of the rows for evaluation, keeping at least one to train on. */
function splitRows(rows: TrainingRow[], fraction: number, seed: number): { train: TrainingRow[]; eval: TrainingRow[] } {
  if (fraction <= 0) return { train: rows, eval: [] };
  const order = new SeededRandom(seed ^ 0x2545f491).permutation(rows.length);
  // Rounded up, as scikit-learn's train_test_split does: a fraction above 0 holds out at least one row.
  const held = Math.min(Math.ceil(rows.length * fraction), rows.length - 1);
  const heldOut = new Set(order.slice(0, held));
  return { train: rows.filter((_, i) => !heldOut.has(i)), eval: rows.filter((_, i) => heldOut.has(i)) };
}

async function run(): Promise<void> {
  const config = await readLlamaConfig(input.baseFolder);
  const tokenizer = await loadTokenizer(input.baseFolder);
  const split = input.eval ? { train: input.train, eval: input.eval } : splitRows(input.train, input.evalFraction, input.params.seed);
  const trainData = tokenizeExamples(tokenizer, split.train, { maxSeqLength: input.maxSeqLength, isCancelled });
  const evalData = tokenizeExamples(tokenizer, split.eval, { maxSeqLength: input.maxSeqLength, isCancelled });
  if (trainData.examples.length === 0) {
    throw new SqlError('22023', 'no training example has a response token left', `every row was empty or cut away by max_seq_length => ${input.maxSeqLength}`);
  }
  post({
    t: 'prepared',
    trainExamples: trainData.examples.length,
    evalExamples: evalData.examples.length,
    dropped: trainData.summary.droppedEmpty,
    truncated: trainData.summary.truncated,
    trainTokens: trainData.summary.totalTokens,
    dataDigest: digest(trainData.examples),
  });
  const model = LlamaModel.create(config, await loadFolderWeights(input.baseFolder));
  if (isCancelled()) throw new TrainingCancelled();
  const result = await train(model, trainData.examples, evalData.examples, input.params, {
    onStep: (s) => post({ t: 'step', ...s }),
    onEpoch: (m) => post({ t: 'epoch', ...m }),
    isCancelled,
  });
  await writePeftAdapter(input.outDir, result.adapter, { baseModelNameOrPath: input.baseModelName });
  post({ t: 'done' });
}

// The engine ends this thread once it has read the last message.
run().catch((err: unknown) => {
  post(errorMessage(err instanceof TrainingCancelled ? new SqlError('57014', 'canceling statement due to user request') : err, 'train_lora'));
});
