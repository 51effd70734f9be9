// What the benchmarks share: options from the environment, failures, the build they measure, and a
// cleanup that runs once — on the way out, or on SIGINT/SIGTERM/SIGHUP — undoing in reverse order
// what was set up (stop the servers, then remove their directories).
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');

export class BenchError extends Error {}

let interrupted = false;

export function fail(message) {
  throw new BenchError(interrupted ? 'interrupted' : message);
}

export function positiveInt(name, fallback) {
  const v = process.env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) fail(`${name} must be a positive integer, got "${v}"`);
  return n;
}

function newestMtime(dir, ext) {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestMtime(p, ext));
    else if (e.name.endsWith(ext)) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

/** The built server module (dist/), with a warning when the sources are newer than the build. */
export async function importDistServer() {
  const distServer = join(root, 'dist', 'src', 'server', 'server.js');
  if (!existsSync(distServer)) fail('dist/ is missing: build first with `npx tsc -p tsconfig.json`');
  for (const src of ['src', 'udfs']) {
    if (existsSync(join(root, src)) && newestMtime(join(root, src), '.ts') > newestMtime(join(root, 'dist'), '.js')) {
      console.warn(`warning: ${src}/ is newer than dist/: rebuild with \`npx tsc -p tsconfig.json\` to measure the current code`);
      break;
    }
  }
  return import(pathToFileURL(distServer).href);
}

const cleanups = [];
let cleaning = null;

/** Registers an undo step; the last registered runs first. */
export function onCleanup(fn) {
  cleanups.push(fn);
}

function cleanup() {
  cleaning ??= (async () => {
    for (const c of cleanups.reverse()) {
      try {
        await c();
      } catch (e) {
        console.error(`cleanup: ${e instanceof Error ? e.message : e}`);
      }
    }
  })();
  return cleaning;
}

/** Runs a benchmark's main, reports a failure, cleans up, and exits (also on a signal, with 130). */
export async function runBench(main, what) {
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.once(sig, () => {
      interrupted = true;
      console.error(`\n${sig}: stopping ${what} and removing temporary files`);
      void cleanup().finally(() => process.exit(130));
    });
  }
  try {
    await main();
  } catch (e) {
    process.exitCode = 1;
    if (!interrupted) console.error(`\nbench failed: ${e instanceof BenchError ? e.message : e?.stack ?? e}`);
  } finally {
    await cleanup();
  }
  // The in-process server and its workers are closed; nothing should keep the process alive.
  process.exit(process.exitCode ?? 0);
}
