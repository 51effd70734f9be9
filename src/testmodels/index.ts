/**
 * Small, real test models in the Hugging Face folder layout that transformers.js loads from disk exactly as
 * it loads a Hub model (config.json, tokenizer.json, tokenizer_config.json, onnx/*.onnx). Weights come from
 * a seeded generator, so every run writes the same bytes.
 */
import { join } from 'node:path';
import { bertEmbedder, nliClassifier } from './bert.js';
import { writeModelFiles, type ModelFiles } from './files.js';
import { gpt2Generator } from './gpt2.js';
import { tinyLlamaChat } from './llama.js';
import { t5Summarizer } from './t5.js';

export interface TestModel {
  /** Subfolder name, also the model id under `env.localModelPath`. */
  name: string;
  /** The tasks the model serves (transformers.js pipeline tasks for 'transformers.js' models). */
  tasks: readonly string[];
  /**
   * What runs it: transformers.js (ONNX files under onnx/), or aiduck's own runtime reading
   * model.safetensors (no ONNX; transformers.js cannot load it).
   */
  runtime: 'transformers.js' | 'safetensors';
  build: () => ModelFiles;
}

export const TEST_MODELS: readonly TestModel[] = [
  { name: 'tiny-bert-embedder', tasks: ['feature-extraction'], runtime: 'transformers.js', build: () => bertEmbedder() },
  { name: 'tiny-nli-classifier', tasks: ['zero-shot-classification', 'text-classification'], runtime: 'transformers.js', build: () => nliClassifier() },
  { name: 'tiny-gpt2-generator', tasks: ['text-generation'], runtime: 'transformers.js', build: () => gpt2Generator() },
  { name: 'tiny-t5-summarizer', tasks: ['summarization', 'text2text-generation'], runtime: 'transformers.js', build: () => t5Summarizer() },
  { name: 'tiny-llama-chat', tasks: ['chat', 'lora-training'], runtime: 'safetensors', build: () => tinyLlamaChat() },
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
export { SMOLLM_135M, TINY_LLAMA, llamaModelFiles, llamaParameterCount, llamaWeights, tinyLlamaChat, type LlamaLayout, type LlamaRope, type LlamaSize } from './llama.js';
export { llamaReferenceOnnx } from './llama-onnx.js';
export { CHATML_TEMPLATE, END_OF_TEXT, IM_END, IM_START, trainChatBpe } from './llama-tokenizer.js';
export { T5_EOS_AFTER, TINY_T5 } from './t5.js';
export { FEWSHOT_TOPICS, fewShotTask, type FewShotRow } from './fewshot-task.js';
