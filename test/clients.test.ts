import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import postgres from 'postgres';
import { run, type Run } from './helpers/run.js';
import { startTestServer, type TestServer } from './helpers/server.js';

let server: TestServer;

function psql(args: string[], input?: string): Promise<Run> {
  return run('psql', ['-X', '-h', '127.0.0.1', '-p', String(server.port), '-U', 'aiduck', '-d', 'aiduck', '-v', 'ON_ERROR_STOP=1', ...args], input === undefined ? {} : { input });
}

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.stop();
});

describe('node-postgres', () => {
  it('runs prepared statements with parameters, named and unnamed', async () => {
    const c = await server.client();
    await c.query('CREATE TABLE people (id INTEGER, name VARCHAR, score DOUBLE)');
    for (let i = 1; i <= 5; i++) {
      const r = await c.query({ name: 'ins', text: 'INSERT INTO people VALUES ($1, $2, $3)', values: [i, `p${i}`, i * 1.5] });
      expect(r.command).toBe('INSERT');
      expect(r.rowCount).toBe(1);
    }
    const r = await c.query('SELECT id, name, score FROM people WHERE id >= $1 ORDER BY id', [3]);
    expect(r.rows).toEqual([
      { id: 3, name: 'p3', score: 4.5 },
      { id: 4, name: 'p4', score: 6 },
      { id: 5, name: 'p5', score: 7.5 },
    ]);
    const n = await c.query('SELECT $1::INTEGER + $2::INTEGER AS s, $3 AS t, $4::TEXT AS nothing', [40, 2, 'text param', null]);
    expect(n.rows[0]).toEqual({ s: 42, t: 'text param', nothing: null });
  });

  it('reports command tags and row counts', async () => {
    const c = await server.client();
    await c.query('CREATE TABLE tags (i INTEGER)');
    expect((await c.query('INSERT INTO tags SELECT * FROM range(10)')).rowCount).toBe(10);
    const u = await c.query('UPDATE tags SET i = i + 1 WHERE i < 4');
    expect([u.command, u.rowCount]).toEqual(['UPDATE', 4]);
    const d = await c.query('DELETE FROM tags WHERE i > 7');
    expect([d.command, d.rowCount]).toEqual(['DELETE', 2]);
    const s = await c.query('SELECT * FROM tags');
    expect([s.command, s.rowCount]).toEqual(['SELECT', 8]);
    const ret = await c.query('INSERT INTO tags VALUES (100), (101) RETURNING i * 2 AS doubled');
    expect(ret.rows).toEqual([{ doubled: 200 }, { doubled: 202 }]);
  });

  it('maps DuckDB errors to SQLSTATE codes and keeps the session usable', async () => {
    const c = await server.client();
    await expect(c.query('SELECT * FROM no_such_table')).rejects.toMatchObject({ code: '42P01' });
    await expect(c.query('SELEC 1')).rejects.toMatchObject({ code: '42601' });
    await expect(c.query('SELECT no_such_column FROM range(1)')).rejects.toMatchObject({ code: '42703' });
    await expect(c.query("SELECT 'abc'::INTEGER")).rejects.toMatchObject({ code: '22P02' });
    await c.query('CREATE TABLE uniq (k INTEGER PRIMARY KEY)');
    await c.query('INSERT INTO uniq VALUES (1)');
    await expect(c.query('INSERT INTO uniq VALUES (1)')).rejects.toMatchObject({ code: '23505' });
    expect((await c.query('SELECT 1 AS ok')).rows).toEqual([{ ok: 1 }]);
  });

  it('tracks transactions: commit, rollback, and a failed transaction', async () => {
    const c = await server.client();
    await c.query('CREATE TABLE acct (v INTEGER)');
    await c.query('BEGIN');
    await c.query('INSERT INTO acct VALUES (1)');
    await c.query('ROLLBACK');
    expect((await c.query('SELECT count(*)::INTEGER AS n FROM acct')).rows[0].n).toBe(0);
    await c.query('BEGIN');
    await c.query('INSERT INTO acct VALUES (2)');
    await c.query('COMMIT');
    await c.query('BEGIN');
    await expect(c.query('SELECT * FROM missing_table')).rejects.toMatchObject({ code: '42P01' });
    await expect(c.query('INSERT INTO acct VALUES (3)')).rejects.toMatchObject({ code: '25P02' });
    const end = await c.query('COMMIT');
    expect(end.command).toBe('ROLLBACK');
    expect((await c.query('SELECT list(v) AS vs FROM acct')).rows[0].vs).toEqual([2]);
  });

  it('cancels a long query of its own session only', async () => {
    const victim = await server.client();
    const bystander = await server.client();
    const started = Date.now();
    const long = victim.query('SELECT sum(hash(i)) FROM range(5000000000) r(i)');
    const other = bystander.query('SELECT sum(i)::BIGINT AS s FROM range(1000000) r(i)');
    await new Promise((r) => setTimeout(r, 300));
    const canceller = new (await import('pg')).default.Client({ host: '127.0.0.1', port: server.port, user: 'aiduck' });
    (canceller as unknown as { cancel(c: unknown, q: unknown): void }).cancel(victim, (victim as unknown as { activeQuery: unknown }).activeQuery);
    await expect(long).rejects.toMatchObject({ code: '57014' });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect((await other).rows[0].s).toBe('499999500000');
    expect((await victim.query('SELECT 7 AS after')).rows).toEqual([{ after: 7 }]);
  });

  it('applies statement_timeout', async () => {
    const c = await server.client();
    await c.query("SET statement_timeout = '200ms'");
    await expect(c.query('SELECT sum(hash(i)) FROM range(5000000000) r(i)')).rejects.toMatchObject({
      code: '57014',
      message: 'canceling statement due to statement timeout',
    });
    // The timeout also covers sending the rows of a result that streams for longer.
    await expect(c.query('SELECT i FROM range(200000000) r(i)')).rejects.toMatchObject({ code: '57014' });
    await c.query('RESET statement_timeout');
    expect((await c.query('SHOW statement_timeout')).rows[0].statement_timeout).toBe('0');
  });
});

