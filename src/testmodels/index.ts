/**
 * Small, real test models in the Hugging Face folder layout that transformers.js loads from disk exactly as
 * it loads a Hub model (config.json, tokenizer.json, tokenizer_config.json, onnx/*.onnx). Weights come from
 * a seeded generator, so every run writes the same bytes.
 */
import { join } from 'node:path';
import { bertEmbedder, nliClassifier } from './bert.js';
import { writeModelFiles, type ModelFiles } from './files.js';
import { gpt2Generator } from './gpt2.js';
import { t5Summarizer } from './t5.js';

export interface TestModel {
  /** Subfolder name, also the model id under `env.localModelPath`. */
  name: string;
  /** The transformers.js pipeline tasks the model serves. */
  tasks: readonly string[];
  build: () => ModelFiles;
}

export const TEST_MODELS: readonly TestModel[] = [
  { name: 'tiny-bert-embedder', tasks: ['feature-extraction'], build: () => bertEmbedder() },
  { name: 'tiny-nli-classifier', tasks: ['zero-shot-classification', 'text-classification'], build: () => nliClassifier() },
  { name: 'tiny-gpt2-generator', tasks: ['text-generation'], build: () => gpt2Generator() },
  { name: 'tiny-t5-summarizer', tasks: ['summarization', 'text2text-generation'], build: () => t5Summarizer() },
];

/** Writes every test model into its own subfolder of `dir`; returns the folders' paths. */
export async function writeTestModels(dir: string): Promise<string[]> {
  const paths: string[] = [];
  for (const model of TEST_MODELS) {
    const path = join(dir, model.name);
    await writeModelFiles(path, model.build());
    paths.push(path);
  }
  return paths;
}

export { bertEmbedder, NLI_LABELS, TINY_BERT, type BertSize } from './bert.js';
export { writeModelFiles } from './files.js';
export { EOS_AFTER, TINY_GPT2 } from './gpt2.js';
export { T5_EOS_AFTER, TINY_T5 } from './t5.js';
