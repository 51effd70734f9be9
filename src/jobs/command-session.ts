/** Where a training run is, step by step (the epoch, step and loss columns of ai.running_jobs). */
export interface TrainingProgress {
  /** The run recording the training (ai.runs), if any. */
  runId: string | null;
  epoch: number;
  /** Optimizer steps done, of `totalSteps`. */
  step: number;
  totalSteps: number;
  /** The loss of the last step. */
  loss: number;
}

/** What a long command (train_lora) can do with the session running it. */
export interface CommandSession {
  sid: number;
  /** The statement the client sent, as recorded in a run. */
  statement: string;
  /** Why the command must stop (cancel, statement_timeout, client gone), or null. */
  stopReason(): string | null;
  /** Sends the client a NOTICE now. */
  notice(message: string): void;
  /** Records progress for ai.running_jobs (and a NOTICE every few seconds). */
  progress(fn: string, model: string, rows: number, cached: number): void;
  /** Records a training step: `examples` more rows done, and where the training is now. */
  trainingStep(fn: string, model: string, examples: number, state: TrainingProgress): void;
}
