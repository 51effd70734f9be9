import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import { VERSION } from '../package.js';
import { isLoopbackAddress, isLoopbackHost, parseCookies } from './access.js';
import type { CancelResponse, SessionInfo } from './api-types.js';
import { HttpError, intField, readJson, sendError, sendJson, stringField } from './http-util.js';
import { isRunningJob, readCurves, readExperiments, readJobs, readModels, readRuns } from './queries.js';
import { ConsoleSessions, type ConsoleSession } from './sessions.js';
import { DEFAULT_PAGE_SIZE } from './sql-workspace.js';
import { serveStatic } from './static-files.js';

const COOKIE = 'aiduck_console';

/** What the console is told by the server that starts it. */
export interface ConsoleOptions {
  /** The Postgres listener's address, which the console listens on too. */
  host: string;
  port: number;
  /** The Postgres listener's port: the console's sessions connect there. */
  pgPort: number;
  /** The server has a password: the console asks for it; without one it serves this machine only. */
  passwordRequired: boolean;
  /** The user a browser on this machine is logged in as when there is no password. */
  user: string;
  /** PEM certificate and key: the console is then served over HTTPS. */
  tls: { cert: Buffer; key: Buffer } | null;
  /** Cancels the statement of the session with this backend pid (RunningServer.cancelBackend). */
  cancelBackend(pid: number): boolean;
}

export interface RunningConsole {
  host: string;
  port: number;
  /** Where a browser on this machine opens it. */
  url: string;
  close(): Promise<void>;
}

/** The console's port is taken by another process. */
export class ConsolePortInUse extends Error {}

type Handler = (session: ConsoleSession, req: IncomingMessage, url: URL) => Promise<unknown>;

/**
 * The web console: the page's files and a small JSON API on the Postgres listener's host. Every
 * query goes through a Postgres session on the server's own port (see ConsoleSessions): the
 * console has no other path to the data.
 */
export async function startConsole(options: ConsoleOptions): Promise<RunningConsole> {
  const { passwordRequired, tls, cancelBackend } = options;
  const wildcard = options.host === '0.0.0.0' || options.host === '::' || options.host === '';
  const sessions = new ConsoleSessions({ host: wildcard ? '127.0.0.1' : options.host, port: options.pgPort }, cancelBackend);
  const cookie = (value: string, maxAge?: number): string =>
    `${COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict${tls ? '; Secure' : ''}${maxAge === undefined ? '' : `; Max-Age=${maxAge}`}`;

  const api: Record<string, { method: 'GET' | 'POST'; handle: Handler }> = {
    '/api/models': { method: 'GET', handle: (s) => readModels(s.pool) },
    '/api/jobs': { method: 'GET', handle: (s) => readJobs(s.pool) },
    '/api/jobs/cancel': {
      method: 'POST',
      handle: async (s, req): Promise<CancelResponse> => {
        const pid = intField(await readJson(req), 'pid');
        return { cancelled: (await isRunningJob(s.pool, pid)) && cancelBackend(pid) };
      },
    },
    '/api/sql/run': {
      method: 'POST',
      handle: async (s, req) => {
        const body = await readJson(req);
        return s.workspace.run(stringField(body, 'sql'), intField(body, 'pageSize', DEFAULT_PAGE_SIZE));
      },
    },
    '/api/sql/page': {
      method: 'POST',
      handle: async (s, req) => {
        const body = await readJson(req);
        return s.workspace.page(intField(body, 'resultId'), body['offset'] === 'last' ? 'last' : intField(body, 'offset'));
      },
    },
    '/api/sql/cancel': { method: 'POST', handle: async (s, req) => (await readJson(req), { cancelled: s.workspace.cancel() } satisfies CancelResponse) },
    '/api/runs/experiments': { method: 'GET', handle: (s) => readExperiments(s.pool) },
    '/api/runs': { method: 'GET', handle: (s, _req, url) => readRuns(s.pool, url.searchParams.get('experiment') ?? '') },
    '/api/runs/curves': {
      method: 'POST',
      handle: async (s, req) => {
        const ids = (await readJson(req))['runIds'];
        if (!Array.isArray(ids) || !ids.every((x) => typeof x === 'string') || ids.length > 50) {
          throw new HttpError(400, '"runIds" must be a list of at most 50 run ids');
        }
        return readCurves(s.pool, ids as string[]);
      },
    },
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // Without a password only this machine may use the console, as only it may use the SQL port.
    if (!passwordRequired && (!isLoopbackAddress(req.socket.remoteAddress) || !isLoopbackHost(req.headers.host))) {
      throw new HttpError(403, 'the console answers only on this machine when the server has no password: set AIDUCK_PASSWORD to open it to others');
    }
    const url = new URL(req.url ?? '/', 'http://console');
    if (req.method === 'POST') checkOrigin(req);
    if (req.method === 'GET' && (await serveStatic(url.pathname, res))) return;
    const id = parseCookies(req.headers.cookie).get(COOKIE);
    if (url.pathname === '/api/session' && req.method === 'GET') {
      let session = sessions.get(id);
      const headers: Record<string, string> = {};
      if (!session && !passwordRequired) {
        session = await sessions.login(options.user, undefined);
        headers['set-cookie'] = cookie(session.id);
      }
      const info: SessionInfo = { authenticated: session !== null, user: session?.user ?? null, passwordRequired, version: VERSION };
      return sendJson(res, 200, info, headers);
    }
    if (url.pathname === '/api/login' && req.method === 'POST') {
      const body = await readJson(req);
      const session = await sessions.login(stringField(body, 'user'), stringField(body, 'password'));
      if (id) await sessions.logout(id);
      const info: SessionInfo = { authenticated: true, user: session.user, passwordRequired, version: VERSION };
      return sendJson(res, 200, info, { 'set-cookie': cookie(session.id) });
    }
    if (url.pathname === '/api/logout' && req.method === 'POST') {
      if (id) await sessions.logout(id);
      return sendJson(res, 200, { authenticated: false }, { 'set-cookie': cookie('', 0) });
    }
    const route = api[url.pathname];
    if (!route) throw new HttpError(404, `no such page or API: ${url.pathname}`);
    if (req.method !== route.method) throw new HttpError(405, `${url.pathname} takes ${route.method}`);
    const session = sessions.get(id);
    if (!session) throw new HttpError(401, 'log in first');
    sendJson(res, 200, await route.handle(session, req, url));
  }

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) sendError(res, err);
      else res.destroy();
    });
  };
  const server: Server = tls ? createHttpsServer(tls, onRequest) : createHttpServer(onRequest);
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) => {
        reject(err.code === 'EADDRINUSE'
          ? new ConsolePortInUse(`the console's port ${options.port} is in use: choose another with --http-port, or turn the console off with --no-http`)
          : err);
      });
      server.listen(options.port, options.host, () => resolve());
    });
  } catch (err) {
    await sessions.closeAll();
    throw err;
  }
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const shownHost = wildcard ? '127.0.0.1' : options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    host: options.host,
    port,
    url: `${tls ? 'https' : 'http'}://${shownHost}:${port}/`,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await sessions.closeAll();
      await closed;
    },
  };
}

/** A request that changes something must come from the console's own page (with SameSite=Strict, a second guard against CSRF). */
function checkOrigin(req: IncomingMessage): void {
  const origin = req.headers.origin;
  if (origin === undefined) return;
  let host: string;
  try {
    host = new URL(origin).host;
  } catch {
    host = '';
  }
  if (host !== req.headers.host) throw new HttpError(403, 'requests from other sites are refused');
}
