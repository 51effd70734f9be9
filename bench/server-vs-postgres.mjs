#!/usr/bin/env node
// aiduck's Postgres wire server against a throwaway PostgreSQL 15, both measured in this run with
// the same client tools:
//   (a) round trips per second: pgbench -n with a custom `SELECT 1;` script, -M simple and
//       -M extended, one client (-c 1 -j 1) and four clients (-c 4 -j 2); two runs per server in
//       ABBA order (PostgreSQL, aiduck, aiduck, PostgreSQL), the mean of each server's two;
//   (b) time for psql to receive a 1,000,000-row, 3-column result (best of BENCH_RUNS, default 3).
// Prints aiduck / PostgreSQL for every figure (for (b) as a rate: PostgreSQL's time / ours), so
// above 1.0 means aiduck is faster. The goal (issue 2) is >= 1.0.
//
//   npx tsc -p tsconfig.json && node bench/server-vs-postgres.mjs
//
// Environment: BENCH_SECONDS (pgbench -T of each run, default 10; a whole run takes about 17 times that),
// BENCH_RUNS (psql runs per server, default 3),
// PG_BINDIR (where postgres/initdb/pgbench/psql live; default /usr/lib/postgresql/15/bin, then PATH).
// Needs the Debian packages postgresql-15 (postgres, initdb, pgbench) and postgresql-client-15 (psql).

// Same as bin/aiduck.js: DuckDB waits on libuv's thread pool, so `aiduck serve` widens it. It must be
// set before anything touches the pool, hence before the server is imported.
process.env.UV_THREADPOOL_SIZE ??= '16';

import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { clientEnv, findPostgresBinaries, ReferencePostgresError, startReferencePostgres } from '../test/helpers/reference-postgres.mjs';
import { fail, importDistServer, onCleanup, positiveInt, root, runBench } from './common.mjs';

const SECONDS = positiveInt('BENCH_SECONDS', 10);
const RUNS = positiveInt('BENCH_RUNS', 3);
const ROWS = 1_000_000;
// Runs unchanged on both servers (DuckDB has generate_series as a table function with a column alias).
const STREAM_SQL = `SELECT i, i*2 AS j, 'row ' || i AS s FROM generate_series(1,${ROWS}) AS t(i)`;
const CHECK_SQL = `SELECT count(*), sum(j), max(length(s)) FROM (${STREAM_SQL}) q`;
const CHECK_EXPECTED = `${ROWS}|${ROWS * (ROWS + 1)}|${'row '.length + String(ROWS).length}`;


/** The last lines of a program's output, for error messages. */
const tail = (text, lines = 20) => text.trim().split('\n').slice(-lines).join('\n');

// ---- child processes ---------------------------------------------------------------------------

const childEnv = clientEnv();

/** Runs a program to completion; resolves with its output, exit code and wall-clock seconds. */
function run(cmd, args, { stdout = 'pipe' } = {}) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(cmd, args, { env: childEnv, stdio: ['ignore', stdout, 'pipe'] });
    // Registered last, undone first: a running client goes before the servers it talks to.
    onCleanup(() => child.kill('SIGKILL'));
    let out = '';
    let err = '';
    child.stdout?.setEncoding('utf8').on('data', (d) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      resolve({ code, signal, out, err, seconds });
    });
  });
}

async function runOk(cmd, args, opts) {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) fail(`${cmd} ${args.join(' ')} failed (${r.signal ?? `exit ${r.code}`}):\n${tail(r.err || r.out)}`);
  return r;
}

// ---- aiduck ------------------------------------------------------------------------------------

async function startAiduck(dir) {
  const { startServer } = await importDistServer();
  const server = await startServer({
    host: '127.0.0.1',
    port: 0,
    dataDir: dir,
    storage: 'file',
    user: 'aiduck',
    importDirs: [],
    maxConnections: 100,
    maxMessageBytes: 64 * 1024 * 1024,
  });
  return { name: 'aiduck', port: server.port, user: 'aiduck', database: 'aiduck', stop: () => server.close() };
}

const connArgs = (s) => ['-h', '127.0.0.1', '-p', String(s.port), '-U', s.user, '-d', s.database];
const serverName = (s) => s.name ?? 'PostgreSQL';

// ---- measurements ------------------------------------------------------------------------------

async function pgbenchTps(bin, server, script, mode, clients, threads) {
  // pgbench's -d means --debug: the database name goes last, as a positional argument.
  const r = await run(bin.pgbench, ['-n', '-f', script, '-T', String(SECONDS), '-M', mode, '-c', String(clients), '-j', String(threads),
    '-h', '127.0.0.1', '-p', String(server.port), '-U', server.user, server.database]);
  const tps = /tps = ([\d.]+) \(without initial connection time\)/.exec(r.out)?.[1];
  const failed = /number of failed transactions: (\d+)/.exec(r.out)?.[1];
  if (r.code !== 0 || !tps || (failed && failed !== '0')) {
    fail(`pgbench against ${serverName(server)} (-M ${mode} -c ${clients}) failed (${r.signal ?? `exit ${r.code}`}):\n${tail(r.err + r.out)}`);
  }
  return Number(tps);
}

