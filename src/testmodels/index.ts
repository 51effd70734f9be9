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
  /** A name to register it under, as `aiduck testmodels` and the README suggest. */
  registerAs: string;
  /** One line for `aiduck --help`. */
  summary: string;
  build: () => ModelFiles;
}

export const TEST_MODELS: readonly TestModel[] = [
  { name: 'tiny-bert-embedder', tasks: ['feature-extraction'], runtime: 'transformers.js', registerAs: 'embedder',
    summary: 'BERT-style sentence embedder (ONNX), for ai_embed and vector_search', build: () => bertEmbedder() },
  { name: 'tiny-nli-classifier', tasks: ['zero-shot-classification', 'text-classification'], runtime: 'transformers.js', registerAs: 'classifier',
    summary: 'BERT-style NLI cross-encoder (ONNX), for zero-shot ai_classify', build: () => nliClassifier() },
  { name: 'tiny-gpt2-generator', tasks: ['text-generation'], runtime: 'transformers.js', registerAs: 'generator',
    summary: 'GPT-2-style text generator (ONNX with a KV cache), for ai_query', build: () => gpt2Generator() },
  { name: 'tiny-t5-summarizer', tasks: ['summarization', 'text2text-generation'], runtime: 'transformers.js', registerAs: 'summarizer',
    summary: 'T5-style encoder-decoder (ONNX), for ai_summarize and ai_query', build: () => t5Summarizer() },
  { name: 'tiny-llama-chat', tasks: ['chat', 'lora-training'], runtime: 'safetensors', registerAs: 'chat_bot',
    summary: 'Llama-architecture chat model (safetensors, ChatML template), for ai_query and train_lora', build: () => tinyLlamaChat() },
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

export { bertEmbedder, NLI_LABELS, sentenceTransformerFiles, TINY_BERT, type BertSize, type SentenceTransformerLayout } from './bert.js';
export { writeModelFiles } from './files.js';
export { EOS_AFTER, TINY_GPT2 } from './gpt2.js';
export { SMOLLM_135M, TINY_LLAMA, llamaModelFiles, llamaParameterCount, llamaWeights, tinyLlamaChat, type LlamaLayout, type LlamaRope, type LlamaSize } from './llama.js';
export { llamaReferenceOnnx } from './llama-onnx.js';
export { shardedSafetensors } from './shards.js';
export { CHATML_TEMPLATE, END_OF_TEXT, IM_END, IM_START, trainChatBpe } from './llama-tokenizer.js';
export { T5_EOS_AFTER, TINY_T5 } from './t5.js';
export { FEWSHOT_TOPICS, fewShotTask, type FewShotRow } from './fewshot-task.js';
