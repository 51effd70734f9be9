/** Reading a Llama-family model folder in Hugging Face layout: its config and its tokenizer. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AutoTokenizer, env, type PreTrainedTokenizer } from '@huggingface/transformers';
import { parseLlamaConfig, type LlamaConfig } from './llama-config.js';

export async function readLlamaConfig(folder: string): Promise<LlamaConfig> {
  return parseLlamaConfig(JSON.parse(await readFile(join(folder, 'config.json'), 'utf8')));
}

/** The folder's tokenizer (tokenizer.json, tokenizer_config.json), read locally, never downloaded. */
export async function loadTokenizer(folder: string): Promise<PreTrainedTokenizer> {
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.localModelPath = '/';
  return AutoTokenizer.from_pretrained(folder, { local_files_only: true });
}
