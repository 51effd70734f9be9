import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { SqlWorkspace } from './sql-workspace.js';

/** Postgres sessions one browser session may hold: the SQL page's own, and a few for the pages' queries. */
const POOL_SIZE = 4;
/** A browser session unused this long is logged out. */
const SESSION_IDLE_MS = 8 * 60 * 60_000;
/** Browser sessions at once; the least recently used is logged out to make room. */
const MAX_SESSIONS = 32;

/** Where the console's sessions connect: the server's own Postgres listener. */
export interface PgTarget {
  host: string;
  port: number;
}

/**
 * A logged-in browser: a pool of Postgres sessions on the server's own port, opened with the
 * credentials the user logged in with, so every page reads what a SQL client of that user reads.
 */
export class ConsoleSession {
  readonly workspace: SqlWorkspace;
  lastSeen = Date.now();

  constructor(readonly id: string, readonly user: string, readonly pool: pg.Pool, cancelBackend: (pid: number) => boolean) {
    this.workspace = new SqlWorkspace(pool, cancelBackend);
  }

  async close(): Promise<void> {
    // A statement still running on the SQL page would hold the close until it ended.
    this.workspace.cancel();
    await this.workspace.close().catch(() => undefined);
    await this.pool.end().catch(() => undefined);
  }
}

export class ConsoleSessions {
  private readonly sessions = new Map<string, ConsoleSession>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly target: PgTarget, private readonly cancelBackend: (pid: number) => boolean) {
    this.sweeper = setInterval(() => this.sweep(), 60_000).unref();
  }

  /**
   * Opens a browser session by logging in to the server as a SQL client would: a wrong password is
   * refused by the server itself (28P01), which is the only place passwords are checked.
   */
  async login(user: string, password: string | undefined): Promise<ConsoleSession> {
    const pool = new pg.Pool({
      host: this.target.host, port: this.target.port, database: user, user, ssl: false,
      // Set even when the server needs none, so that PGPASSWORD in the environment is never sent.
      password: password ?? '',
      application_name: 'aiduck console',
      max: POOL_SIZE,
      idleTimeoutMillis: 10_000,
    });
    pool.on('error', () => undefined); // an idle session ended by the server is simply dropped
    try {
      const client = await pool.connect();
      client.release();
    } catch (err) {
      await pool.end().catch(() => undefined);
      throw err;
    }
    if (this.sessions.size >= MAX_SESSIONS) await this.evictOldest();
    const session = new ConsoleSession(randomBytes(32).toString('base64url'), user, pool, this.cancelBackend);
    this.sessions.set(session.id, session);
    return session;
  }

  get(id: string | undefined): ConsoleSession | null {
    const session = id ? this.sessions.get(id) : undefined;
    if (!session) return null;
    session.lastSeen = Date.now();
    return session;
  }

  async logout(id: string): Promise<void> {
    const session = this.sessions.get(id);
    this.sessions.delete(id);
    await session?.close();
  }

  async closeAll(): Promise<void> {
    clearInterval(this.sweeper);
    const all = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.all(all.map((s) => s.close()));
  }

  private async evictOldest(): Promise<void> {
    let oldest: ConsoleSession | null = null;
    for (const s of this.sessions.values()) if (!oldest || s.lastSeen < oldest.lastSeen) oldest = s;
    if (oldest) await this.logout(oldest.id);
  }

  private sweep(): void {
    const cutoff = Date.now() - SESSION_IDLE_MS;
    for (const s of this.sessions.values()) if (s.lastSeen < cutoff) void this.logout(s.id);
  }
}
