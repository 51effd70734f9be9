/**
 * Downloads from the Hugging Face Hub (or the mirror HF_ENDPOINT names), as huggingface_hub's
 * snapshot_download does for the files aiduck runs: the revision is resolved to a commit by the repo's
 * API, which also lists the files with their sizes (and LFS checksums); each file is fetched from that
 * commit, its size and checksum verified, and the folder written straight into the artifact store
 * (staged under its root, fsynced, renamed under its digest). Which files depends on what the
 * repository is:
 *
 *   onnx         an onnx/ folder: the graphs transformers.js runs (fp32; quantized variants left out)
 *   safetensors  a Llama-family decoder without onnx/: model.safetensors, or the index and every shard it names
 *   adapter      a PEFT adapter (adapter_config.json): adapter_model.safetensors
 *
 * and always the small files beside them (config, tokenizer, chat templates, generation config,
 * sentence-transformers' modules.json and module configs). The cache directory remembers which commit
 * each revision was and which stored folder a commit's download became, so a registration of a commit
 * already stored downloads nothing, and one made offline uses what the revision was last.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, statfs, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { SqlError } from '../errors/sql-error.js';
import type { ArtifactStore, StoredArtifact } from './artifact-store.js';
import { shardFiles } from '../runtime/model-folders.js';
import { LLAMA_FAMILY } from './sources.js';

/** The Hub's address, read at call time (HF_ENDPOINT, as the Hugging Face tools name it, points at a mirror). */
const hub = (): string => (process.env['HF_ENDPOINT'] ?? 'https://huggingface.co').replace(/\/+$/, '');

/** A download that receives nothing for this long is given up. */
const STALL_MS = 30_000;

export type HubKind = 'onnx' | 'safetensors' | 'adapter';

interface HubFile {
  name: string;
  /** Bytes, as the API lists them (null when a mirror does not say). */
  size: number | null;
  /** sha256 of an LFS file's content. */
  sha256: string | null;
}

interface RepoInfo {
  /** The commit the revision is now, or null when the API does not say (then nothing is remembered). */
  commit: string | null;
  files: Map<string, HubFile>;
}

export interface HubDownload extends StoredArtifact {
  kind: HubKind;
  commit: string | null;
}

/** The small files read beside the weights: configs, tokenizers, chat templates, sentence-transformers modules. */
const SMALL_FILE = /^(?:[^/]+\.(?:json|txt|model|jinja)|additional_chat_templates\/[^/]+\.jinja|\d+_[A-Za-z]+\/config\.json)$/;
const ONNX_FILE = /^onnx\/(?:model|encoder_model|decoder_model_merged|decoder_model|decoder_with_past_model)\.onnx(?:_data)?$/;
const SAFETENSORS_FILE = 'model.safetensors';
const SAFETENSORS_INDEX_FILE = 'model.safetensors.index.json';
const ADAPTER_CONFIG_FILE = 'adapter_config.json';
const ADAPTER_WEIGHTS_FILE = 'adapter_model.safetensors';
/** Weight files that are never the small ones, even when named *.json. */
const NOT_SMALL = new Set([SAFETENSORS_INDEX_FILE]);

const cannotReach = (err: unknown): SqlError => {
  const e = err as Error;
  return new SqlError('08001', `cannot reach the Hugging Face Hub at ${hub()}: ${e.cause instanceof Error ? e.cause.message : e.message}`,
    'without network access, download the model elsewhere (huggingface-cli download <repo>) and register its folder by path');
};

async function hubFetch(url: string, signal: AbortSignal): Promise<Response> {
  const headers: Record<string, string> = {};
  const token = process.env['HF_TOKEN'];
  if (token) headers['authorization'] = `Bearer ${token}`;
  try {
    return await fetch(url, { headers, signal });
  } catch (err) {
    throw cannotReach(err);
  }
}

/** A path in the repository as a URL path, each segment encoded. */
const urlPath = (name: string): string => name.split('/').map(encodeURIComponent).join('/');

