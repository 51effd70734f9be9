import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './reference-postgres.mjs';

const bin = fileURLToPath(new URL('../../bin/aiduck.js', import.meta.url));

export interface ServerProcess {
  port: number;
  pid: number;
  dataDir: string;
  child: ChildProcess;
  /** Everything the server printed so far. */
  output(): string;
  /** Settles with the exit code when the process ends. */
  exited: Promise<number | null>;
  /** The process's resident memory now, in MiB (from /proc). */
  rssMb(): number;
  /** CPU time used so far, in seconds: the whole process, and its main (socket-serving) thread alone. */
  cpuSeconds(): { total: number; socketThread: number };
  stop(): Promise<void>;
}

/**
 * `aiduck serve` as a process of its own (as users run it), on a free port with a fresh data
 * directory (or `dataDir`, kept after stop() with `keepData`): for what a test must observe from
 * outside, such as its memory, its exit code, or what survives a kill.
 */
export async function spawnServer(env: NodeJS.ProcessEnv = {}, args: string[] = [], options: { dataDir?: string; keepData?: boolean } = {}): Promise<ServerProcess> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'aiduck-proc-'));
  const port = await freePort();
  const child = spawn(process.execPath, [bin, 'serve', '--port', String(port), '--data', dataDir, ...args], {
    env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const deadline = Date.now() + 30_000;
  while (!out.includes('listening on')) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`aiduck serve did not start:\n${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    port, pid: child.pid!, dataDir, child, exited,
    output: () => out,
    cpuSeconds() {
      return { total: ticks(`/proc/${child.pid}/stat`), socketThread: ticks(`/proc/${child.pid}/task/${child.pid}/stat`) };
    },
    rssMb() {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
      return m ? Number(m[1]) / 1024 : NaN;
    },
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(killer);
      }
      if (!options.keepData) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** utime + stime of a /proc stat file, in seconds (the usual 100 ticks per second). */
function ticks(statFile: string): number {
  const fields = readFileSync(statFile, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Samples `sample()` every `ms` until `job` settles; returns the largest value seen. */
export async function peakWhile(job: Promise<unknown>, sample: () => number, ms = 100): Promise<number> {
  let peak = sample();
  let done = false;
  job.then(() => (done = true), () => (done = true));
  while (!done) {
    peak = Math.max(peak, sample());
    await new Promise((r) => setTimeout(r, ms));
  }
  return Math.max(peak, sample());
}
