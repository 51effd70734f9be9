// A throwaway PostgreSQL 15 on loopback: the reference that tests and benchmarks compare aiduck with,
// running the same client code against both. Needs Debian's postgresql-15 (initdb, postgres) and
// postgresql-client-15 (psql); .ci/run installs them. Plain JavaScript so bench/ can use it too.
import { spawn, spawnSync } from 'node:child_process';
import { accessSync, chownSync, closeSync, constants, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { delimiter, join } from 'node:path';

export class ReferencePostgresError extends Error {}

const PACKAGE = { postgres: 'postgresql-15', initdb: 'postgresql-15', pgbench: 'postgresql-15', psql: 'postgresql-client-15' };

/** The PostgreSQL programs (PG_BINDIR, then /usr/lib/postgresql/15/bin, then PATH), and the server's version. */
export function findPostgresBinaries(names = ['postgres', 'initdb', 'psql']) {
  const dirs = [process.env.PG_BINDIR, '/usr/lib/postgresql/15/bin', ...(process.env.PATH ?? '').split(delimiter)].filter(Boolean);
  const found = {};
  const missing = [];
  for (const name of names) {
    const dir = dirs.find((d) => {
      try {
        accessSync(join(d, name), constants.X_OK);
        return true;
      } catch {
        return false;
      }
    });
    if (dir) found[name] = join(dir, name);
    else missing.push(name);
  }
  if (missing.length) {
    const pkgs = [...new Set(missing.map((m) => PACKAGE[m] ?? m))];
    throw new ReferencePostgresError(`missing PostgreSQL programs: ${missing.join(', ')} (looked in ${dirs.slice(0, 2).join(', ')} and PATH).\n` +
      `  Install them with: apt-get install ${pkgs.join(' ')} (or point PG_BINDIR at a PostgreSQL 15 bin directory).`);
  }
  const version = found.postgres ? spawnSync(found.postgres, ['--version'], { encoding: 'utf8' }).stdout.trim() : '';
  return { ...found, version };
}

/**
 * PostgreSQL refuses to run as root. As root, initdb and postgres run as the `postgres` user
 * (which the postgresql-15 package creates) through runuser, or su where runuser is missing.
 */
export function postgresRunner() {
  if (userInfo().uid !== 0) return { uid: null, gid: null, wrap: (cmd, args) => [cmd, args] };
  const id = (flag) => spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' });
  const u = id('-u');
  if (u.status !== 0) {
    throw new ReferencePostgresError('running as root, and PostgreSQL refuses to run as root, but there is no "postgres" user to run it as: ' +
      'install the postgresql-15 package (it creates that user), or run as a non-root user.');
  }
  const uid = Number(u.stdout.trim());
  const gid = Number(id('-g').stdout.trim());
  const runuser = ['/usr/sbin/runuser', '/sbin/runuser', '/usr/bin/runuser'].find((p) => existsSync(p));
  if (runuser) return { uid, gid, wrap: (cmd, args) => [runuser, ['-u', 'postgres', '--', cmd, ...args]] };
  const quote = (s) => `'${s.replace(/'/g, `'\\''`)}'`;
  return { uid, gid, wrap: (cmd, args) => ['su', ['postgres', '-s', '/bin/sh', '-c', `exec ${[cmd, ...args].map(quote).join(' ')}`]] };
}

/** The environment for client programs: no PG* variables of the caller's, no TLS, a connect timeout. */
export const clientEnv = () => {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PG')));
  env.PGSSLMODE = 'disable';
  env.PGCONNECT_TIMEOUT = '10';
  return env;
};

const tail = (text, lines = 15) => text.trim().split('\n').slice(-lines).join('\n');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function runToEnd(cmd, args) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: clientEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out }));
  });
}

const handedOut = new Set();

/**
 * A port nothing listens on now, and one this process has not handed out before: a test that takes
 * several before starting anything on them must not get the same one twice.
 */
export async function freePort() {
  for (;;) {
    const port = await new Promise((resolve, reject) => {
      const s = createServer();
      s.once('error', reject);
      s.listen(0, '127.0.0.1', () => {
        const { port } = s.address();
        s.close(() => resolve(port));
      });
    });
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
}

/**
 * Starts a fresh PostgreSQL 15 cluster in a new temporary directory (trust authentication, user and
 * database `postgres`, fsync off) on a free loopback port. `stop()` shuts it down and removes it.
 * Options: `dir` (a parent for the cluster's directory; it must be traversable by the postgres user),
 * `settings` (extra `-c name=value` server settings).
 */
export async function startReferencePostgres(options = {}) {
  const bin = findPostgresBinaries();
  const runner = postgresRunner();
  const dir = mkdtempSync(join(options.dir ?? tmpdir(), 'aiduck-reference-pg-'));
  const data = join(dir, 'data');
  const removeDir = () => rmSync(dir, { recursive: true, force: true });
  try {
    if (runner.uid !== null) {
      chownSync(dir, runner.uid, runner.gid);
      if (spawnSync(...runner.wrap('test', ['-w', dir])).status !== 0) {
        throw new ReferencePostgresError(`the postgres user cannot write to ${dir}: set TMPDIR to a directory every user can traverse (e.g. /tmp)`);
      }
    }
    const init = await runToEnd(...runner.wrap(bin.initdb, ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync', '--no-instructions']));
    if (init.code !== 0) throw new ReferencePostgresError(`initdb failed:\n${tail(init.out)}`);
  } catch (e) {
    removeDir();
    throw e;
  }
  const port = await freePort();
  const logPath = join(dir, 'postgres.log');
  const log = openSync(logPath, 'a');
  if (runner.uid !== null) chownSync(logPath, runner.uid, runner.gid);
  const settings = Object.entries({ listen_addresses: '127.0.0.1', unix_socket_directories: dir, fsync: 'off', ...options.settings })
    .flatMap(([k, v]) => ['-c', `${k}=${v}`]);
  const [cmd, args] = runner.wrap(bin.postgres, ['-D', data, '-p', String(port), ...settings]);
  const child = spawn(cmd, args, { env: clientEnv(), stdio: ['ignore', log, log] });
  closeSync(log);
  let exited = false;
  child.on('exit', () => (exited = true));
  const logTail = () => (existsSync(logPath) ? tail(readFileSync(logPath, 'utf8')) : '');
  const server = {
    host: '127.0.0.1', port, user: 'postgres', database: 'postgres', dir, version: bin.version, bin, logTail,
    async stop() {
      await stopPostmaster(data, child);
      removeDir();
    },
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (exited) {
      const why = logTail();
      removeDir();
      throw new ReferencePostgresError(`postgres exited during startup:\n${why}`);
    }
    const r = await runToEnd(bin.psql, ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-d', 'postgres', '-X', '-A', '-t', '-c', 'SELECT 1']);
    if (r.code === 0) return server;
    if (Date.now() > deadline) {
      await server.stop();
      throw new ReferencePostgresError(`postgres did not accept connections within 30 s:\n${r.out}`);
    }
    await sleep(100);
  }
}

/** Fast shutdown of the postmaster (SIGINT), SIGKILL if it is still there after 10 s. */
async function stopPostmaster(data, child) {
  const pidFile = join(data, 'postmaster.pid');
  const pid = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').split('\n')[0]) : NaN;
  const signal = (sig) => {
    try {
      if (pid > 0) process.kill(pid, sig);
    } catch { /* gone */ }
    try {
      child.kill(sig);
    } catch { /* gone */ }
  };
  const alive = () => {
    if (!(pid > 0)) return child.exitCode === null && child.signalCode === null;
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  signal('SIGINT');
  const deadline = Date.now() + 10_000;
  while (alive() && Date.now() < deadline) await sleep(50);
  if (alive()) signal('SIGKILL');
  while (alive() && Date.now() < deadline + 2000) await sleep(50);
}