/** A file name from the API that may become a path under the staging folder: relative, no `..`. */
const safeName = (name: string): boolean =>
  name.length > 0 && !name.startsWith('/') && !name.includes('\\') && name.split('/').every((p) => p !== '' && p !== '.' && p !== '..');

async function repoInfo(repo: string, revision: string): Promise<RepoInfo> {
  const res = await hubFetch(`${hub()}/api/models/${repo}/revision/${encodeURIComponent(revision)}?blobs=true`, AbortSignal.timeout(STALL_MS));
  if (res.status === 401 || res.status === 403 || res.status === 404) {
    throw new SqlError('42704', `the Hub has no model ${repo}@${revision} (HTTP ${res.status})`, 'check the name and revision; private and gated models need HF_TOKEN in the server environment');
  }
  if (!res.ok) throw new SqlError('58030', `the Hub answered HTTP ${res.status} for ${repo}@${revision}`, 'try again later');
  let body: { sha?: unknown; siblings?: Array<{ rfilename?: unknown; size?: unknown; lfs?: { sha256?: unknown; size?: unknown } }> };
  try {
    body = (await res.json()) as typeof body;
  } catch (err) {
    throw new SqlError('58030', `the Hub's file list of ${repo}@${revision} is not JSON: ${(err as Error).message}`);
  }
  const files = new Map<string, HubFile>();
  for (const s of body.siblings ?? []) {
    if (typeof s.rfilename !== 'string' || !safeName(s.rfilename)) continue;
    const size = typeof s.lfs?.size === 'number' ? s.lfs.size : typeof s.size === 'number' ? s.size : null;
    const sha256 = typeof s.lfs?.sha256 === 'string' && /^[0-9a-f]{64}$/.test(s.lfs.sha256) ? s.lfs.sha256 : null;
    files.set(s.rfilename, { name: s.rfilename, size, sha256 });
  }
  const commit = typeof body.sha === 'string' && /^[0-9a-f]{40}$/.test(body.sha) ? body.sha : null;
  return { commit, files };
}

function readJson(file: string): unknown {
  return readFile(file, 'utf8').then((t) => JSON.parse(t) as unknown, () => null);
}

/** What the repository is, from its file list and config.json; a refusal says what aiduck runs instead. */
async function kindOf(repo: string, files: Map<string, HubFile>, staging: string): Promise<HubKind> {
  if (files.has(ADAPTER_CONFIG_FILE)) {
    if (files.has(ADAPTER_WEIGHTS_FILE)) return 'adapter';
    throw new SqlError('0A000', `${repo} is a PEFT adapter without ${ADAPTER_WEIGHTS_FILE} (its weights are a PyTorch pickle or missing)`,
      'aiduck reads adapters saved as safetensors: PeftModel.from_pretrained(base, dir).save_pretrained(dir, safe_serialization=True), then register that folder');
  }
  if ([...files.keys()].some((f) => ONNX_FILE.test(f))) return 'onnx';
  const config = (await readJson(join(staging, 'config.json'))) as { model_type?: unknown } | null;
  const modelType = typeof config?.model_type === 'string' ? config.model_type : null;
  const safetensors = files.has(SAFETENSORS_FILE) || files.has(SAFETENSORS_INDEX_FILE);
  if (safetensors && modelType !== null && LLAMA_FAMILY.includes(modelType)) return 'safetensors';
  const has = safetensors ? `safetensors weights of a ${modelType ?? 'model without model_type'}` : [...files.keys()].some((f) => /\.(bin|pt|pth|ckpt)$/.test(f)) ? 'PyTorch pickle weights' : 'no weights aiduck reads';
  throw new SqlError('0A000', `${repo} has ${has} and no ONNX graphs`,
    `aiduck runs ONNX models (an onnx/ folder: pick a repository from the Xenova or onnx-community organisations, or export with optimum) and Llama-family decoders (${LLAMA_FAMILY.join(', ')}) from safetensors`);
}

