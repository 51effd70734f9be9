import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startServer, type RunningServer } from '../../dist/src/server/server.js';
import type { ServerConfig } from '../../dist/src/server/config.js';

export interface TestServer extends RunningServer {
  dataDir: string;
  /** A connected node-postgres client; closed by stop(). */
  client(options?: Partial<pg.ClientConfig>): Promise<pg.Client>;
  stop(): Promise<void>;
}

/** Starts a real aiduck server on an ephemeral loopback port with a fresh data directory. */
export async function startTestServer(overrides: Partial<ServerConfig> = {}): Promise<TestServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'aiduck-test-'));
  const server = await startServer({
    host: '127.0.0.1',
    port: 0,
    dataDir,
    storage: 'file',
    user: 'aiduck',
    importDirs: [],
    maxConnections: 20,
    maxMessageBytes: 64 * 1024 * 1024,
    threads: 2,
    ...overrides,
  });
  const clients: pg.Client[] = [];
  return {
    ...server,
    dataDir,
    async client(options = {}) {
      const c = new pg.Client({ host: '127.0.0.1', port: server.port, user: 'aiduck', database: 'aiduck', ...options });
      c.on('error', () => undefined);
      await c.connect();
      clients.push(c);
      return c;
    },
    async stop() {
      await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
      await server.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
