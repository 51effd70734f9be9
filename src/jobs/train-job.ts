/**
 * The engine's side of a training run: starts the trainer thread and relays its progress to the
 * session (ai.running_jobs, a NOTICE per epoch).
 */
import type { CommandSession } from './command-session.js';
import type { FromTrainer, PreparedData, TrainJobInput } from './train-job-messages.js';
import type { EpochMetrics, StepReport } from '../llm/trainer.js';
import { runWorkerJob } from './worker-job.js';

export interface TrainJobResult {
  prepared: PreparedData;
  epochs: EpochMetrics[];
}

const fmt = (x: number | null): string => (x === null ? 'n/a' : x.toFixed(4));

/** What the caller hears of the training as it goes (to record the run's curves). */
export interface TrainObserver {
  prepared?(data: PreparedData): void;
  step?(s: StepReport): void;
  epoch?(e: EpochMetrics): void;
}

/** Names the job in ai.running_jobs and NOTICEs (`label`: the model trained), the run that records it, and who hears of it. */
export interface TrainJobOptions {
  label: string;
  runId: string | null;
  observer?: TrainObserver;
}

/**
 * Trains in a thread of its own. `exited` settles once the thread has ended: only then may its
 * output folder be removed, since a cancelled trainer finishes the step it is in.
 */
export function runTrainJob(input: Omit<TrainJobInput, 'cancel'>, session: CommandSession,
  { label, runId, observer = {} }: TrainJobOptions): { result: Promise<TrainJobResult>; exited: Promise<void> } {
  const cancel = new SharedArrayBuffer(4);
  let prepared: PreparedData | null = null;
  const epochs: EpochMetrics[] = [];
  const job = runWorkerJob<FromTrainer>(new URL('./trainer-worker.js', import.meta.url), { ...input, cancel } satisfies TrainJobInput, session, (m) => {
    switch (m.t) {
      case 'prepared':
        prepared = m;
        observer.prepared?.(m);
        session.notice(`train_lora(${label}): ${m.trainExamples} training and ${m.evalExamples} evaluation examples, ${m.trainTokens} tokens`
          + (m.truncated ? `, ${m.truncated} cut to max_seq_length` : '') + (m.dropped ? `, ${m.dropped} left out (no response token within max_seq_length)` : ''));
        break;
      case 'step':
        session.trainingStep('train_lora', label, m.examples, { runId, epoch: m.epoch, step: m.step, totalSteps: m.totalSteps, loss: m.loss });
        observer.step?.(m);
        break;
      case 'epoch':
        epochs.push(m);
        observer.epoch?.(m);
        session.notice(`train_lora(${label}): epoch ${m.epoch} done after ${m.steps} steps, train_loss ${fmt(m.trainLoss)}, eval_loss ${fmt(m.evalLoss)}, ${Math.round(m.tokensPerSecond)} tokens/s`);
        break;
    }
  }, () => Atomics.store(new Int32Array(cancel), 0, 1));
  return { result: job.result.then(() => ({ prepared: prepared!, epochs })), exited: job.exited };
}