describe('postgres.js', () => {
  it('queries with typed parameters and reads typed results', async () => {
    const sql = postgres({ host: '127.0.0.1', port: server.port, user: 'aiduck', database: 'aiduck', max: 1, onnotice: () => undefined });
    try {
      const [row] = await sql`SELECT ${5}::INTEGER * 2 AS ten, ${'hello'} AS greeting, ${true} AS flag, ${new Date('2024-03-01T12:00:00Z')}::TIMESTAMPTZ AS at`;
      expect(row).toEqual({ ten: 10, greeting: 'hello', flag: true, at: new Date('2024-03-01T12:00:00Z') });
      const rows = await sql`SELECT i FROM range(5) r(i) WHERE i >= ${2} ORDER BY i`;
      expect(rows.map((r) => Number(r['i']))).toEqual([2, 3, 4]);
      const multi = await sql.unsafe('SELECT 1 AS a; SELECT 2 AS b');
      expect(multi.length).toBe(2);
      let seen = 0;
      for await (const batch of sql`SELECT i FROM range(25000) r(i)`.cursor(1000)) seen += batch.length;
      expect(seen).toBe(25000);
    } finally {
      await sql.end();
    }
  });
});

describe('psql', () => {
  it('runs several statements in one simple query and prints results', async () => {
    const r = await psql(['-A', '-t', '-c', "CREATE TABLE ps AS SELECT i, 'v' || i AS s FROM range(3) r(i); SELECT count(*) FROM ps; SELECT s FROM ps ORDER BY i"]);
    expect(r.status).toBe(0);
    expect(r.stdout.trim().split('\n').slice(-4)).toEqual(['3', 'v0', 'v1', 'v2']);
  });

  it('fails with the SQLSTATE and a nonzero exit on errors', async () => {
    const r = await psql(['-v', 'VERBOSITY=verbose', '-c', 'SELECT * FROM nothing_here']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('42P01');
  });

  it('copies a table out and back in with \\copy (text and csv)', async () => {
    const dir = server.dataDir;
    expect((await psql(['-c', "CREATE TABLE src AS SELECT i AS id, CASE WHEN i % 3 = 0 THEN NULL ELSE 'line ' || i || E'\\ttab, \"quoted\"\\nnext' END AS body FROM range(1000) r(i)"])).status).toBe(0);
    const textFile = join(dir, 'out.txt');
    const csvFile = join(dir, 'out.csv');
    expect((await psql(['-c', `\\copy src TO '${textFile}'`])).stdout).toContain('COPY 1000');
    expect((await psql(['-c', `\\copy (SELECT * FROM src ORDER BY id) TO '${csvFile}' WITH (FORMAT csv, HEADER)`])).stdout).toContain('COPY 1000');
    expect(readFileSync(csvFile, 'utf8').split('\n')[0]).toBe('id,body');
    expect((await psql(['-c', 'CREATE TABLE dst_text (id INTEGER, body VARCHAR); CREATE TABLE dst_csv (id INTEGER, body VARCHAR)'])).status).toBe(0);
    const inText = await psql(['-c', `\\copy dst_text FROM '${textFile}'`]);
    expect(inText.stdout, inText.stderr).toContain('COPY 1000');
    const inCsv = await psql(['-c', `\\copy dst_csv FROM '${csvFile}' WITH (FORMAT csv, HEADER)`]);
    expect(inCsv.stdout, inCsv.stderr).toContain('COPY 1000');
    const diff = await psql(['-A', '-t', '-c',
      'SELECT (SELECT count(*) FROM (SELECT * FROM src EXCEPT SELECT * FROM dst_text)) + (SELECT count(*) FROM (SELECT * FROM src EXCEPT SELECT * FROM dst_csv)), (SELECT count(*) FROM dst_csv WHERE body IS NULL)']);
    expect(diff.stdout.trim()).toBe('0|334');
  });

  it('loads COPY FROM STDIN data given inline', async () => {
    const r = await psql(['-c', 'CREATE TABLE inline_rows (a INTEGER, b VARCHAR)'], undefined);
    expect(r.status).toBe(0);
    const load = await psql(['-A', '-f', '-'], 'COPY inline_rows FROM STDIN;\n1\tone\n2\t\\N\n3\tthree\\twith tab\n\\.\nSELECT a, coalesce(b, \'<null>\') FROM inline_rows ORDER BY a;\n');
    expect(load.status, load.stderr).toBe(0);
    expect(load.stdout).toContain('COPY 3');
    expect(load.stdout).toMatch(/^2\|<null>$/m);
    expect(load.stdout).toContain('three\twith tab');
  });

  it('runs examples/quickstart.sql', async () => {
    // The quickstart reads the sample data `aiduck init` writes.
    const init = await run('node', ['bin/aiduck.js', 'init', '--data', server.dataDir]);
    expect(init.status, init.stderr).toBe(0);
    const r = await psql(['-f', 'examples/quickstart.sql']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/refund\s+\|\s+2500/);
    expect(r.stdout).toContain('{"n":2500,"avg_len":41}');
  });

  it('streams a 1,000,000-row result', async () => {
    const r = await run('bash', ['-c',
      `psql -X -A -t -h 127.0.0.1 -p ${server.port} -U aiduck -d aiduck -c "SELECT i, i * 2, 'row ' || i FROM range(1000000) r(i)" | awk -F'|' 'END { print NR, $1 }'`]);
    expect(r.stdout.trim()).toBe('1000000 999999');
  });
});

describe('files and security defaults', () => {
  it('confines file access to the data directory files/ area', async () => {
    writeFileSync(join(server.dataDir, 'files', 'numbers.csv'), 'n\n1\n2\n3\n');
    const ok = await psql(['-A', '-t', '-c', `SELECT sum(n) FROM read_csv('${join(server.dataDir, 'files', 'numbers.csv')}')`]);
    expect(ok.stdout.trim()).toBe('6');
    const denied = await psql(['-v', 'VERBOSITY=verbose', '-c', "SELECT * FROM read_csv('/etc/passwd')"]);
    expect(denied.status).not.toBe(0);
    expect(denied.stderr).toContain('42501');
    const reenable = await psql(['-c', 'SET enable_external_access = true']);
    expect(reenable.status).not.toBe(0);
    const ext = await psql(['-v', 'VERBOSITY=verbose', '-c', 'INSTALL httpfs']);
    expect(ext.stderr).toContain('42501');
  });

  it('identifies itself as Postgres-compatible', async () => {
    const r = await psql(['-A', '-t', '-c', 'SELECT version(); SHOW server_version']);
    expect(r.stdout).toMatch(/^PostgreSQL 15\.0 \(aiduck [\d.]+, DuckDB v[\d.]+\)/);
    expect(r.stdout.trim().split('\n')[1]).toBe('15.0');
  });
});

describe('aiduck sql', () => {
  it('runs a script against the database when no server is running', async () => {
    const r = await run('node', ['bin/aiduck.js', 'sql', '--data', server.dataDir + '-shell', '--port', '1'],
      { input: 'CREATE TABLE s AS SELECT 42 AS answer;\nSELECT answer FROM s;\n' });
    expect(r.status, r.stderr).toBe(0);
    const out = r.stdout;
    expect(out).toContain('answer');
    expect(out).toMatch(/\b42\b/);
  });
});