async function checkStreamQuery(bin, server) {
  const r = await runOk(bin.psql, [...connArgs(server), '-X', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-c', CHECK_SQL]);
  if (r.out.trim() !== CHECK_EXPECTED) fail(`${serverName(server)} computed "${r.out.trim()}" for the 1M-row query, expected "${CHECK_EXPECTED}"`);
}

async function streamSeconds(bin, server) {
  const devnull = openSync('/dev/null', 'w');
  try {
    const r = await run(bin.psql, [...connArgs(server), '-X', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-c', STREAM_SQL], { stdout: devnull });
    if (r.code !== 0) fail(`psql against ${serverName(server)} failed (${r.signal ?? `exit ${r.code}`}):\n${tail(r.err)}`);
    return r.seconds;
  } finally {
    closeSync(devnull);
  }
}

// ---- report ------------------------------------------------------------------------------------

function printTable(rows) {
  const header = ['measurement', 'PostgreSQL 15', 'aiduck', 'aiduck/PG', 'goal >= 1.0'];
  const body = rows.map((r) => [r.label, r.pg, r.ours, r.ratio.toFixed(2), r.ratio >= 1 ? 'met' : 'not met']);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const b of body) console.log(line(b));
}

const fmtTps = (v) => `${v.toFixed(0)} tps`;
const fmtStream = (s) => `${s.toFixed(2)} s (${(ROWS / s / 1e6).toFixed(2)} M rows/s)`;

// ---- main --------------------------------------------------------------------------------------

async function main() {
  let bin;
  let pg;
  try {
    bin = findPostgresBinaries(['postgres', 'initdb', 'pgbench', 'psql']);
    pg = await startReferencePostgres();
  } catch (e) {
    fail(e instanceof ReferencePostgresError ? e.message : String(e));
  }
  onCleanup(() => pg.stop());
  if (!/\b15(\.|\b)/.test(bin.version)) console.warn(`warning: ${bin.postgres} is "${bin.version}", not PostgreSQL 15: the figures are against that version`);
  const work = mkdtempSync(join(tmpdir(), 'aiduck-bench-'));
  onCleanup(() => rmSync(work, { recursive: true, force: true }));
  const script = join(work, 'select1.sql');
  writeFileSync(script, 'SELECT 1;\n');

  const ours = await startAiduck(join(work, 'aiduck'));
  onCleanup(() => ours.stop());

  const { version: duckdbVersion } = await import('@duckdb/node-api');
  console.log(`aiduck vs ${bin.version} on 127.0.0.1 — ${cpus().length} cores, Node ${process.version}, DuckDB ${duckdbVersion()}`);
  console.log(`pgbench: mean of 2 runs of -T ${SECONDS} per server and figure (ABBA order); psql stream: best of ${RUNS}; ${new Date().toISOString()}`);
  const load = loadavg()[0];
  console.log(`load average ${load.toFixed(2)} before the run${load > cpus().length / 2 ? ': other processes are busy on this machine, expect noisy figures' : ''}\n`);

  const rows = [];
  for (const [clients, threads] of [[1, 1], [4, 2]]) {
    for (const mode of ['simple', 'extended']) {
      const label = `(a) SELECT 1, -M ${mode}, -c ${clients} -j ${threads}`;
      process.stderr.write(`${label} ...`);
      // ABBA order (PostgreSQL, aiduck, aiduck, PostgreSQL), each figure the mean of its two runs, so
      // load that rises or falls during the measurement weighs on both servers alike.
      const pgA = await pgbenchTps(bin, pg, script, mode, clients, threads);
      const ourA = await pgbenchTps(bin, ours, script, mode, clients, threads);
      const ourB = await pgbenchTps(bin, ours, script, mode, clients, threads);
      const pgB = await pgbenchTps(bin, pg, script, mode, clients, threads);
      const pgTps = (pgA + pgB) / 2;
      const ourTps = (ourA + ourB) / 2;
      process.stderr.write(' done\n');
      rows.push({ label, pg: fmtTps(pgTps), ours: fmtTps(ourTps), ratio: ourTps / pgTps, pgValue: pgTps, ourValue: ourTps, unit: 'tps' });
    }
  }

  const label = `(b) psql, ${ROWS.toLocaleString('en')} rows x 3 cols`;
  process.stderr.write(`${label} ...`);
  await checkStreamQuery(bin, pg);
  await checkStreamQuery(bin, ours);
  let pgBest = Infinity;
  let ourBest = Infinity;
  for (let i = 0; i < RUNS; i++) {
    pgBest = Math.min(pgBest, await streamSeconds(bin, pg));
    ourBest = Math.min(ourBest, await streamSeconds(bin, ours));
  }
  process.stderr.write(' done\n\n');
  rows.push({ label, pg: fmtStream(pgBest), ours: fmtStream(ourBest), ratio: pgBest / ourBest, pgValue: pgBest, ourValue: ourBest, unit: 's' });

  printTable(rows);
  console.log(`(load average ${loadavg()[0].toFixed(2)} after the run)`);
  console.log('\naiduck/PG: our rate divided by PostgreSQL\'s (for the stream: PostgreSQL\'s time / ours); above 1.0 aiduck is faster.');

  const resultsDir = join(root, 'bench', 'results');
  mkdirSync(resultsDir, { recursive: true });
  const file = join(resultsDir, `server-vs-postgres-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify({
    date: new Date().toISOString(), loadavg: loadavg()[0], cores: cpus().length, node: process.version, postgres: bin.version, duckdb: duckdbVersion(),
    seconds: SECONDS, runs: RUNS, rows: rows.map(({ label, pgValue, ourValue, unit, ratio }) => ({ label, unit, postgres: pgValue, aiduck: ourValue, ratio })),
  }, null, 2));
  console.log(`(saved to ${relative(process.cwd(), file)})`);
}

await runBench(main, 'the servers');
