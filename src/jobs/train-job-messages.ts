/** What the engine and a trainer worker say to each other. */
import type { EpochMetrics, StepReport, TrainParameters } from '../llm/trainer.js';
import type { TrainingRow } from '../llm/training-data.js';

export interface TrainJobInput {
  baseFolder: string;
  /** Written into adapter_config.json's base_model_name_or_path. */
  baseModelName: string;
  train: TrainingRow[];
  /** A separate evaluation set, or null to hold out `evalFraction` of the training rows. */
  eval: TrainingRow[] | null;
  evalFraction: number;
  maxSeqLength: number;
  params: TrainParameters;
  /** An empty folder the adapter is written to. */
  outDir: string;
  /** Int32 slot 0: set to 1 to ask the worker to stop between steps. */
  cancel: SharedArrayBuffer;
}

export interface PreparedData {
  trainExamples: number;
  evalExamples: number;
  /** Rows left with no target token after truncation to max_seq_length. */
  dropped: number;
  truncated: number;
  trainTokens: number;
  /** sha256 of the tokenized training examples: the same digest means the same data. */
  dataDigest: string;
}

export type FromTrainer =
  | ({ t: 'prepared' } & PreparedData)
  | ({ t: 'step' } & StepReport)
  | ({ t: 'epoch' } & EpochMetrics);
