import pg from 'pg';
import { startTestServer } from './server.js';
import { startReferencePostgres } from './reference-postgres.mjs';

/** A node-postgres client of a fresh aiduck and one of a fresh PostgreSQL 15, for comparing answers. */
export interface ClientPair {
  ours: pg.Client;
  theirs: pg.Client;
  stop(): Promise<void>;
}

export async function startClientPair(config: Partial<pg.ClientConfig> = {}): Promise<ClientPair> {
  const [server, reference] = await Promise.all([startTestServer(), startReferencePostgres()]);
  const ours = await server.client(config);
  const theirs = new pg.Client({ host: reference.host, port: reference.port, user: reference.user, database: reference.database, ...config });
  await theirs.connect();
  return {
    ours,
    theirs,
    async stop() {
      await Promise.all([ours.end().catch(() => undefined), theirs.end().catch(() => undefined)]);
      await Promise.all([server.stop(), reference.stop()]);
    },
  };
}
