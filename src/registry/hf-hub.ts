import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { SqlError } from '../errors/sql-error.js';

/** The Hub's address, read at call time (HF_ENDPOINT, as the Hugging Face tools name it, points at a mirror). */
const hub = (): string => (process.env['HF_ENDPOINT'] ?? 'https://huggingface.co').replace(/\/+$/, '');
/** The files transformers.js reads for CPU inference in fp32 (and chat_template.jinja, where transformers 5 keeps the template); quantized and fp16 variants are left out. */
const WANTED = /^(?:[^/]+\.(?:json|txt|model|jinja)|additional_chat_templates\/[^/]+\.jinja|onnx\/(?:model|encoder_model|decoder_model_merged|decoder_model|decoder_with_past_model)\.onnx(?:_data)?)$/;

async function hubFetch(url: string): Promise<Response> {
  const headers: Record<string, string> = {};
  const token = process.env['HF_TOKEN'];
  if (token) headers['authorization'] = `Bearer ${token}`;
  try {
    return await fetch(url, { headers, signal: AbortSignal.timeout(30_000) });
  } catch (err) {
    throw new SqlError('08001', `cannot reach the Hugging Face Hub at ${hub()}: ${(err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message}`,
      'without network access, download the model elsewhere (huggingface-cli download <repo>) and register its folder by path');
  }
}

/**
 * Downloads a Hub model's inference files into `<cacheDir>/<org>/<name>@<revision>` once and
 * returns that folder; later registrations of the same revision reuse it.
 */
export async function fetchFromHub(repo: string, revision: string, cacheDir: string): Promise<string> {
  const folder = join(cacheDir, ...repo.split('/')).concat(`@${revision.replace(/\//g, '_')}`);
  if (existsSync(join(folder, 'config.json'))) return folder;
  const info = await hubFetch(`${hub()}/api/models/${repo}/revision/${encodeURIComponent(revision)}`);
  if (!info.ok) throw new SqlError('42704', `the Hub has no model ${repo}@${revision} (HTTP ${info.status})`, 'check the name and revision; private models need HF_TOKEN in the server environment');
  const files = ((await info.json()) as { siblings?: Array<{ rfilename: string }> }).siblings?.map((s) => s.rfilename).filter((f) => WANTED.test(f)) ?? [];
  if (!files.some((f) => f.startsWith('onnx/'))) {
    throw new SqlError('0A000', `${repo} has no ONNX weights`, 'aiduck runs ONNX models: pick a repository with an onnx/ folder (for example from the Xenova or onnx-community organisations)');
  }
  const staging = `${folder}.partial`;
  await rm(staging, { recursive: true, force: true });
  for (const f of files) {
    const res = await hubFetch(`${hub()}/${repo}/resolve/${encodeURIComponent(revision)}/${f}`);
    if (!res.ok || !res.body) throw new SqlError('58030', `downloading ${repo}/${f} failed with HTTP ${res.status}`);
    const dest = join(staging, f);
    await mkdir(dirname(dest), { recursive: true });
    await pipeline(Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>), createWriteStream(dest));
  }
  await mkdir(dirname(folder), { recursive: true });
  await rename(staging, folder);
  return folder;
}
