/**
 * The console's HTTP side on a real server: who may use it (password or loopback), its cookie, its
 * guards against other sites, and the SQL page's API (cursor paging, errors with their SQLSTATE,
 * its own session, cancel).
 */
import { request } from 'node:http';
import { connect, createServer } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isLoopbackAddress, isLoopbackHost } from '../src/console/access.js';
import { readCurves } from '../dist/src/console/queries.js';
import { startServer } from '../dist/src/server/server.js';
import { freePort } from './helpers/reference-postgres.mjs';
import { run } from './helpers/run.js';
import { spawnServer } from './helpers/server-process.js';
import { startTestServer, type TestServer } from './helpers/server.js';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Record<string, unknown>;
  text: string;
}

/** One HTTP request with full control of its headers (fetch would not let a test set Host). */
function call(url: string, path: string, options: { method?: string; headers?: Record<string, string>; body?: unknown; cookie?: string } = {}): Promise<Answer> {
  const u = new URL(path, url);
  const data = options.body === undefined ? undefined : JSON.stringify(options.body);
  const headers: Record<string, string> = {
    ...(data === undefined ? {} : { 'content-type': 'application/json' }),
    ...(options.cookie ? { cookie: options.cookie } : {}),
    ...options.headers,
  };
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path: u.pathname + u.search, method: options.method ?? (data === undefined ? 'GET' : 'POST'), headers }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d: string) => (text += d)).on('end', () => {
        let body: Record<string, unknown> = {};
        try {
          body = JSON.parse(text) as Record<string, unknown>;
        } catch {
          // not JSON: the page's files
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text });
      });
    });
    req.on('error', reject);
    req.end(data);
  });
}

const sessionCookie = (a: Answer): string => {
  const set = ([] as string[]).concat(a.headers['set-cookie'] ?? []);
  expect(set).toHaveLength(1);
  return set[0]!.split(';')[0]!;
};