/** The weight files of a repository of this kind (the shards of a sharded checkpoint come from its index, read first). */
async function weightFiles(repo: string, kind: HubKind, files: Map<string, HubFile>, staging: string, fetchOne: (f: HubFile) => Promise<void>): Promise<HubFile[]> {
  const need = (name: string): HubFile => {
    const f = files.get(name);
    if (!f) throw new SqlError('22P02', `${repo}'s ${SAFETENSORS_INDEX_FILE} names ${name}, which the repository does not have`);
    return f;
  };
  switch (kind) {
    case 'onnx': return [...files.values()].filter((f) => ONNX_FILE.test(f.name));
    case 'adapter': return [need(ADAPTER_WEIGHTS_FILE)];
    case 'safetensors': {
      // As transformers: the single file when there is one, else the index and its shards.
      if (files.has(SAFETENSORS_FILE)) return [need(SAFETENSORS_FILE)];
      await fetchOne(need(SAFETENSORS_INDEX_FILE));
      return shardFiles(await readFile(join(staging, SAFETENSORS_INDEX_FILE), 'utf8')).map(need);
    }
  }
}

/** Refuses a download the disk cannot hold, before it starts. */
async function checkSpace(dir: string, files: readonly HubFile[], repo: string): Promise<void> {
  const needed = files.reduce((n, f) => n + (f.size ?? 0), 0);
  const s = await statfs(dir);
  const free = s.bavail * s.bsize;
  if (needed > free) {
    const gb = (n: number): string => `${(n / 1e9).toFixed(2)} GB`;
    throw new SqlError('53100', `${repo} needs ${gb(needed)} and ${dir} has ${gb(free)} free`, 'free some space (delete_model_version removes unused versions\' files) or move the data directory');
  }
}

/**
 * Fetches one file into `dest`, hashing it as it arrives; checks its size and (LFS files) its sha256
 * against the API's list. Returns the sha256.
 */
async function download(url: string, dest: string, file: HubFile, repo: string): Promise<string> {
  const stall = new AbortController();
  let timer = setTimeout(() => stall.abort(), STALL_MS);
  const alive = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => stall.abort(), STALL_MS);
  };
  try {
    const res = await hubFetch(url, stall.signal);
    if (!res.ok || !res.body) throw new SqlError('58030', `downloading ${repo}/${file.name} failed with HTTP ${res.status}`, 'try again; private and gated models need HF_TOKEN in the server environment');
    await mkdir(dirname(dest), { recursive: true });
    const hash = createHash('sha256');
    let bytes = 0;
    const meter = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        alive();
        hash.update(chunk);
        bytes += chunk.length;
        done(null, chunk);
      },
    });
    try {
      await pipeline(Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>), meter, createWriteStream(dest));
    } catch (err) {
      const why = stall.signal.aborted ? `nothing arrived for ${STALL_MS / 1000} s` : (err as Error).message;
      throw new SqlError('58030', `downloading ${repo}/${file.name} was cut off after ${bytes} bytes: ${why}`, 'try again');
    }
    if (file.size !== null && bytes !== file.size) {
      throw new SqlError('58030', `downloading ${repo}/${file.name} gave ${bytes} bytes; the Hub lists ${file.size}`, 'try again; a mirror (HF_ENDPOINT) may serve a different file');
    }
    const sha256 = hash.digest('hex');
    if (file.sha256 !== null && sha256 !== file.sha256) {
      throw new SqlError('58030', `downloading ${repo}/${file.name} gave content with sha256 ${sha256}; the Hub lists ${file.sha256}`, 'try again; a mirror (HF_ENDPOINT) may serve a different file');
    }
    return sha256;
  } finally {
    clearTimeout(timer);
  }
}

/** Where the cache remembers a repository's revisions (refs/) and which stored folder each commit became (snapshots/). */
const repoCache = (cacheDir: string, repo: string): string => join(cacheDir, ...repo.split('/'));
const refFile = (dir: string, revision: string): string => join(dir, 'refs', encodeURIComponent(revision));
const snapshotFile = (dir: string, commit: string): string => join(dir, 'snapshots', commit);

