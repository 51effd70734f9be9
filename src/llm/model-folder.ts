/** Reading a Llama-family model folder in Hugging Face layout: its config, its tokenizer, what ends a turn. */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AutoTokenizer, env, type PreTrainedTokenizer } from '@huggingface/transformers';
import { SqlError } from '../errors/sql-error.js';
import { applyFolderChatTemplate } from './chat-template.js';
import { parseLlamaConfig, type LlamaConfig } from './llama-config.js';

export async function readLlamaConfig(folder: string): Promise<LlamaConfig> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(join(folder, 'config.json'), 'utf8'));
  } catch (err) {
    throw new SqlError('22P02', `config.json in ${folder} cannot be read as JSON: ${(err as Error).message}`);
  }
  return parseLlamaConfig(json);
}

/**
 * The folder's tokenizer (tokenizer.json, tokenizer_config.json), read locally, never downloaded, with
 * the chat template of chat_template.jinja where the folder has one (transformers 5 saves it only there).
 */
export async function loadTokenizer(folder: string): Promise<PreTrainedTokenizer> {
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.localModelPath = '/';
  const tokenizer = await AutoTokenizer.from_pretrained(folder, { local_files_only: true });
  applyFolderChatTemplate(tokenizer, folder);
  return tokenizer;
}

const idList = (v: unknown): number[] | null =>
  typeof v === 'number' ? [v] : Array.isArray(v) && v.every((x) => typeof x === 'number') ? (v as number[]) : null;

/**
 * The token ids that end a generation, as transformers' generate() takes them: generation_config.json's
 * eos_token_id (chat models list their end-of-turn token there, e.g. [<|im_end|>, <|endoftext|>]) when
 * the folder has that file and it names one, else config.json's.
 */
export async function readEndOfTurnIds(folder: string, config: LlamaConfig): Promise<number[]> {
  const file = join(folder, 'generation_config.json');
  if (existsSync(file)) {
    let json: { eos_token_id?: unknown };
    try {
      json = JSON.parse(await readFile(file, 'utf8')) as typeof json;
    } catch {
      throw new SqlError('22P02', `generation_config.json in ${folder} is not valid JSON`);
    }
    const ids = idList(json.eos_token_id);
    if (ids !== null) return [...new Set(ids)];
  }
  return config.eosTokenIds;
}
