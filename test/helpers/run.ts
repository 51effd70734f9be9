import { spawn } from 'node:child_process';

export interface Run {
  status: number | null;
  stdout: string;
  /** Bytes written to standard output (with stdoutBytesOnly, the output itself is not kept). */
  stdoutBytes: number;
  stderr: string;
}

/**
 * Runs a command without blocking this process's event loop (the server under test may live in
 * this process), with optional standard input and extra environment variables; killed after 60 s.
 */
export function run(cmd: string, args: string[], options: { input?: string; env?: NodeJS.ProcessEnv; stdoutBytesOnly?: boolean; cwd?: string } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...options.env }, ...(options.cwd ? { cwd: options.cwd } : {}) });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    let stdoutBytes = 0;
    child.stdout.on('data', (d: Buffer) => {
      stdoutBytes += d.length;
      if (!options.stdoutBytesOnly) stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr, stdoutBytes });
    });
    child.stdin.end(options.input ?? '');
  });
}
