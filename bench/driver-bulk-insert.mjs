#!/usr/bin/env node
// Bulk writes through the drivers analysts use, aiduck against a throwaway PostgreSQL 15, both
// measured in this run with the same client code: for each path, the same program inserts the same
// rows (id integer, name text) into a fresh table `bulk` on each server, timed inside the client
// (connecting, interpreter and JVM start-up are not timed, except for psql \copy, timed as a whole).
// Prints rows/s on each server and aiduck/PostgreSQL per path: the goal (issue 12) is >= 0.5 for the
// batch paths and >= 1.0 for COPY FROM.
//
//   npx tsc -p tsconfig.json && node bench/driver-bulk-insert.mjs      (or: npm run bench:bulk-insert)
//
// Environment: BENCH_RUNS (runs per server and path, in ABBA order, the best kept; default 2),
// BENCH_SCALE (multiplies every path's row count; default 1), BENCH_PATHS (a comma-separated subset
// of the path names below), PG_BINDIR (as for bench/server-vs-postgres.mjs).
// Needs Debian's postgresql-15, postgresql-client-15, python3-psycopg2, python3-pandas,
// python3-sqlalchemy and libpostgresql-jdbc-java with a JDK.

// Same as bin/aiduck.js: DuckDB waits on libuv's thread pool, so `aiduck serve` widens it.
process.env.UV_THREADPOOL_SIZE ??= '16';

import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import pg from 'pg';
import { clientEnv, findPostgresBinaries, ReferencePostgresError, startReferencePostgres } from '../test/helpers/reference-postgres.mjs';
import { fail, importDistServer, onCleanup, positiveInt, root, runBench } from './common.mjs';

const RUNS = positiveInt('BENCH_RUNS', 2);
const SCALE = Number(process.env.BENCH_SCALE ?? '1');
if (!(SCALE > 0)) fail(`BENCH_SCALE must be a positive number, got "${process.env.BENCH_SCALE}"`);
const PYTHON = '/usr/bin/python3';
const PGJDBC = '/usr/share/java/postgresql.jar';
const here = join(root, 'bench');

/**
 * The paths: a name, what it is, its goal, its row count, and how to run it against a server
 * (resolving with the seconds it took).
 */
const PATHS = [
  { name: 'execute_batch', label: 'psycopg2 execute_batch (page_size 100)', goal: 0.5, rows: 20_000, run: python('execute_batch') },
  { name: 'execute_values', label: 'psycopg2 execute_values (page_size 100)', goal: 0.5, rows: 20_000, run: python('execute_values') },
  { name: 'executemany', label: 'psycopg2 executemany', goal: 0.5, rows: 5_000, run: python('executemany') },
  { name: 'jdbc_batch', label: 'pgJDBC addBatch/executeBatch', goal: 0.5, rows: 20_000, run: java('batch') },
  { name: 'jdbc_rewrite', label: 'pgJDBC executeBatch, reWriteBatchedInserts', goal: 0.5, rows: 20_000, run: java('batch-rewrite') },
  { name: 'to_sql', label: 'pandas.to_sql (method=None)', goal: 0.5, rows: 20_000, run: python('to_sql') },
  { name: 'to_sql_multi', label: "pandas.to_sql (method='multi')", goal: 0.5, rows: 20_000, run: python('to_sql_multi') },
  { name: 'node_pg', label: 'node-postgres INSERT $1,$2 loop in BEGIN', goal: 0.5, rows: 5_000, run: nodePg },
  { name: 'psql_copy', label: 'psql \\copy FROM (text format)', goal: 1.0, rows: 500_000, run: psqlCopy },
  { name: 'copy_expert', label: 'psycopg2 copy_expert COPY FROM STDIN csv', goal: 1.0, rows: 500_000, run: python('copy_expert') },
];

const tail = (text, lines = 20) => text.trim().split('\n').slice(-lines).join('\n');

/** Runs a program to completion; resolves with its output and wall-clock seconds, or fails the bench. */
function run(cmd, args) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(cmd, args, { env: clientEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    onCleanup(() => child.kill('SIGKILL'));
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (code !== 0) reject(new Error(`${cmd} ${args.slice(0, 3).join(' ')} ... failed (${signal ?? `exit ${code}`}):\n${tail(err || out)}`));
      else resolve({ out, err, seconds });
    });
  });
}