async function remember(file: string, value: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(tmp, value);
  await rename(tmp, file);
}

async function recall(file: string): Promise<string | null> {
  return existsSync(file) ? (await readFile(file, 'utf8')).trim() : null;
}

/** The stored folder of a commit downloaded before, held for the caller; null when it was never stored or has been collected since. */
async function storedSnapshot(store: ArtifactStore, dir: string, commit: string): Promise<HubDownload | null> {
  const line = await recall(snapshotFile(dir, commit));
  if (line === null) return null;
  const [digest = '', kind = ''] = line.split(' ');
  const held = await store.hold(digest);
  return held && (kind === 'onnx' || kind === 'safetensors' || kind === 'adapter') ? { ...held, kind, commit } : null;
}

export interface FetchOptions {
  store: ArtifactStore;
  cacheDir: string;
  /**
   * Checks the small files (config, tokenizer, modules) once they are in, before any weights are
   * fetched: a refusal here costs no download.
   */
  vet?: (folder: string, kind: HubKind) => Promise<void>;
}

/**
 * Downloads a Hub model's files at a revision into the artifact store, held for the caller (release it
 * as after `put`).
 */
export async function fetchFromHub(repo: string, revision: string, options: FetchOptions): Promise<HubDownload> {
  const { store } = options;
  const dir = repoCache(options.cacheDir, repo);
  let info: RepoInfo;
  try {
    info = await repoInfo(repo, revision);
  } catch (err) {
    // Offline, a revision downloaded before is what it was then (as huggingface_hub falls back to its cache).
    if (err instanceof SqlError && err.code === '08001') {
      const commit = await recall(refFile(dir, revision));
      const cached = commit === null ? null : await storedSnapshot(store, dir, commit);
      if (cached) return cached;
    }
    throw err;
  }
  if (info.commit !== null) {
    const cached = await storedSnapshot(store, dir, info.commit);
    if (cached) {
      await remember(refFile(dir, revision), info.commit);
      return cached;
    }
  }
  const at = encodeURIComponent(info.commit ?? revision);
  const staging = await store.staging();
  const hashes = new Map<string, string>();
  const fetchOne = async (f: HubFile): Promise<void> => {
    hashes.set(f.name, await download(`${hub()}/${repo}/resolve/${at}/${urlPath(f.name)}`, join(staging, f.name), f, repo));
  };
  let stored: StoredArtifact;
  let kind: HubKind;
  try {
    const small = [...info.files.values()].filter((f) => SMALL_FILE.test(f.name) && !NOT_SMALL.has(f.name));
    await checkSpace(store.root, small, repo);
    for (const f of small) await fetchOne(f);
    kind = await kindOf(repo, info.files, staging);
    await options.vet?.(staging, kind);
    const weights = await weightFiles(repo, kind, info.files, staging, fetchOne);
    await checkSpace(store.root, weights, repo);
    for (const f of weights) await fetchOne(f);
    stored = await store.adopt(staging, hashes);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  if (info.commit !== null) {
    await remember(snapshotFile(dir, info.commit), `${stored.digest} ${kind}`);
    await remember(refFile(dir, revision), info.commit);
  }
  return { ...stored, kind, commit: info.commit };
}

/**
 * Removes what earlier versions of aiduck downloaded into the cache directory itself (a copy of each
 * model as `<org>/<name>@<revision>`, and `.partial` folders): the files now live in the artifact
 * store only. Repository names cannot hold "@", so nothing of the current layout matches.
 */
export async function removeOldHubDownloads(cacheDir: string): Promise<void> {
  if (!existsSync(cacheDir)) return;
  for (const org of await readdir(cacheDir, { withFileTypes: true })) {
    if (!org.isDirectory()) continue;
    for (const entry of await readdir(join(cacheDir, org.name))) {
      if (entry.includes('@')) await rm(join(cacheDir, org.name, entry), { recursive: true, force: true });
    }
  }
}
