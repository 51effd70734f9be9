import { mkdirSync } from 'node:fs';
import { resolve, join } from 'node:path';

/** Everything `aiduck serve` is told by flags and environment variables. */
export interface ServerConfig {
  host: string;
  port: number;
  /** The web console's port on the same host; no console when absent (--no-http). */
  httpPort?: number;
  /** httpPort is the default, not asked for: when it is taken, the server starts without the console. */
  httpPortIsDefault?: boolean;
  /** Holds the database file, temporary files and the files SQL may read and write. */
  dataDir: string;
  /** 'file' for <dataDir>/aiduck.duckdb, 'memory' for an in-memory database. */
  storage: 'file' | 'memory';
  user: string;
  password?: string;
  tlsCert?: string;
  tlsKey?: string;
  /** Further directories SQL may read from (read_csv and friends). */
  importDirs: string[];
  /** Environment variables endpoints may name in api_key_env besides AIDUCK_KEY_* (--allow-key-env). */
  allowedKeyEnvs?: string[];
  maxConnections: number;
  maxMessageBytes: number;
  /** Connections still logging in, apart from maxConnections (DEFAULTS.maxPendingLogins when unset). */
  maxPendingLogins?: number;
  /** How long a client may take to authenticate (DEFAULTS.authTimeoutMs when unset). */
  authTimeoutMs?: number;
  threads?: number;
  memoryLimit?: string;
  /** The engine thread's JavaScript heap limit in MB; V8's default when unset. */
  engineHeapMb?: number;
}

export const DEFAULTS = {
  host: '127.0.0.1',
  port: 5433,
  httpPort: 5434,
  dataDir: 'aiduck-data',
  user: 'aiduck',
  maxConnections: 100,
  maxMessageBytes: 64 * 1024 * 1024,
  maxPendingLogins: 64,
  authTimeoutMs: 10_000,
} as const;

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}

/** The directories the server uses under its data directory, created if missing. */
export function dataLayout(config: ServerConfig): { dataDir: string; databasePath: string; tmpDir: string; filesDir: string } {
  const dataDir = resolve(config.dataDir);
  const tmpDir = join(dataDir, 'tmp');
  const filesDir = join(dataDir, 'files');
  for (const d of [dataDir, tmpDir, filesDir]) mkdirSync(d, { recursive: true });
  return { dataDir, databasePath: config.storage === 'memory' ? ':memory:' : join(dataDir, 'aiduck.duckdb'), tmpDir, filesDir };
}
