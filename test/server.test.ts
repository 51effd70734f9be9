import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { run } from './helpers/run.js';
import { connect } from 'node:net';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { expectResponsive } from './helpers/latency.js';
import { serialize } from 'pg-protocol';
import { startTestServer, type TestServer } from './helpers/server.js';

describe('TLS and SCRAM together', () => {
  let server: TestServer;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'aiduck-tls-'));
    const made = await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-days', '1',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')]);
    expect(made.status, made.stderr).toBe(0);
    server = await startTestServer({ password: 's3cret', tlsCert: join(dir, 'cert.pem'), tlsKey: join(dir, 'key.pem') });
  });
  afterAll(async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves psql over TLS with a password', async () => {
    const r = await run('psql', ['-X', '-A', '-t', '-h', '127.0.0.1', '-p', String(server.port), '-U', 'aiduck', '-d', 'aiduck', '-c', 'SELECT 40 + 2', '-c', '\\conninfo'],
      { env: { PGPASSWORD: 's3cret', PGSSLMODE: 'require' } });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^42$/m);
    expect(r.stdout).toContain('SSL connection');
  });

  it('serves node-postgres over TLS and refuses a wrong password', async () => {
    const c = new pg.Client({ host: '127.0.0.1', port: server.port, user: 'aiduck', password: 's3cret', ssl: { rejectUnauthorized: false } });
    await c.connect();
    try {
      expect((await c.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
      const stream = (c as unknown as { connection: { stream: { encrypted?: boolean } } }).connection.stream;
      expect(stream.encrypted).toBe(true);
    } finally {
      await c.end();
    }
    const bad = new pg.Client({ host: '127.0.0.1', port: server.port, user: 'aiduck', password: 'nope', ssl: { rejectUnauthorized: false } });
    await expect(bad.connect()).rejects.toMatchObject({ code: '28P01' });
    const r = await run('psql', ['-X', '-h', '127.0.0.1', '-p', String(server.port), '-U', 'aiduck', '-d', 'aiduck', '-c', 'SELECT 1'],
      { env: { PGPASSWORD: 'wrong', PGSSLMODE: 'disable' } });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('password authentication failed');
  });
});

