/**
 * A model folder as data: relative path → file content (JSON documents, text, or bytes such as .onnx).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Json } from './tokenizers.js';

export type FileContent = Json | Uint8Array;
export type ModelFiles = Record<string, FileContent>;

function serialize(path: string, content: FileContent): Uint8Array | string {
  if (content instanceof Uint8Array) return content;
  if (typeof content === 'string' && !path.endsWith('.json')) return content;
  return JSON.stringify(content, null, 2) + '\n';
}

/** Writes every file of `files` under `dir`, creating subfolders as needed. */
export async function writeModelFiles(dir: string, files: ModelFiles): Promise<void> {
  for (const [path, content] of Object.entries(files)) {
    const full = join(dir, path);
    await mkdir(dirname(full), { recursive: true });
    await writeFile(full, serialize(path, content));
  }
}
