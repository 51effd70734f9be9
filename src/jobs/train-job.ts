/**
 * The engine's side of a training run: starts the trainer thread and relays its progress to the
 * session (ai.running_jobs, a NOTICE per epoch).
 */
import type { CommandSession } from './command-session.js';
import type { FromTrainer, PreparedData, TrainJobInput } from './train-job-messages.js';
import type { EpochMetrics } from '../llm/trainer.js';
import { runWorkerJob } from './worker-job.js';

export interface TrainJobResult {
  prepared: PreparedData;
  epochs: EpochMetrics[];
}

const fmt = (x: number | null): string => (x === null ? 'n/a' : x.toFixed(4));

/**
 * Trains in a thread of its own. `exited` settles once the thread has ended: only then may its
 * output folder be removed, since a cancelled trainer finishes the step it is in.
 */
export function runTrainJob(input: Omit<TrainJobInput, 'cancel'>, session: CommandSession, label: string): { result: Promise<TrainJobResult>; exited: Promise<void> } {
  const cancel = new SharedArrayBuffer(4);
  let prepared: PreparedData | null = null;
  const epochs: EpochMetrics[] = [];
  const job = runWorkerJob<FromTrainer>(new URL('./trainer-worker.js', import.meta.url), { ...input, cancel } satisfies TrainJobInput, session, (m) => {
    switch (m.t) {
      case 'prepared':
        prepared = m;
        session.notice(`train_lora(${label}): ${m.trainExamples} training and ${m.evalExamples} evaluation examples, ${m.trainTokens} tokens`
          + (m.truncated ? `, ${m.truncated} cut to max_seq_length` : '') + (m.dropped ? `, ${m.dropped} left out (no response token within max_seq_length)` : ''));
        break;
      case 'step':
        session.progress('train_lora', label, m.examples, 0);
        break;
      case 'epoch':
        epochs.push(m);
        session.notice(`train_lora(${label}): epoch ${m.epoch} done after ${m.steps} steps, train_loss ${fmt(m.trainLoss)}, eval_loss ${fmt(m.evalLoss)}, ${Math.round(m.tokensPerSecond)} tokens/s`);
        break;
    }
  }, () => Atomics.store(new Int32Array(cancel), 0, 1));
  return { result: job.result.then(() => ({ prepared: prepared!, epochs })), exited: job.exited };
}
