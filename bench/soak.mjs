// A soak and fuzz run against `aiduck serve` as its own process: mutated protocol messages,
// concurrent clients doing CTAS, INSERT, COPY in and out and cancels, slow readers and stalled
// logins, all at once, while a control session keeps checking that the server answers. It prints
// the figures the reliability issue asks for: cases run, crashes, hangs, XX000 errors, peak RSS and
// rows lost (the goal: 0, 0, 0, bounded, 0), and exits non-zero when a goal is missed.
//
//   npx tsc -p tsconfig.json && node bench/soak.mjs     # SOAK_SECONDS=120 by default
//
// Environment: SOAK_SECONDS (default 120), SOAK_CLIENTS (concurrent SQL clients, default 6),
// SOAK_SEED (for the fuzzer's choices; printed, so a run can be repeated), SOAK_RSS_LIMIT_MB (the
// bound on peak RSS, default 2048). The last line is `SOAK_RESULT {...}` as JSON, for test/soak.test.ts.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { serialize } from 'pg-protocol';
import { Parser } from 'pg-protocol/dist/parser.js';
import { fail, onCleanup, positiveInt, root, runBench } from './common.mjs';

const SECONDS = positiveInt('SOAK_SECONDS', 120);
const CLIENTS = positiveInt('SOAK_CLIENTS', 6);
const SEED = positiveInt('SOAK_SEED', Math.floor(Math.random() * 2 ** 31) + 1);
const RSS_LIMIT_MB = positiveInt('SOAK_RSS_LIMIT_MB', 2048);
/** A control query slower than this is a hang. */
const HANG_MS = 10_000;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** mulberry32: the fuzzer's choices, repeatable from the seed. */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const figures = { cases: { fuzz: 0, sql: 0, copy: 0, cancels: 0, slowReaders: 0, stalledLogins: 0 }, crashes: 0, hangs: 0, xx000: [], peakRssMb: 0, startRssMb: 0, rowsLost: 0, rowsExtra: 0 };

/** `aiduck serve` on a free port with a fresh data directory. */
async function startServer() {
  const dataDir = mkdtempSync(join(tmpdir(), 'aiduck-soak-'));
  const child = spawn(process.execPath, [join(root, 'bin', 'aiduck.js'), 'serve', '--port', '0', '--no-http', '--data', dataDir], {
    env: { ...process.env, AIDUCK_THREADS: process.env.AIDUCK_THREADS ?? '2' }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d) => (out += d));
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve(signal ?? code)));
  onCleanup(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(killer);
    }
    rmSync(dataDir, { recursive: true, force: true });
  });
  const deadline = Date.now() + 30_000;
  while (!/listening on [\d.]+:(\d+)/.test(out)) {
    if (child.exitCode !== null || Date.now() > deadline) fail(`aiduck serve did not start:\n${out}`);
    await sleep(50);
  }
  const port = Number(/listening on [\d.]+:(\d+)/.exec(out)[1]);
  const rssMb = () => {
    try {
      return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))[1]) / 1024;
    } catch {
      return 0;
    }
  };
  return { port, child, exited, rssMb, output: () => out };
}

const clientConfig = (port) => ({ host: '127.0.0.1', port, user: 'aiduck', database: 'aiduck', statement_timeout: 60_000 });

function noteError(where, err) {
  if (err?.code === 'XX000') figures.xx000.push(`${where}: ${err.message}`);
}

/** A raw protocol connection: sends bytes, collects parsed backend messages. */
class Raw {
  constructor(socket) {
    this.socket = socket;
    this.messages = [];
    this.closed = false;
    this.waiters = [];
    const parser = new Parser();
    socket.on('data', (d) => {
      try {
        parser.parse(d, (m) => this.messages.push(m));
      } catch {
        // The fuzzer may provoke replies this parser does not expect; the server's side is what is checked.
      }
      this.wake();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
  }

  static open(port) {
    return new Promise((resolve, reject) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => resolve(new Raw(s)));
      s.once('error', reject);
    });
  }

  wake() {
    const ws = this.waiters;
    this.waiters = [];
    for (const w of ws) w();
  }