/** The seconds a client program printed as {"seconds": s} on its last line. */
const reportedSeconds = (r) => JSON.parse(r.out.trim().split('\n').pop()).seconds;

const endpoint = (s) => [s.host, String(s.port), s.user, s.database];

function python(path) {
  return async (server, rows) => reportedSeconds(await run(PYTHON, [join(here, 'driver_bulk_insert.py'), ...endpoint(server), path, String(rows)]));
}

function java(mode) {
  return async (server, rows) => reportedSeconds(await run('java', ['-cp', PGJDBC, join(here, 'DriverBulkInsert.java'), ...endpoint(server), mode, String(rows)]));
}

async function nodePg(server, rows) {
  return reportedSeconds(await run(process.execPath, [join(here, 'driver-bulk-insert-node.mjs'), ...endpoint(server), String(rows)]));
}

let copyFile = null;
let psqlBin = null;

/** psql's \copy of a text-format file, timed as a whole (psql's start and connection are a few ms). */
async function psqlCopy(server, rows) {
  const r = await run(psqlBin, ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-h', server.host, '-p', String(server.port), '-U', server.user, '-d', server.database,
    '-c', `\\copy bulk (id, name) FROM '${copyFile(rows)}'`]);
  return r.seconds;
}

// ---- servers -----------------------------------------------------------------------------------

async function startAiduck(dir) {
  const { startServer } = await importDistServer();
  const server = await startServer({
    host: '127.0.0.1', port: 0, dataDir: dir, storage: 'file', user: 'aiduck', importDirs: [],
    maxConnections: 100, maxMessageBytes: 64 * 1024 * 1024,
  });
  return { name: 'aiduck', host: '127.0.0.1', port: server.port, user: 'aiduck', database: 'aiduck', stop: () => server.close() };
}

