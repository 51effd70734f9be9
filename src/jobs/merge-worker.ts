/**
 * merge_adapter's work, in a thread of its own: base weights + (alpha / r)·B·A for every adapted
 * module, written as a complete model folder (the base's config and tokenizer files, merged weights).
 * An adapter on tied embeddings' embedding or output layer unties them (config.json says so).
 */
import { copyFile, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { readLlamaConfig } from '../llm/model-folder.js';
import { mergeAdapter, mergeUnties } from '../llm/lora.js';
import { readPeftAdapter } from '../llm/peft.js';
import { loadFolderWeights, writeSafetensors } from '../llm/safetensors.js';
import { errorMessage, type JobEnd } from './worker-job.js';

export interface MergeJobInput {
  baseFolder: string;
  adapterFolder: string;
  outDir: string;
}

const WEIGHT_FILE = /\.(safetensors|bin|pt|pth|ckpt|gguf)$|^model\.safetensors\.index\.json$/;

async function run(input: MergeJobInput): Promise<void> {
  const config = await readLlamaConfig(input.baseFolder);
  const adapter = await readPeftAdapter(input.adapterFolder, config);
  const merged = mergeAdapter(config, await loadFolderWeights(input.baseFolder), adapter);
  for (const e of await readdir(input.baseFolder, { withFileTypes: true })) {
    if (e.isFile() && !WEIGHT_FILE.test(e.name)) await copyFile(join(input.baseFolder, e.name), join(input.outDir, e.name));
  }
  if (mergeUnties(config, adapter)) {
    const file = join(input.outDir, 'config.json');
    const json = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
    await writeFile(file, JSON.stringify({ ...json, tie_word_embeddings: false }, null, 2) + '\n');
  }
  await writeSafetensors(join(input.outDir, 'model.safetensors'), merged, { format: 'pt' });
}

const post = (m: JobEnd): void => parentPort!.postMessage(m);
run(workerData as MergeJobInput).then(() => post({ t: 'done' }), (err: unknown) => post(errorMessage(err, 'merge_adapter')));
