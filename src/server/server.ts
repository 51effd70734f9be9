import { createServer, type Server, type Socket } from 'node:net';
import { readFileSync, realpathSync } from 'node:fs';
import { sep } from 'node:path';
import { randomInt } from 'node:crypto';
import { createSecureContext, type SecureContext } from 'node:tls';
import { EngineClient } from '../engine/client.js';
import { ClientConnection, type ConnectionHost } from './connection.js';
import { DEFAULTS, dataLayout, isLoopback, type ServerConfig } from './config.js';
import { AuthThrottle } from './auth-throttle.js';
import { LoginBudget } from './login-budget.js';
import { makeScramVerifier } from './scram.js';
import { ConsolePortInUse, startConsole, type RunningConsole } from '../console/console-server.js';

export interface RunningServer {
  host: string;
  port: number;
  config: ServerConfig;
  /**
   * Settles if the engine thread dies (out of memory, a crash): the listener is then closed and
   * every session ended; the process should exit so a supervisor can start it again.
   */
  engineFailed: Promise<string>;
  /** The web console, unless config.httpPort is unset. */
  console: RunningConsole | null;
  /** Why the console is not served although config.httpPort is set (its default port was taken), or null. */
  consoleNotStarted: string | null;
  /**
   * Cancels the statement the session with this backend pid is running, as a CancelRequest with its
   * key would; false if no such session is open.
   */
  cancelBackend(pid: number): boolean;
  /** Stops accepting, closes all sessions and the database. */
  close(): Promise<void>;
}

/** Starts the engine worker and the Postgres listener. */
export async function startServer(config: ServerConfig): Promise<RunningServer> {
  if (!config.password && !isLoopback(config.host)) {
    throw new Error(
      `refusing to listen on ${config.host} without a password: set AIDUCK_PASSWORD (or --password) ` +
      'to require SCRAM-SHA-256 authentication, or listen on 127.0.0.1');
  }
  if (Boolean(config.tlsCert) !== Boolean(config.tlsKey)) throw new Error('TLS needs both --tls-cert and --tls-key');
  const pem = config.tlsCert && config.tlsKey ? { cert: readFileSync(config.tlsCert), key: readFileSync(config.tlsKey) } : null;
  const tls: SecureContext | null = pem ? createSecureContext(pem) : null;
  const layout = dataLayout(config);
  refuseImportDirsHoldingTheDatabase(config.importDirs, layout.dataDir);
  const engine = await EngineClient.start({
    databasePath: layout.databasePath,
    tmpDir: layout.tmpDir,
    dataDir: layout.dataDir,
    allowedDirs: [layout.filesDir, layout.tmpDir, ...config.importDirs].map((d) => (d.endsWith('/') ? d : d + '/')),
    allowedKeyEnvs: config.allowedKeyEnvs ?? [],
    maxConnections: config.maxConnections,
    user: config.user,
    ...(config.threads ? { threads: config.threads } : {}),
    ...(config.memoryLimit ? { memoryLimit: config.memoryLimit } : {}),
    ...(config.engineHeapMb ? { heapLimitMb: config.engineHeapMb } : {}),
  });

  const connections = new Map<number, ClientConnection>();
  const sockets = new Set<Socket>();
  let nextPid = randomInt(1000, 30000);
  const logins = new LoginBudget(config.maxPendingLogins ?? DEFAULTS.maxPendingLogins);
  const host: ConnectionHost = {
    engine,
    verifier: config.password ? makeScramVerifier(config.password) : null,
    user: config.user,
    tls,
    maxMessageBytes: config.maxMessageBytes,
    authTimeoutMs: config.authTimeoutMs ?? DEFAULTS.authTimeoutMs,
    logins,
    throttle: new AuthThrottle(),
    register(conn) {
      if (connections.size >= config.maxConnections) return false;
      connections.set(conn.pid, conn);
      return true;
    },
    unregister(conn) {
      if (connections.get(conn.pid) === conn) connections.delete(conn.pid);
    },
    cancel(pid, secret) {
      connections.get(pid)?.cancelIfMatches(secret);
    },
  };

  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    new ClientConnection(socket, nextPid++, randomInt(0, 2 ** 31 - 1), host);
  });
  // Sessions, logins in progress, and as many again for sockets that are being closed (an evicted
  // login lingers a second to receive its error).
  server.maxConnections = config.maxConnections + 2 * logins.max + 16;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const cancelBackend = (pid: number): boolean => {
    const conn = connections.get(pid);
    return conn ? conn.cancelIfMatches(conn.secret) : false;
  };
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  let webConsole: RunningConsole | null = null;
  let consoleNotStarted: string | null = null;
  try {
    if (config.httpPort !== undefined) {
      webConsole = await startConsole({
        host: config.host, port: config.httpPort, pgPort: port, passwordRequired: Boolean(config.password), user: config.user, tls: pem, cancelBackend,
      });
    }
  } catch (err) {
    if (err instanceof ConsolePortInUse && config.httpPortIsDefault) {
      consoleNotStarted = err.message;
    } else {
      server.close();
      await engine.stop();
      throw err;
    }
  }
  const engineFailed = new Promise<string>((resolve) => engine.onFailure((reason) => {
    void webConsole?.close();
    server.close();
    for (const s of sockets) s.destroy();
    resolve(reason);
  }));
  return {
    host: config.host,
    port,
    config,
    engineFailed,
    console: webConsole,
    consoleNotStarted,
    cancelBackend,
    async close() {
      await webConsole?.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
      // The engine interrupts its sessions and waits for their queries to end before it closes the
      // database (closing it under a running query can abort the process).
      await engine.stop();
    },
  };
}

/**
 * SQL may read and write under the import directories; the database file, its write-ahead log and
 * DuckDB's spill files live in the data directory, so no import directory may contain it.
 */
function refuseImportDirsHoldingTheDatabase(importDirs: readonly string[], dataDir: string): void {
  const real = (p: string): string => {
    try {
      return realpathSync(p);
    } catch {
      return p;
    }
  };
  const data = real(dataDir);
  for (const dir of importDirs) {
    const d = real(dir).replace(/\/+$/, '');
    if (data === d || data.startsWith(d + sep) || d === '') {
      throw new Error(`--import-dir ${dir} contains the data directory ${dataDir}: SQL could read and write the database file, ` +
        'its write-ahead log and temporary files there; import from a directory outside it (or put files in <data>/files)');
    }
  }
}
