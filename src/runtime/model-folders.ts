/**
 * What aiduck's own runtime reads of a model folder, asked before the folder is registered: whether it
 * has a chat template (which makes a decoder a chat model), whether a decoder's config.json and an
 * adapter on it are ones the runtime computes, which shards a sharded checkpoint's index names, and
 * how an embedding folder pools (sentence-transformers' modules). Refusals keep their SQLSTATE (0A000 for what is not
 * supported), so registration can refuse before it copies anything.
 */
import { hasChatTemplate } from '../llm/chat-template.js';
import { readLlamaConfig } from '../llm/model-folder.js';
import { readPeftAdapter } from '../llm/peft.js';
import { parseShardIndex } from '../llm/safetensors.js';
import { parsePoolingName, poolingName, readSentenceEmbedding } from '../llm/sentence-embedding.js';

export { hasChatTemplate, parsePoolingName, poolingName, readSentenceEmbedding };

/** Refuses a Llama-family folder whose config.json the runtime does not compute (rope type, architecture...). */
export async function checkDecoderFolder(folder: string): Promise<void> {
  await readLlamaConfig(folder);
}

/** Refuses an adapter folder the runtime does not compute on the base in `baseFolder`. */
export async function checkAdapterFolder(folder: string, baseFolder: string): Promise<void> {
  await readPeftAdapter(folder, await readLlamaConfig(baseFolder));
}

/** The shard files a model.safetensors.index.json names (each a file beside it; 22P02 for anything else). */
export function shardFiles(indexText: string): string[] {
  return [...parseShardIndex(indexText).keys()];
}