  /** Waits until a message matches, the connection closes, or the time is up. */
  async until(match, ms) {
    const deadline = Date.now() + ms;
    while (!this.closed && !this.messages.some(match) && Date.now() < deadline) {
      await new Promise((r) => {
        const t = setTimeout(r, Math.max(1, deadline - Date.now()));
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
    return this.messages.find(match);
  }

  destroy() {
    this.socket.destroy();
  }
}

// ---- the fuzzer: valid message sequences, mutated ----

const frame = (code, body) => {
  const b = Buffer.alloc(5 + body.length);
  b[0] = code.charCodeAt(0);
  b.writeInt32BE(body.length + 4, 1);
  body.copy(b, 5);
  return b;
};

/** Sequences a client might send after a trust login (the startup is sent unmutated or mutated with the rest). */
function corpus(rand) {
  const int = (n) => Math.floor(rand() * n);
  const numeric = Buffer.from([0, 2, 0, 0, 0, 0, 0, 1, 0, 12, 0x13, 0x88]);
  return [
    () => serialize.query(`SELECT ${int(1000)} AS a, 'x' || ${int(100)} AS b`),
    () => serialize.query(`CREATE TEMP TABLE IF NOT EXISTS f AS SELECT range AS i FROM range(${int(100)}); SELECT count(*) FROM f`),
    () => Buffer.concat([serialize.parse({ text: 'SELECT $1::int + 1, $2::text', types: [23, 25] }),
      serialize.bind({ values: [String(int(100)), 'z'] }), serialize.describe({ type: 'P' }), serialize.execute(), serialize.sync()]),
    () => Buffer.concat([serialize.parse({ text: 'SELECT $1::numeric', types: [1700] }), serialize.bind({ values: [numeric] }),
      serialize.execute(), serialize.sync()]),
    () => Buffer.concat([serialize.parse({ name: 's1', text: 'SELECT range FROM range(50)' }), serialize.bind({ statement: 's1', portal: 'p1' }),
      serialize.execute({ portal: 'p1', rows: 7 }), serialize.execute({ portal: 'p1', rows: 7 }), serialize.close({ type: 'P', name: 'p1' }), serialize.sync()]),
    () => Buffer.concat([serialize.query('CREATE TEMP TABLE IF NOT EXISTS c (a INT, b TEXT); COPY c FROM STDIN'),
      serialize.copyData(Buffer.from(`1\tone\n2\t\\N\n${int(9)}\tx\\ty\n`)), serialize.copyDone()]),
    () => serialize.query("COPY (SELECT range, 'a,b' FROM range(20)) TO STDOUT (FORMAT csv)"),
    () => Buffer.concat([serialize.query('BEGIN'), serialize.query('SELECT 1/0'), serialize.query('ROLLBACK')]),
    () => Buffer.concat([serialize.parse({ text: 'SELECT $1::date, $2::timestamp', types: [1082, 1114] }),
      serialize.bind({ values: [Buffer.from([0x7f, 0xff, 0xff, 0xfe]), Buffer.from([0x7f, 0, 0, 0, 0, 0, 0, 1])] }), serialize.execute(), serialize.sync()]),
    () => serialize.query("SELECT ai_embed('builtin:hash-embed-256', 'fuzz text')"),
    () => serialize.query('SELECT count(*) FROM range(100000000) a'),
  ];
}

function mutate(bytes, rand) {
  let b = Buffer.from(bytes);
  const int = (n) => Math.floor(rand() * n);
  for (let k = 1 + int(4); k > 0 && b.length; k--) {
    const at = int(b.length);
    switch (int(7)) {
      case 0: b[at] ^= 1 << int(8); break;
      case 1: b[at] = int(256); break;
      case 2: b = b.subarray(0, at); break;
      case 3: b = Buffer.concat([b.subarray(0, at), Buffer.from(Array.from({ length: 1 + int(8) }, () => int(256))), b.subarray(at)]); break;
      case 4: b = Buffer.concat([b.subarray(0, at), b.subarray(int(b.length))]); break;
      case 5: // a length word: random, negative, huge
        if (at + 4 <= b.length) b.writeInt32BE([int(100), -1 - int(100), 0x7fffffff, int(1 << 20)][int(4)], at);
        break;
      default: b = Buffer.concat([b, b.subarray(at, at + 1 + int(64))]);
    }
  }
  return b;
}

async function fuzzer(port, rand, until) {
  const cases = corpus(rand);
  while (Date.now() < until) {
    let raw;
    try {
      raw = await Raw.open(port);
    } catch {
      await sleep(50);
      continue;
    }
    const mutateStartup = rand() < 0.15;
    const startup = serialize.startup({ user: 'aiduck', database: 'aiduck' });
    const body = cases[Math.floor(rand() * cases.length)]();
    if (mutateStartup) raw.socket.write(mutate(Buffer.concat([startup, body]), rand));
    else {
      raw.socket.write(startup);
      await raw.until((m) => m.name === 'readyForQuery', 2000);
      raw.socket.write(mutate(body, rand));
    }
    await raw.until(() => false, 50 + Math.floor(rand() * 100));
    for (const m of raw.messages) if (m.name === 'error') noteError('fuzz', m);
    raw.destroy();
    figures.cases.fuzz++;
  }
}

// ---- SQL clients: tables whose row counts are known ----

/** COPY rows into a table over a raw connection; resolves with the rows the server says it copied. */
async function copyIn(port, table, rows) {
  const raw = await Raw.open(port);
  try {
    raw.socket.write(serialize.startup({ user: 'aiduck', database: 'aiduck' }));
    await raw.until((m) => m.name === 'readyForQuery', 10_000);
    raw.messages.length = 0;
    raw.socket.write(serialize.query(`COPY ${table} (id, note) FROM STDIN`));
    if (!(await raw.until((m) => m.name === 'copyInResponse' || m.name === 'error', 10_000))) throw new Error('no CopyInResponse');
    const lines = Array.from({ length: rows }, (_, i) => `${i}\tcopied\\tline ${i}\n`).join('');
    for (let i = 0; i < lines.length; i += 8192) raw.socket.write(serialize.copyData(Buffer.from(lines.slice(i, i + 8192))));
    raw.socket.write(serialize.copyDone());
    const done = await raw.until((m) => m.name === 'commandComplete' || m.name === 'error', 30_000);
    if (done?.name === 'error') {
      noteError('copy in', done);
      return 0;
    }
    return done ? Number(/COPY (\d+)/.exec(done.text)?.[1] ?? 0) : 0;
  } finally {
    raw.destroy();
  }
}

async function sqlClient(port, id, rand, until) {
  const table = `soak_${id}`;
  const c = new pg.Client(clientConfig(port));
  c.on('error', () => undefined);
  await c.connect();
  await c.query(`CREATE TABLE ${table} (id BIGINT, note VARCHAR)`);
  let expected = 0;
  const int = (n) => Math.floor(rand() * n);
  const run = async (sql) => {
    try {
      return await c.query(sql);
    } catch (err) {
      noteError(`client ${id}`, err);
      throw err;
    }
  };
  while (Date.now() < until) {
    const op = int(6);
    try {
      if (op === 0) {
        const n = 1 + int(5000);
        await run(`INSERT INTO ${table} SELECT range, 'inserted' FROM range(${n})`);
        expected += n;
      } else if (op === 1) {
        await run(`CREATE OR REPLACE TABLE ${table}_copy AS SELECT * FROM ${table}`);
        const r = await run(`SELECT count(*)::BIGINT AS n FROM ${table}_copy`);
        expected = reconcile(id, expected, Number(r.rows[0].n));
      } else if (op === 2) {
        expected += await copyIn(port, table, 1 + int(3000));
        figures.cases.copy++;
      } else if (op === 3) {
        const r = await run(`SELECT count(*)::BIGINT AS n FROM ${table}`);
        expected = reconcile(id, expected, Number(r.rows[0].n));
      } else {
        // An insert raced by a cancel: acknowledged rows must be there, cancelled ones must not.
        const n = 50_000 + int(200_000);
        const job = c.query(`INSERT INTO ${table} SELECT range, repeat('z', 50) FROM range(${n}) ORDER BY hash(range)`).then(() => n, (err) => {
          if (err.code !== '57014') noteError(`client ${id} cancel`, err);
          return 0;
        });
        await sleep(int(80));
        new pg.Client(clientConfig(port)).cancel(c, c.activeQuery);
        expected += await job;
        figures.cases.cancels++;
      }
      figures.cases.sql++;
    } catch (err) {
      if (err?.code === undefined) throw err;
    }
  }
  const r = await c.query(`SELECT count(*)::BIGINT AS n FROM ${table}`);
  reconcile(id, expected, Number(r.rows[0].n));
  await c.end();
}

/** Counts rows the server acknowledged and lost (or has without acknowledging them); the count found is the new base. */
function reconcile(id, expected, actual) {
  if (actual !== expected) console.error(`client ${id}: ${actual} rows found, ${expected} acknowledged`);
  figures.rowsLost += Math.max(0, expected - actual);
  figures.rowsExtra += Math.max(0, actual - expected);
  return actual;
}

// ---- slow readers and stalled logins ----

async function slowReader(port, rand, until) {
  while (Date.now() < until) {
    const raw = await Raw.open(port).catch(() => null);
    if (!raw) continue;
    raw.socket.write(serialize.startup({ user: 'aiduck', database: 'aiduck' }));
    await raw.until((m) => m.name === 'readyForQuery', 5000);
    raw.socket.write(serialize.query("SELECT repeat('r', 2000) AS r FROM range(100000)"));
    for (let i = 0; i < 10 && Date.now() < until; i++) {
      raw.socket.pause();
      await sleep(100 + Math.floor(rand() * 400));
      raw.socket.resume();
      await sleep(10);
    }
    raw.destroy();
    figures.cases.slowReaders++;
  }
}

async function stalledLogins(port, until) {
  while (Date.now() < until) {
    const sockets = [];
    for (let i = 0; i < 80; i++) {
      const s = connect(port, '127.0.0.1');
      s.on('error', () => undefined);
      // Half a startup packet, then nothing.
      s.once('connect', () => s.write(serialize.startup({ user: 'aiduck', database: 'aiduck' }).subarray(0, 6)));
      sockets.push(s);
    }
    figures.cases.stalledLogins += sockets.length;
    await sleep(3000);
    for (const s of sockets) s.destroy();
    await sleep(500);
  }
}

// ---- the watch: crashes, hangs, memory ----

async function control(server, until) {
  let c = null;
  while (Date.now() < until) {
    const t0 = Date.now();
    try {
      if (!c) {
        c = new pg.Client(clientConfig(server.port));
        c.on('error', () => undefined);
        await Promise.race([c.connect(), sleep(HANG_MS).then(() => { throw new Error('login hang'); })]);
      }
      await Promise.race([c.query('SELECT 1'), sleep(HANG_MS).then(() => { throw new Error('query hang'); })]);
    } catch (err) {
      if (/hang/.test(err.message)) {
        figures.hangs++;
        console.error(`hang: ${err.message} after ${Date.now() - t0} ms`);
      } else noteError('control', err);
      await c?.end().catch(() => undefined);
      c = null;
    }
    await sleep(500);
  }
  await c?.end().catch(() => undefined);
}

async function main() {
  const server = await startServer();
  figures.startRssMb = server.rssMb();
  console.log(`soak: ${SECONDS} s, ${CLIENTS} SQL clients, seed ${SEED}, aiduck pid ${server.child.pid}`);
  let crashed = false;
  let stopping = false;
  server.exited.then((code) => {
    if (!crashed && !stopping) {
      crashed = true;
      figures.crashes++;
      console.error(`the server exited (${code}):\n${server.output().slice(-2000)}`);
    }
  });
  const sampler = setInterval(() => (figures.peakRssMb = Math.max(figures.peakRssMb, server.rssMb())), 200);
  const until = Date.now() + SECONDS * 1000;
  const seeded = (k) => prng((SEED * 7919 + k) >>> 0);
  const jobs = [
    fuzzer(server.port, seeded(1), until),
    fuzzer(server.port, seeded(2), until),
    fuzzer(server.port, seeded(4), until),
    slowReader(server.port, seeded(3), until),
    stalledLogins(server.port, until),
    control(server, until),
    ...Array.from({ length: CLIENTS }, (_, i) => sqlClient(server.port, i, seeded(10 + i), until)),
  ];
  const results = await Promise.allSettled(jobs);
  clearInterval(sampler);
  stopping = true;
  for (const r of results) if (r.status === 'rejected' && !crashed) console.error(`a soak job failed: ${r.reason?.stack ?? r.reason}`);
  const cases = Object.values(figures.cases).reduce((a, b) => a + b, 0);
  const line = (label, value, goal) => console.log(`  ${label.padEnd(14)} ${String(value).padStart(10)}   ${goal}`);
  console.log('');
  line('cases run', cases, Object.entries(figures.cases).map(([k, v]) => `${k} ${v}`).join(', '));
  line('crashes', figures.crashes, '(goal 0)');
  line('hangs', figures.hangs, `(goal 0; a control SELECT 1 slower than ${HANG_MS / 1000} s)`);
  line('XX000 errors', figures.xx000.length, '(goal 0)');
  line('peak RSS', `${Math.round(figures.peakRssMb)} MB`, `(goal bounded: under ${RSS_LIMIT_MB} MB; ${Math.round(figures.startRssMb)} MB at start)`);
  line('rows lost', figures.rowsLost, '(goal 0: rows acknowledged and then missing)');
  line('rows extra', figures.rowsExtra, '(goal 0: rows committed although the client was told the statement failed)');
  for (const x of figures.xx000.slice(0, 10)) console.log(`  XX000: ${x}`);
  const failed = results.filter((r) => r.status === 'rejected').length;
  const ok = figures.crashes === 0 && figures.hangs === 0 && figures.xx000.length === 0 && figures.rowsLost === 0 &&
    figures.rowsExtra === 0 && figures.peakRssMb < RSS_LIMIT_MB && failed === 0;
  console.log(`SOAK_RESULT ${JSON.stringify({ seed: SEED, seconds: SECONDS, ...figures, cases, casesByKind: figures.cases, xx000: figures.xx000.length, failedJobs: failed, ok })}`);
  if (!ok) process.exitCode = 1;
}

await runBench(main, 'the soak run');
