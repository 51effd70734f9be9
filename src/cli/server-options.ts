import { resolve } from 'node:path';
import { DEFAULTS, type ServerConfig } from '../server/config.js';
import { parseCommand, UsageError } from './args.js';

/** The options of `aiduck serve`, which `aiduck sql` takes too (it may open the database itself). */
export const SERVER_OPTIONS = {
  host: { type: 'string' },
  port: { type: 'string' },
  'http-port': { type: 'string' },
  'no-http': { type: 'boolean' },
  data: { type: 'string' },
  memory: { type: 'boolean' },
  user: { type: 'string' },
  password: { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  'import-dir': { type: 'string', multiple: true },
  'allow-key-env': { type: 'string', multiple: true },
  'max-connections': { type: 'string' },
  'max-message-mb': { type: 'string' },
  'max-pending-logins': { type: 'string' },
  'auth-timeout': { type: 'string' },
  threads: { type: 'string' },
  'memory-limit': { type: 'string' },
} as const;

type ServerValues = ReturnType<typeof parseCommand<typeof SERVER_OPTIONS>>['values'];

function nonNegativeInt(command: string, name: string, v: string | undefined, fallback: number): number {
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(command, `${name} must be a non-negative integer, got "${v}"`);
  return n;
}

/** The data directory flags and environment name, as every command reads it. */
export const dataDirOf = (data: string | undefined, env: NodeJS.ProcessEnv): string => resolve(data ?? env['AIDUCK_DATA'] ?? DEFAULTS.dataDir);

/** The server configuration from parsed flags and the environment (flags win). */
export function serverConfig(command: string, values: Partial<ServerValues>, env: NodeJS.ProcessEnv): ServerConfig {
  const importDirs = [...(env['AIDUCK_IMPORT_DIRS']?.split(':').filter(Boolean) ?? []), ...(values['import-dir'] ?? [])];
  const password = values.password ?? env['AIDUCK_PASSWORD'];
  const tlsCert = values['tls-cert'] ?? env['AIDUCK_TLS_CERT'];
  const tlsKey = values['tls-key'] ?? env['AIDUCK_TLS_KEY'];
  const threads = nonNegativeInt(command, '--threads', values.threads ?? env['AIDUCK_THREADS'], 0);
  const memoryLimit = values['memory-limit'] ?? env['AIDUCK_MEMORY_LIMIT'];
  const allowedKeyEnvs = [...(env['AIDUCK_ALLOWED_KEY_ENVS']?.split(/[,:]/).map((s) => s.trim()).filter(Boolean) ?? []), ...(values['allow-key-env'] ?? [])];
  const engineHeapMb = nonNegativeInt(command, 'AIDUCK_ENGINE_HEAP_MB', env['AIDUCK_ENGINE_HEAP_MB'], 0);
  const noHttp = values['no-http'] || env['AIDUCK_NO_HTTP'] === '1';
  const httpPortGiven = values['http-port'] ?? env['AIDUCK_HTTP_PORT'];
  const httpPort = nonNegativeInt(command, '--http-port', httpPortGiven, DEFAULTS.httpPort);
  return {
    host: values.host ?? env['AIDUCK_HOST'] ?? DEFAULTS.host,
    port: nonNegativeInt(command, '--port', values.port ?? env['AIDUCK_PORT'], DEFAULTS.port),
    // A console on the default port gives way to another program there; one asked for must start.
    ...(noHttp ? {} : { httpPort, ...(httpPortGiven ? {} : { httpPortIsDefault: true }) }),
    dataDir: dataDirOf(values.data, env),
    storage: values.memory || env['AIDUCK_MEMORY'] === '1' ? 'memory' : 'file',
    user: values.user ?? env['AIDUCK_USER'] ?? DEFAULTS.user,
    importDirs: importDirs.map((d) => resolve(d)),
    maxConnections: nonNegativeInt(command, '--max-connections', values['max-connections'] ?? env['AIDUCK_MAX_CONNECTIONS'], DEFAULTS.maxConnections),
    maxMessageBytes: nonNegativeInt(command, '--max-message-mb', values['max-message-mb'], DEFAULTS.maxMessageBytes / 1024 / 1024) * 1024 * 1024,
    maxPendingLogins: Math.max(1, nonNegativeInt(command, '--max-pending-logins', values['max-pending-logins'] ?? env['AIDUCK_MAX_PENDING_LOGINS'], DEFAULTS.maxPendingLogins)),
    authTimeoutMs: Math.max(1, nonNegativeInt(command, '--auth-timeout', values['auth-timeout'] ?? env['AIDUCK_AUTH_TIMEOUT'], DEFAULTS.authTimeoutMs / 1000)) * 1000,
    ...(password ? { password } : {}),
    ...(tlsCert ? { tlsCert } : {}),
    ...(tlsKey ? { tlsKey } : {}),
    ...(threads ? { threads } : {}),
    ...(memoryLimit ? { memoryLimit } : {}),
    ...(engineHeapMb ? { engineHeapMb } : {}),
    ...(allowedKeyEnvs.length ? { allowedKeyEnvs } : {}),
  };
}

/** True when the address to connect to was chosen by a flag or AIDUCK_HOST/AIDUCK_PORT, not left to the defaults. */
export const addressGiven = (values: Partial<ServerValues>, env: NodeJS.ProcessEnv): boolean =>
  values.host !== undefined || values.port !== undefined || env['AIDUCK_HOST'] !== undefined || env['AIDUCK_PORT'] !== undefined;
