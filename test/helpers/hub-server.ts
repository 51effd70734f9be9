/**
 * A real HTTP server on loopback playing the Hugging Face Hub for `hf:` sources (point HF_ENDPOINT at
 * `url`): the API's file list with sizes and LFS checksums at a revision
 * (GET /api/models/<org>/<name>/revision/<rev>?blobs=true), and the files of a commit
 * (GET /<org>/<name>/resolve/<commit or branch>/<path>). Each repository has commits (a folder each)
 * and refs (branch or tag → commit); tests can move a ref, change what a file's bytes are on the wire
 * (`tamper`) or what the API says (`listing`), and read which paths were requested.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, relative } from 'node:path';

export interface HubRepo {
  /** commit sha (40 hex) → the folder holding the repository's files at that commit. */
  commits: Record<string, string>;
  /** branch or tag → commit. */
  refs: Record<string, string>;
}

export interface HubSibling {
  rfilename: string;
  size: number;
  blobId: string;
  lfs?: { sha256: string; size: number; pointerSize: number };
}

export interface LoopbackHub {
  url: string;
  repos: Map<string, HubRepo>;
  /** Every request's path, in order. */
  requests: string[];
  /** Changes the bytes served for a file (repo id, path in the repo); return them unchanged to leave it. */
  tamper: ((repo: string, file: string, bytes: Buffer) => Buffer) | null;
  /** Changes the API's file list of a repository. */
  listing: ((repo: string, siblings: HubSibling[]) => HubSibling[]) | null;
  /** The paths of file downloads (resolve/...) requested since `since` requests. */
  downloads(since?: number): string[];
  close(): Promise<void>;
}

/** A commit id from a label, so tests can name commits. */
export const commitOf = (label: string): string => createHash('sha1').update(label).digest('hex');

function filesUnder(root: string, dir = root): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? filesUnder(root, p) : [relative(root, p)];
  }).sort();
}

/** Files the Hub keeps in LFS (as a repository's .gitattributes does for weights). */
const isLfs = (file: string): boolean => /\.(safetensors|onnx|onnx_data|bin)$/.test(file);

function siblingsOf(folder: string): HubSibling[] {
  return filesUnder(folder).map((rfilename) => {
    const bytes = readFileSync(join(folder, rfilename));
    const sibling: HubSibling = { rfilename, size: bytes.length, blobId: createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex') };
    if (isLfs(rfilename)) sibling.lfs = { sha256: createHash('sha256').update(bytes).digest('hex'), size: bytes.length, pointerSize: 134 };
    return sibling;
  });
}

export async function startLoopbackHub(repos: Record<string, HubRepo> = {}): Promise<LoopbackHub> {
  const hub: LoopbackHub = {
    url: '',
    repos: new Map(Object.entries(repos)),
    requests: [],
    tamper: null,
    listing: null,
    downloads(since = 0) {
      return this.requests.slice(since).filter((r) => r.includes('/resolve/'));
    },
    close: async () => {},
  };
  const commitAt = (repo: HubRepo, revision: string): string | undefined => repo.refs[revision] ?? (repo.commits[revision] ? revision : undefined);
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent((req.url ?? '').split('?')[0]!);
    hub.requests.push(path);
    const notFound = (): void => {
      res.statusCode = 404;
      res.end(JSON.stringify({ error: 'Repository not found' }));
    };
    const api = /^\/api\/models\/([^/]+\/[^/]+)\/revision\/(.+)$/.exec(path);
    if (api) {
      const repo = hub.repos.get(api[1]!);
      const commit = repo && commitAt(repo, api[2]!);
      if (!repo || !commit) return notFound();
      const siblings = siblingsOf(repo.commits[commit]!);
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ id: api[1], sha: commit, siblings: hub.listing ? hub.listing(api[1]!, siblings) : siblings }));
      return;
    }
    const file = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(path);
    const repo = file && hub.repos.get(file[1]!);
    const commit = repo && commitAt(repo, file![2]!);
    if (!file || !repo || !commit) return notFound();
    const folder = repo.commits[commit]!;
    if (!filesUnder(folder).includes(file[3]!)) return notFound();
    const bytes = readFileSync(join(folder, file[3]!));
    res.end(hub.tamper ? hub.tamper(file[1]!, file[3]!, bytes) : bytes);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  hub.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  hub.close = () => new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
  return hub;
}
