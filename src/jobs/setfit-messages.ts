/** What the engine and a SetFit body-training worker say to each other. */
import type { BodyStep, BodyTrainingParameters } from '../llm/setfit-body.js';
import type { SentenceEmbedding } from '../llm/sentence-embedding.js';

export interface SetFitJobInput {
  /** The embedding model's folder (config.json, tokenizer, model.safetensors or onnx/model.onnx). */
  embedderFolder: string;
  /** The labelled training texts and their class indices. */
  train: { text: string; label: number }[];
  /** Texts to embed with the fine-tuned body once trained (the head is fitted and scored on them). */
  embed: string[];
  params: BodyTrainingParameters;
  /** How the embedding model pools (its registered pooling): the body is trained, served and saved with it. */
  embedding: SentenceEmbedding;
  /** An empty folder; the body is written to its `body` subfolder. */
  outDir: string;
  /** Int32 slot 0: set to 1 to ask the worker to stop between steps. */
  cancel: SharedArrayBuffer;
}

export type FromSetFit =
  | { t: 'prepared'; source: 'safetensors' | 'onnx'; pairs: number; steps: number }
  | ({ t: 'step' } & BodyStep)
  | { t: 'trained'; epochLosses: number[]; vectors: Float32Array[] };