describe('a server process under load', () => {
  let child: ChildProcess;
  let port: number;
  let dataDir: string;

  const rssMb = (): number => {
    const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
    return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024;
  };

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'aiduck-proc-'));
    port = 20000 + Math.floor(Math.random() * 20000);
    child = spawn('node', ['bin/aiduck.js', 'serve', '--port', String(port), '--data', dataDir, '--threads', '2'], { stdio: ['ignore', 'pipe', 'pipe'] });
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (d: Buffer) => { if (d.toString().includes('listening')) resolve(); });
      child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
    });
  });
  afterAll(() => {
    child.kill('SIGTERM');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('streams a 1,000,000-row result to a slow reader without holding it in memory', async () => {
    const before = rssMb();
    const socket = connect(port, '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    let rows = 0;
    let done = false;
    let pending = Buffer.alloc(0);
    const finished = new Promise<void>((resolve) => {
      socket.on('data', (d: Buffer) => {
        pending = pending.length ? Buffer.concat([pending, d]) : d;
        let pos = 0;
        while (pending.length - pos >= 5) {
          const len = pending.readInt32BE(pos + 1);
          if (pending.length - pos < 1 + len) break;
          const code = String.fromCharCode(pending[pos]!);
          if (code === 'D') rows++;
          if (code === 'Z' && rows > 0) { done = true; resolve(); }
          pos += 1 + len;
        }
        pending = pending.subarray(pos);
      });
    });
    socket.write(serialize.startup({ user: 'aiduck', database: 'aiduck' }));
    await new Promise((r) => setTimeout(r, 300));
    // ~230 MB of row data: far more than the flow-control window.
    socket.write(serialize.query("SELECT i, repeat('x', 200) AS pad FROM range(1000000) r(i)"));
    await new Promise((r) => setTimeout(r, 500));
    socket.pause();
    await new Promise((r) => setTimeout(r, 2500));
    const whilePaused = rssMb();
    expect(done).toBe(false);
    socket.resume();
    await finished;
    socket.destroy();
    expect(rows).toBe(1_000_000);
    expect(whilePaused - before).toBeLessThan(150);
  });

  it('answers other sessions in milliseconds while one session runs a long query', async () => {
    const busy = new pg.Client({ host: '127.0.0.1', port, user: 'aiduck' });
    const other = new pg.Client({ host: '127.0.0.1', port, user: 'aiduck' });
    await busy.connect();
    await other.connect();
    busy.on('error', () => undefined);
    const long = busy.query('SELECT sum(hash(i)) FROM range(3000000000) r(i)').then(() => 'completed', () => 'ended early');
    await new Promise((r) => setTimeout(r, 200));
    const latencies: number[] = [];
    for (let i = 0; i < 10; i++) {
      const t = performance.now();
      await other.query('SELECT 1');
      latencies.push(performance.now() - t);
    }
    await busy.end().catch(() => undefined); // disconnecting mid-query frees the session
    await other.end();
    expectResponsive(latencies);
    expect(await long).toBe('ended early');
  });
});

describe('the sessions of the server, as Postgres shows and stops them', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('pg_stat_activity lists each session with its state and query; pg_cancel_backend cancels one, pg_terminate_backend ends one', async () => {
    const admin = await server.client({ application_name: 'admin' });
    const victim = await server.client({ application_name: 'victim' });
    victim.on('error', () => undefined);
    const victimPid = Number((await victim.query('SELECT pg_backend_pid() AS p')).rows[0].p);
    await victim.query('BEGIN');
    const idle = await admin.query(`SELECT state, query, application_name, usename, client_addr FROM pg_stat_activity WHERE pid = ${victimPid}`);
    expect(idle.rows).toEqual([{ state: 'idle in transaction', query: 'BEGIN', application_name: 'victim', usename: 'aiduck', client_addr: '127.0.0.1' }]);
    await victim.query('ROLLBACK');
    const long = victim.query('SELECT sum(hash(i)) FROM range(3000000000) r(i)').then(() => 'completed', (e: { code?: string }) => e.code);
    await expect.poll(async () => (await admin.query(`SELECT state FROM pg_stat_activity WHERE pid = ${victimPid}`)).rows[0]?.state, { timeout: 5000 }).toBe('active');
    expect((await admin.query(`SELECT pg_cancel_backend(${victimPid}) AS ok`)).rows[0].ok).toBe(true);
    expect(await long).toBe('57014');
    expect((await victim.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    const ended = new Promise<string | undefined>((resolve) => victim.once('error', (e: { code?: string }) => resolve(e.code)));
    expect((await admin.query(`SELECT pg_terminate_backend(${victimPid}) AS ok`)).rows[0].ok).toBe(true);
    expect(await ended).toBe('57P01');
    await expect.poll(async () => (await admin.query(`SELECT count(*)::INT AS n FROM pg_stat_activity WHERE pid = ${victimPid}`)).rows[0].n, { timeout: 5000 }).toBe(0);
    expect((await admin.query('SELECT pg_cancel_backend(999999) AS a, pg_terminate_backend(999999) AS b')).rows).toEqual([{ a: false, b: false }]);
    await admin.end();
  });
});

describe('storage', () => {
  it('keeps data in the database file across restarts', async () => {
    const first = await startTestServer();
    const c = await first.client();
    await c.query('CREATE TABLE kept AS SELECT i FROM range(100) r(i)');
    await c.end();
    const { startServer } = await import('../dist/src/server/server.js');
    await first.close();
    expect(readFileSync(join(first.dataDir, 'aiduck.duckdb')).length).toBeGreaterThan(0);
    const second = await startServer({ ...first.config, port: 0 });
    try {
      const c2 = new pg.Client({ host: '127.0.0.1', port: second.port, user: 'aiduck' });
      await c2.connect();
      expect((await c2.query('SELECT count(*)::INTEGER AS n FROM kept')).rows).toEqual([{ n: 100 }]);
      await c2.end();
    } finally {
      await second.close();
      rmSync(first.dataDir, { recursive: true, force: true });
    }
  });

  it('keeps an in-memory database out of the data directory', async () => {
    const s = await startTestServer({ storage: 'memory' });
    try {
      const c = await s.client();
      await c.query('CREATE TABLE ephemeral (i INTEGER)');
      expect((await c.query('SELECT count(*)::INTEGER AS n FROM ephemeral')).rows).toEqual([{ n: 0 }]);
      expect(() => readFileSync(join(s.dataDir, 'aiduck.duckdb'))).toThrow();
    } finally {
      await s.stop();
    }
  });
});