describe('console without a password', () => {
  let server: TestServer;
  let url: string;
  let cookie: string;
  beforeAll(async () => {
    server = await startTestServer({ httpPort: 0 });
    url = server.console!.url;
  });
  afterAll(() => server?.stop());

  it('serves the page with a policy that loads nothing from elsewhere', async () => {
    const page = await call(url, '/');
    expect(page.status).toBe(200);
    expect(page.text).toMatch(/<script type="module" src="\/app.js">/);
    expect(page.headers['content-security-policy']).toMatch(/default-src 'self'/);
    const app = await call(url, '/app.js');
    expect(app.status).toBe(200);
    expect(app.headers['content-type']).toMatch(/javascript/);
    expect(app.text.length).toBeGreaterThan(50_000);
  });

  it('opens a session for a browser on this machine, with an HttpOnly, SameSite=Strict cookie', async () => {
    const s = await call(url, '/api/session');
    expect(s.body).toMatchObject({ authenticated: true, user: 'aiduck', passwordRequired: false });
    const set = String(s.headers['set-cookie']);
    expect(set).toMatch(/^aiduck_console=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict$/);
    cookie = sessionCookie(s);
    const models = await call(url, '/api/models', { cookie });
    expect(models.status).toBe(200);
    expect(models.body).toEqual({ models: [], versions: [], trainingRuns: [] });
    expect((await call(url, '/api/models')).status).toBe(401);
  });

  it('refuses a request naming another host (DNS rebinding) and requests from other sites', async () => {
    const rebound = await call(url, '/api/session', { headers: { host: 'attacker.example:5434' } });
    expect(rebound.status).toBe(403);
    expect(rebound.body['error']).toMatch(/only on this machine when the server has no password/);
    expect((await call(url, '/', { headers: { host: 'attacker.example' } })).status).toBe(403);
    expect((await call(url, '/api/session', { headers: { host: `localhost:${new URL(url).port}` } })).status).toBe(200);
    const cross = await call(url, '/api/sql/run', { cookie, body: { sql: 'SELECT 1' }, headers: { origin: 'http://attacker.example' } });
    expect(cross.status).toBe(403);
    const form = await call(url, '/api/sql/run', { cookie, method: 'POST', headers: { 'content-type': 'text/plain' } });
    expect(form.status).toBe(415);
    expect((await call(url, '/api/nothing', { cookie })).status).toBe(404);
    expect((await call(url, '/api/models', { cookie, body: {} })).status).toBe(405);
  });

  it('loopback is 127/8 and ::1 (also IPv4-mapped), by address and in Host', () => {
    for (const a of ['127.0.0.1', '127.8.9.10', '::1', '::ffff:127.0.0.1']) expect(isLoopbackAddress(a)).toBe(true);
    for (const a of ['10.0.0.1', '::ffff:10.0.0.1', '192.168.1.2', '::', '0.0.0.0', '', undefined]) expect(isLoopbackAddress(a)).toBe(false);
    for (const h of ['localhost', 'localhost:5434', '127.0.0.1:80', '[::1]:5434']) expect(isLoopbackHost(h)).toBe(true);
    for (const h of ['attacker.example', '127.0.0.1.attacker.example', 'localhost.attacker.example:5434', '[::2]:1', undefined]) expect(isLoopbackHost(h)).toBe(false);
  });

  it('SQL: runs a statement as typed in a session of its own, pages it, and reports errors with their SQLSTATE', async () => {
    const sql = (body: unknown): Promise<Answer> => call(url, '/api/sql/run', { cookie, body });
    let resultId = 0;
    const page = (offset: number | 'last', id = resultId): Promise<Answer> => call(url, '/api/sql/page', { cookie, body: { resultId: id, offset } });
    const first = await sql({ sql: 'SELECT i, i::VARCHAR || \'x\' AS s, NULL::INT AS n FROM range(2500) t(i)', pageSize: 1000 });
    resultId = first.body['resultId'] as number;
    expect(first.body).toMatchObject({ offset: 0, pageSize: 1000, done: false, total: null, command: null });
    expect(first.body['columns']).toEqual([{ name: 'i', typeOid: 20 }, { name: 's', typeOid: 25 }, { name: 'n', typeOid: 23 }]);
    expect((first.body['rows'] as unknown[]).length).toBe(1000);
    expect((first.body['rows'] as unknown[])[999]).toEqual(['999', '999x', null]);
    const last = await page('last');
    expect(last.body).toMatchObject({ offset: 2000, done: true, total: 2500 });
    expect((last.body['rows'] as unknown[]).length).toBe(500);
    expect((await page(0)).body).toMatchObject({ offset: 0, done: false, total: 2500 });
    // Rows the cursor went past without serving are not held, and the statement is not run again behind the user's back.
    const gone = await page(1000);
    expect(gone.status).toBe(409);
    expect(gone.body).toMatchObject({ error: 'rows 1001–2000 of this result are no longer held', hint: expect.stringMatching(/run the statement again/) });
    expect((await page(5000)).body).toMatchObject({ rows: [], done: true, total: 2500 });

    // The page's session keeps its state between runs, as psql does.
    expect((await sql({ sql: 'CREATE TEMP TABLE scratch AS SELECT 42 AS answer', pageSize: 100 })).body).toMatchObject({ columns: [], rows: [], done: true });
    expect((await sql({ sql: 'INSERT INTO scratch VALUES (43), (44)', pageSize: 100 })).body).toMatchObject({ command: 'INSERT 2' });
    expect((await sql({ sql: 'SELECT sum(answer)::INT AS s FROM scratch', pageSize: 100 })).body['rows']).toEqual([['129']]);

    const before = await sql({ sql: 'SELECT 3 AS three', pageSize: 100 });
    const syntax = await sql({ sql: 'SELEC 1', pageSize: 100 });
    expect(syntax.status).toBe(400);
    expect(syntax.body).toMatchObject({ code: '42601', error: 'syntax error at or near "SELEC"' });
    expect((await sql({ sql: 'SELECT 1; SELECT 2', pageSize: 100 })).body).toMatchObject({ code: '42601' });
    expect((await sql({ sql: 'SELECT * FROM no_such_table', pageSize: 100 })).body).toMatchObject({ code: '42P01' });
    expect((await sql({ sql: 'SELECT 1', pageSize: 7 })).status).toBe(400);
    // Running a statement closes the result before it, whether the statement succeeds or not.
    expect((await page(0, before.body['resultId'] as number)).status).toBe(409);
    const one = await sql({ sql: 'SELECT 1 AS one', pageSize: 100 });
    expect((await page(0, one.body['resultId'] as number)).body).toMatchObject({ rows: [['1']] });
    // A result replaced by a newer statement (another tab) is not paged in its place.
    const newer = await sql({ sql: 'SELECT 2 AS two', pageSize: 100 });
    expect((await page(0, one.body['resultId'] as number)).body).toMatchObject({ error: 'this result is no longer open' });
    expect((await page(0, newer.body['resultId'] as number)).body).toMatchObject({ rows: [['2']] });
    expect((await sql({ sql: 'SELECT 1 AS one', pageSize: 100 })).body).toMatchObject({ rows: [['1']], done: true, total: 1 });
  });

  it('SQL: Cancel stops the running statement with 57014 and the page\'s session goes on', async () => {
    const running = call(url, '/api/sql/run', { cookie, body: { sql: 'SELECT count(*) FROM range(100000) a, range(100000) b', pageSize: 100 } });
    let cancelled = false;
    const t0 = Date.now();
    while (!cancelled && Date.now() - t0 < 5000) {
      await new Promise((r) => setTimeout(r, 100));
      cancelled = (await call(url, '/api/sql/cancel', { cookie, body: {} })).body['cancelled'] === true;
    }
    expect(cancelled).toBe(true);
    const answer = await running;
    expect(answer.status).toBe(409);
    expect(answer.body).toMatchObject({ code: '57014' });
    expect(Date.now() - t0).toBeLessThan(5000);
    expect((await call(url, '/api/sql/cancel', { cookie, body: {} })).body).toEqual({ cancelled: false });
    expect((await call(url, '/api/sql/run', { cookie, body: { sql: 'SELECT 2 AS two', pageSize: 100 } })).body).toMatchObject({ rows: [['2']] });
  });

  it('Jobs: cancels only a session that runs an AI job', async () => {
    const other = await server.client();
    const pid = (await other.query('SELECT pg_backend_pid() AS pid')).rows[0].pid as number;
    expect((await call(url, '/api/jobs', { cookie })).body).toMatchObject({ jobs: [] });
    expect((await call(url, '/api/jobs/cancel', { cookie, body: { pid } })).body).toEqual({ cancelled: false });
    expect((await call(url, '/api/jobs/cancel', { cookie, body: { pid: 'x' } })).status).toBe(400);
    expect(server.cancelBackend(999_999)).toBe(false);
    expect((await other.query('SELECT 1 AS ok')).rows).toEqual([{ ok: 1 }]);
  });

  it('Runs: no experiment at first; a run logged in SQL comes back with what ai.runs and ai.run_metrics hold', async () => {
    expect((await call(url, '/api/runs/experiments', { cookie })).body).toEqual({ experiments: [] });
    const c = await server.client();
    const runId = (await c.query(`SELECT run_id FROM log_run('judging', name => 'v1', params => MAP {'model': 'bot/2', 'temperature': '0'},
      metrics => MAP {'correctness': 2.25})`)).rows[0].run_id as string;
    for (const [step, loss] of [[1, 0.9], [2, 0.5], [3, 0.25]]) await c.query(`SELECT * FROM log_metric('${runId}', 'loss', ${loss}, step => ${step})`);

    const experiments = (await call(url, '/api/runs/experiments', { cookie })).body;
    expect(experiments).toEqual({ experiments: [{ name: 'judging', createdAt: expect.any(String), runs: 1, running: 0, lastStart: expect.any(String) }] });
    const sql = (await c.query(`SELECT run_id, name, source, status, params, metrics, model_name, error FROM ai.runs WHERE experiment = 'judging'`)).rows[0];
    expect(sql.metrics).toEqual({ correctness: 2.25, loss: 0.25 });
    const runs = (await call(url, '/api/runs?experiment=judging', { cookie })).body;
    expect(runs).toMatchObject({ truncated: false, runs: [{ runId: runId, experiment: 'judging', name: 'v1', source: 'log_run', status: 'finished',
      params: sql.params, metrics: sql.metrics, modelName: null, error: null }] });
    expect((await call(url, '/api/runs?experiment=nothing', { cookie })).body).toEqual({ runs: [], truncated: false });

    const points = (await c.query(`SELECT run_id AS "runId", key, step::INT AS step, value FROM ai.run_metrics WHERE run_id = $1 ORDER BY key, step`, [runId])).rows;
    const curves = (await call(url, '/api/runs/curves', { cookie, body: { runIds: [runId, 'no such run'] } })).body;
    expect(curves).toEqual({ points, thinned: false, truncated: false });
    expect(points.length).toBe(4);
    expect((await call(url, '/api/runs/curves', { cookie, body: { runIds: 'x' } })).status).toBe(400);
    expect((await call(url, '/api/runs/curves', { cookie, body: { runIds: Array.from({ length: 51 }, String) } })).status).toBe(400);
  });

  it('Runs: a curve longer than the console draws is thinned to every n-th step, its first and last kept', async () => {
    const c = await server.client();
    const runId = (await c.query(`SELECT run_id FROM log_run('long curves', name => 'ten points')`)).rows[0].run_id as string;
    for (let step = 1; step <= 10; step++) await c.query(`SELECT * FROM log_metric('${runId}', 'loss', ${1 / step}, step => ${step})`);
    const pool = new pg.Pool({ host: '127.0.0.1', port: server.port, user: 'aiduck', max: 1 });
    try {
      // At most 4 points: every ceil(10 / 4) = 3rd step, and the first and the last.
      const thinned = await readCurves(pool, [runId], 4);
      expect(thinned.thinned).toBe(true);
      expect(thinned.points.map((p) => p.step)).toEqual([1, 3, 6, 9, 10]);
      expect(thinned.points.map((p) => p.value)).toEqual([1, 1 / 3, 1 / 6, 1 / 9, 1 / 10]);
      const whole = await readCurves(pool, [runId], 10);
      expect(whole).toMatchObject({ thinned: false, truncated: false });
      expect(whole.points.map((p) => p.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    } finally {
      await pool.end();
    }
  });
});

describe('console with a password', () => {
  let server: TestServer;
  let url: string;
  beforeAll(async () => {
    server = await startTestServer({ httpPort: 0, password: 'pw' });
    url = server.console!.url;
  });
  afterAll(() => server?.stop());

  it('needs a login with the SQL port\'s user and password, checked by the server itself', async () => {
    expect((await call(url, '/api/session')).body).toMatchObject({ authenticated: false, passwordRequired: true });
    expect((await call(url, '/api/models')).status).toBe(401);
    const wrong = await call(url, '/api/login', { body: { user: 'aiduck', password: 'nope' } });
    expect(wrong.status).toBe(401);
    expect(wrong.body).toMatchObject({ code: '28P01', error: 'password authentication failed for user "aiduck"' });
    expect(wrong.headers['set-cookie']).toBeUndefined();
    expect((await call(url, '/api/login', { body: { user: 'someone', password: 'pw' } })).status).toBe(401);
    const ok = await call(url, '/api/login', { body: { user: 'aiduck', password: 'pw' } });
    expect(ok.body).toMatchObject({ authenticated: true, user: 'aiduck' });
    const cookie = sessionCookie(ok);
    expect((await call(url, '/api/session', { cookie })).body).toMatchObject({ authenticated: true });
    expect((await call(url, '/api/models', { cookie })).status).toBe(200);
    const out = await call(url, '/api/logout', { cookie, body: {} });
    expect(String(out.headers['set-cookie'])).toMatch(/^aiduck_console=; .*Max-Age=0/);
    expect((await call(url, '/api/models', { cookie })).status).toBe(401);
  });

  it('its queries run in Postgres sessions of the server, as the user who logged in', async () => {
    const ok = await call(url, '/api/login', { body: { user: 'aiduck', password: 'pw' } });
    const cookie = sessionCookie(ok);
    const r = await call(url, '/api/sql/run', { cookie, body: { sql: 'SHOW application_name', pageSize: 100 } });
    expect(r.body['rows']).toEqual([['aiduck console']]);
  });
});

describe('serving the console', () => {
  it('aiduck serve: --http-port, AIDUCK_HTTP_PORT and --no-http', async () => {
    const [flagPort, envPort] = [await freePort(), await freePort()];
    const byFlag = await spawnServer({ AIDUCK_HTTP_PORT: String(envPort) }, ['--http-port', String(flagPort)]);
    try {
      await expect.poll(() => byFlag.output()).toContain(`console: http://127.0.0.1:${flagPort}/`);
      expect((await call(`http://127.0.0.1:${flagPort}/`, '/api/session')).body).toMatchObject({ authenticated: true, user: 'aiduck' });
    } finally {
      await byFlag.stop();
    }
    const byEnv = await spawnServer({ AIDUCK_HTTP_PORT: String(envPort) });
    try {
      await expect.poll(() => byEnv.output()).toContain(`console: http://127.0.0.1:${envPort}/`);
      expect((await call(`http://127.0.0.1:${envPort}/`, '/')).status).toBe(200);
    } finally {
      await byEnv.stop();
    }
    const off = await spawnServer({ AIDUCK_HTTP_PORT: String(envPort) }, ['--no-http']);
    try {
      expect(off.output()).not.toContain('console:');
      await expect(call(`http://127.0.0.1:${envPort}/`, '/')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    } finally {
      await off.stop();
    }
  }, 60_000);

  it('aiduck serve starts without the console, and says why, when the default port is taken', async () => {
    // Holds 5434 unless another process already does: either way it is taken.
    const holder = createServer();
    await new Promise<void>((resolve) => holder.once('error', () => resolve()).listen(5434, '127.0.0.1', () => resolve()));
    try {
      const server = await spawnServer();
      try {
        await expect.poll(() => server.output()).toContain("console: not served, the console's port 5434 is in use: choose another with --http-port");
        const c = new pg.Client({ host: '127.0.0.1', port: server.port, user: 'aiduck' });
        await c.connect();
        expect((await c.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
        await c.end();
      } finally {
        await server.stop();
      }
    } finally {
      holder.close();
    }
  }, 30_000);

  it('an asked-for console port in use is a clear start-up error, and the SQL port is not left open', async () => {
    const first = await startTestServer({ httpPort: 0 });
    const dataDir = mkdtempSync(join(tmpdir(), 'aiduck-console-busy-'));
    const port = await freePort();
    try {
      await expect(startServer({ host: '127.0.0.1', port, httpPort: first.console!.port, dataDir, storage: 'memory', user: 'aiduck', importDirs: [],
        maxConnections: 5, maxMessageBytes: 1 << 20 }))
        .rejects.toThrow(/console's port \d+ is in use: choose another with --http-port, or turn the console off with --no-http/);
      await expect(new Promise((resolve, reject) => connect(port, '127.0.0.1').on('connect', resolve).on('error', reject))).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    } finally {
      await first.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('over TLS when the server has a certificate, with a Secure cookie', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aiduck-console-tls-'));
    const made = await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-days', '1',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')]);
    expect(made.status).toBe(0);
    const server = await startTestServer({ httpPort: 0, password: 'pw', tlsCert: join(dir, 'cert.pem'), tlsKey: join(dir, 'key.pem') });
    try {
      expect(server.console!.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/$/);
      const { request: httpsRequest } = await import('node:https');
      const set = await new Promise<string>((resolve, reject) => {
        const req = httpsRequest(new URL('/api/login', server.console!.url), { method: 'POST', rejectUnauthorized: false, headers: { 'content-type': 'application/json' } }, (res) => {
          res.resume();
          resolve(String(res.headers['set-cookie']));
        });
        req.on('error', reject);
        req.end(JSON.stringify({ user: 'aiduck', password: 'pw' }));
      });
      expect(set).toMatch(/HttpOnly; SameSite=Strict; Secure$/);
    } finally {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
