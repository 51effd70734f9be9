/**
 * `<data>/server.json`: where the server of a data directory listens, written by `aiduck serve` once
 * it listens and removed when it stops, so that `aiduck sql` finds it whatever port it was given
 * (as Postgres clients find a server through its socket and postmaster.pid).
 */
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ServerFile {
  pid: number;
  host: string;
  port: number;
  user: string;
  version: string;
}

const fileOf = (dataDir: string): string => join(dataDir, 'server.json');

export function writeServerFile(dataDir: string, info: ServerFile): void {
  const tmp = `${fileOf(dataDir)}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(info) + '\n', { mode: 0o600 });
  renameSync(tmp, fileOf(dataDir));
}

/** Removes the file if it is still this process's (a newer server may have replaced it). */
export function removeServerFile(dataDir: string, pid: number): void {
  if (readServerFile(dataDir)?.pid === pid) rmSync(fileOf(dataDir), { force: true });
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** The live server of a data directory, or null (no file, an unreadable one, or its process is gone). */
export function readServerFile(dataDir: string): ServerFile | null {
  let info: Partial<ServerFile>;
  try {
    info = JSON.parse(readFileSync(fileOf(dataDir), 'utf8')) as Partial<ServerFile>;
  } catch {
    return null;
  }
  const { pid, host, port, user, version } = info;
  if (typeof pid !== 'number' || typeof host !== 'string' || typeof port !== 'number' || typeof user !== 'string') return null;
  if (!alive(pid)) return null;
  return { pid, host, port, user, version: typeof version === 'string' ? version : '' };
}

/** The address a client on this machine reaches a listen address at. */
export const connectHost = (listenHost: string): string => (listenHost === '0.0.0.0' ? '127.0.0.1' : listenHost === '::' ? '::1' : listenHost);
