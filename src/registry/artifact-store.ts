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

/**
 * A content-addressed store of model folders: a folder is kept once under the digest of its
 * files' names and contents, so registering the same files twice costs nothing, and a version's
 * artifacts can never change under it.
 */
export class ArtifactStore {
  constructor(readonly root: string) {}

  /** Copies a folder into the store (write, fsync, rename) and returns its digest and location. */
  async put(folder: string): Promise<{ digest: string; path: string }> {
    const files = await listFiles(folder);
    const manifest = createHash('sha256');
    for (const f of files) manifest.update(`${f}\0${await sha256File(join(folder, f))}\n`);
    const digest = `sha256-${manifest.digest('hex')}`;
    const target = join(this.root, digest);
    if (existsSync(target)) return { digest, path: target };
    const staging = join(this.root, `.staging-${randomBytes(6).toString('hex')}`);
    try {
      for (const f of files) {
        const dest = join(staging, f);
        await mkdir(dirname(dest), { recursive: true });
        await copyFile(join(folder, f), dest);
        await fsyncPath(dest);
      }
      await mkdir(staging, { recursive: true });
      await rename(staging, target).catch((err: NodeJS.ErrnoException) => {
        // Another registration of the same files won the race: theirs is identical.
        if (!existsSync(target)) throw err;
      });
      await fsyncPath(this.root);
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
    return { digest, path: target };
  }
}