async function withClient(server, fn) {
  const client = new pg.Client({ host: server.host, port: server.port, user: server.user, database: server.database });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

const freshTable = (server) => withClient(server, (c) => c.query('DROP TABLE IF EXISTS bulk; CREATE TABLE bulk (id integer, name text)'));

/** Fails the bench unless the table holds exactly the rows the path was to insert. */
async function checkRows(server, rows, path) {
  const got = await withClient(server, async (c) => (await c.query('SELECT count(*)::text AS n, sum(id)::text AS s, sum(length(name))::text AS l, ' +
    "count(*) FILTER (WHERE name <> 'name ' || id)::text AS wrong FROM bulk")).rows[0]);
  let lengths = 0;
  for (let d = 1, lo = 1; lo <= rows; d++, lo *= 10) lengths += (Math.min(rows, lo * 10 - 1) - lo + 1) * ('name '.length + d);
  const want = { n: String(rows), s: String((BigInt(rows) * BigInt(rows + 1)) / 2n), l: String(lengths), wrong: '0' };
  if (JSON.stringify(got) !== JSON.stringify(want)) fail(`${server.name ?? 'PostgreSQL'} holds ${JSON.stringify(got)} after ${path}, expected ${JSON.stringify(want)}`);
}

async function measure(server, path, rows) {
  await freshTable(server);
  const seconds = await path.run(server, rows);
  await checkRows(server, rows, path.name);
  return seconds;
}

// ---- report ------------------------------------------------------------------------------------

function printTable(rows) {
  const header = ['path', 'rows', 'PostgreSQL 15', 'aiduck', 'aiduck/PG', 'goal'];
  const body = rows.map((r) => [r.label, r.rows.toLocaleString('en'), fmt(r.pg, r.rows), fmt(r.ours, r.rows), r.ratio.toFixed(2),
    `>= ${r.goal.toFixed(1)} ${r.ratio >= r.goal ? 'met' : 'not met'}`]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const b of body) console.log(line(b));
}

function fmt(seconds, rows) {
  const rate = rows / seconds;
  return `${seconds.toFixed(2)} s (${rate >= 1e5 ? `${(rate / 1e3).toFixed(0)}k` : rate >= 1e3 ? `${(rate / 1e3).toFixed(1)}k` : rate.toFixed(0)} rows/s)`;
}

// ---- main --------------------------------------------------------------------------------------

async function main() {
  const wanted = process.env.BENCH_PATHS ? new Set(process.env.BENCH_PATHS.split(',').map((s) => s.trim())) : null;
  const paths = PATHS.filter((p) => !wanted || wanted.has(p.name));
  if (wanted && paths.length !== wanted.size) fail(`BENCH_PATHS names unknown paths; the paths are: ${PATHS.map((p) => p.name).join(', ')}`);
  let bin;
  let ref;
  try {
    bin = findPostgresBinaries(['postgres', 'initdb', 'psql']);
    ref = await startReferencePostgres();
  } catch (e) {
    fail(e instanceof ReferencePostgresError ? e.message : String(e));
  }
  onCleanup(() => ref.stop());
  psqlBin = bin.psql;
  for (const [what, file] of [['Python 3 (Debian\'s)', PYTHON], ['pgJDBC (libpostgresql-jdbc-java)', PGJDBC]]) {
    if (!existsSync(file)) fail(`${what} is missing: ${file} (apt-get install python3-psycopg2 python3-pandas python3-sqlalchemy libpostgresql-jdbc-java default-jdk-headless)`);
  }
  const postgres = { name: 'PostgreSQL', host: ref.host, port: ref.port, user: ref.user, database: ref.database };
  const work = mkdtempSync(join(tmpdir(), 'aiduck-bench-bulk-'));
  onCleanup(() => rmSync(work, { recursive: true, force: true }));
  const files = new Map();
  copyFile = (rows) => {
    if (!files.has(rows)) {
      const file = join(work, `rows-${rows}.txt`);
      const lines = [];
      for (let i = 1; i <= rows; i++) lines.push(`${i}\tname ${i}\n`);
      writeFileSync(file, lines.join(''));
      files.set(rows, file);
    }
    return files.get(rows);
  };
  const ours = await startAiduck(join(work, 'aiduck'));
  onCleanup(() => ours.stop());

  const { version: duckdbVersion } = await import('@duckdb/node-api');
  console.log(`aiduck vs ${bin.version} on 127.0.0.1 — ${cpus().length} cores, Node ${process.version}, DuckDB ${duckdbVersion()}`);
  console.log(`best of ${RUNS} run(s) per server and path (ABBA order), rows × ${SCALE}; ${new Date().toISOString()}`);
  const load = loadavg()[0];
  console.log(`load average ${load.toFixed(2)} before the run${load > cpus().length / 2 ? ': other processes are busy on this machine, expect noisy figures' : ''}\n`);

  const results = [];
  for (const path of paths) {
    const rows = Math.max(1, Math.round(path.rows * SCALE));
    process.stderr.write(`${path.label} ...`);
    let pgBest = Infinity;
    let ourBest = Infinity;
    for (let i = 0; i < RUNS; i++) {
      const order = i % 2 === 0 ? [postgres, ours] : [ours, postgres];
      for (const server of order) {
        const seconds = await measure(server, path, rows);
        if (server === ours) ourBest = Math.min(ourBest, seconds);
        else pgBest = Math.min(pgBest, seconds);
      }
    }
    process.stderr.write(' done\n');
    results.push({ name: path.name, label: path.label, rows, goal: path.goal, pg: pgBest, ours: ourBest, ratio: pgBest / ourBest });
  }
  process.stderr.write('\n');
  printTable(results);
  console.log(`(load average ${loadavg()[0].toFixed(2)} after the run)`);
  console.log('\naiduck/PG: aiduck\'s rows/s divided by PostgreSQL\'s; above 1.0 aiduck is faster.');

  const resultsDir = join(root, 'bench', 'results');
  mkdirSync(resultsDir, { recursive: true });
  const file = join(resultsDir, `driver-bulk-insert-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify({
    date: new Date().toISOString(), loadavg: loadavg()[0], cores: cpus().length, node: process.version, postgres: bin.version, duckdb: duckdbVersion(),
    runs: RUNS, scale: SCALE, paths: results.map(({ name, rows, pg: p, ours: o, ratio, goal }) => ({ name, rows, postgresSeconds: p, aiduckSeconds: o, ratio, goal })),
  }, null, 2));
  console.log(`(saved to ${relative(process.cwd(), file)})`);
}

await runBench(main, 'the servers');
