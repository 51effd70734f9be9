import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { copyFile, mkdir, open, readdir, rename, rm } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';

/** Every file under a folder, as paths relative to it, in a stable order. */
async function listFiles(root: string, dir = root): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    if (e.name.startsWith('.')) continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await listFiles(root, p)));
    else if (e.isFile()) out.push(relative(root, p));
  }
  return out.sort();
}

function sha256File(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(path).on('data', (d) => h.update(d)).on('error', reject).on('end', () => resolve(h.digest('hex')));
  });
}

async function fsyncPath(path: string): Promise<void> {
  const f = await open(path, 'r');
  try {
    await f.sync();
  } finally {
    await f.close();
  }
}

const DIGEST_DIR = /^sha256-[0-9a-f]{64}$/;

/** A folder's content address: the sha256 of its files' names and contents, in name order. */
function digestOf(hashes: ReadonlyMap<string, string>): string {
  const manifest = createHash('sha256');
  for (const f of [...hashes.keys()].sort()) manifest.update(`${f}\0${hashes.get(f)}\n`);
  return `sha256-${manifest.digest('hex')}`;
}

export interface StoredArtifact {
  digest: string;
  path: string;
}

/**
 * A content-addressed store of model folders: a folder is kept once under the digest of its
 * files' names and contents, so registering the same files twice costs nothing, and a version's
 * artifacts can never change under it.
 *
 * A folder is held (pinned) by the command that stored it until that command has committed the
 * version that references it, or failed: then `collect` removes what no version references, so a
 * refused registration leaves nothing behind. Pins and removals are decided under one lock, so a
 * folder being registered again is never removed under the second registration.
 */
export class ArtifactStore {
  private readonly pins = new Map<string, number>();
  private lock: Promise<unknown> = Promise.resolve();

  constructor(readonly root: string) {}

  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const next = this.lock.then(work, work);
    this.lock = next.catch(() => undefined);
    return next;
  }

  private held(digest: string): StoredArtifact {
    this.pins.set(digest, (this.pins.get(digest) ?? 0) + 1);
    return { digest, path: join(this.root, digest) };
  }

  /**
   * Copies a folder into the store (write, fsync, rename) and returns its digest and location, held
   * for the caller: `release` it once the version that references it is committed (or not).
   */
  async put(folder: string): Promise<StoredArtifact> {
    const files = await listFiles(folder);
    const hashes = new Map<string, string>();
    for (const f of files) hashes.set(f, await sha256File(join(folder, f)));
    const digest = digestOf(hashes);
    const present = await this.hold(digest);
    if (present) return present;
    const staging = await this.staging();
    try {
      for (const f of files) {
        const dest = join(staging, f);
        await mkdir(dirname(dest), { recursive: true });
        await copyFile(join(folder, f), dest);
      }
      return await this.adopt(staging, hashes);
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
  }

  /** A new empty folder under the store's root to write files into before `adopt` (a crash leaves it to removeLeftovers). */
  async staging(): Promise<string> {
    const dir = join(this.root, `.staging-${randomBytes(6).toString('hex')}`);
    await mkdir(dir, { recursive: true });
    return dir;
  }

  /**
   * Stores a folder written under `staging()`: its files are fsynced and the folder renamed to its
   * digest (or dropped, when the store already holds the same files), held for the caller.
   * `hashes` gives the files' sha256 when the writer computed them; the others are read.
   */
  async adopt(staging: string, hashes: ReadonlyMap<string, string> = new Map()): Promise<StoredArtifact> {
    const files = await listFiles(staging);
    const all = new Map<string, string>();
    for (const f of files) {
      all.set(f, hashes.get(f) ?? (await sha256File(join(staging, f))));
      await fsyncPath(join(staging, f));
    }
    const digest = digestOf(all);
    const target = join(this.root, digest);
    return this.exclusive(async () => {
      // Another registration of the same files may have stored them meanwhile: theirs is identical.
      if (!existsSync(target)) {
        await rename(staging, target);
        await fsyncPath(this.root);
      } else {
        await rm(staging, { recursive: true, force: true });
      }
      return this.held(digest);
    });
  }

  /** Holds a stored folder by its digest, as `put` does; null when the store does not have it (any more). */
  hold(digest: string): Promise<StoredArtifact | null> {
    if (!DIGEST_DIR.test(digest)) return Promise.resolve(null);
    return this.exclusive(async () => (existsSync(join(this.root, digest)) ? this.held(digest) : null));
  }

  /** Lets go of a folder `put` returned. */
  release(digest: string): void {
    const n = (this.pins.get(digest) ?? 0) - 1;
    if (n > 0) this.pins.set(digest, n);
    else this.pins.delete(digest);
  }

  /**
   * Removes stored folders (those named, or all) that no command holds and `referenced` (the locations
   * the committed registry points at, read under the store's lock) does not name; returns their digests.
   */
  async collect(referenced: () => Promise<ReadonlySet<string>>, digests?: Iterable<string>): Promise<string[]> {
    if (!existsSync(this.root)) return [];
    const trash: string[] = [];
    const removed = await this.exclusive(async () => {
      const candidates = digests === undefined ? (await readdir(this.root)).filter((d) => DIGEST_DIR.test(d)) : [...new Set(digests)];
      const loose = candidates.filter((d) => DIGEST_DIR.test(d) && !this.pins.has(d) && existsSync(join(this.root, d)));
      if (loose.length === 0) return [];
      const kept = await referenced();
      const gone: string[] = [];
      for (const d of loose) {
        if (kept.has(join(this.root, d))) continue;
        // Renamed away first, so no one ever sees a half-removed folder under its digest.
        const away = join(this.root, `.trash-${randomBytes(6).toString('hex')}`);
        await rename(join(this.root, d), away);
        trash.push(away);
        gone.push(d);
      }
      return gone;
    });
    for (const t of trash) await rm(t, { recursive: true, force: true });
    return removed;
  }

  /**
   * Removes what work cut short by a crash left: staging, training and merge folders and removals that
   * did not finish. Only while no command runs (at start).
   */
  async removeLeftovers(): Promise<void> {
    if (!existsSync(this.root)) return;
    for (const e of await readdir(this.root)) {
      if (e.startsWith('.')) await rm(join(this.root, e), { recursive: true, force: true });
    }
  }
}
