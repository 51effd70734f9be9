import { existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { writeTestModels } from '../src/testmodels/index.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { startServer } from '../dist/src/server/server.js';

// What SQL and register_model may read: symbolic links are resolved before the check, so a link
// placed in files/ cannot lead outside the allowed directories.
let server: TestServer;
let outside: string;
let c: pg.Client;

beforeAll(async () => {
  outside = realpathSync(mkdtempSync(join(tmpdir(), 'aiduck-outside-')));
  await writeTestModels(join(outside, 'models'));
  writeFileSync(join(outside, 'secret.txt'), 'not for SQL\n');
  server = await startTestServer({ storage: 'memory' });
  c = await server.client();
  const files = join(server.dataDir, 'files');
  // Links an operator (or anyone with a shell) might leave in files/: to a model folder outside,
  // to a file outside, and a model folder inside whose weights are a link to a file outside.
  symlinkSync(join(outside, 'models', 'tiny-bert-embedder'), join(files, 'linked-model'));
  symlinkSync(join(outside, 'secret.txt'), join(files, 'linked-secret.txt'));
  cpSync(join(outside, 'models', 'tiny-bert-embedder'), join(files, 'mixed-model'), { recursive: true });
  rmSync(join(files, 'mixed-model', 'config.json'));
  symlinkSync(join(outside, 'models', 'tiny-bert-embedder', 'config.json'), join(files, 'mixed-model', 'config.json'));
  cpSync(join(outside, 'models', 'tiny-bert-embedder'), join(files, 'real-model'), { recursive: true });
  mkdirSync(join(files, 'real-model', 'extra'));
  symlinkSync(join(files, 'real-model', 'config.json'), join(files, 'real-model', 'extra', 'same-config.json'));
}, 120_000);
afterAll(async () => {
  await server?.stop();
  rmSync(outside, { recursive: true, force: true });
});

describe('symbolic links in files/', () => {
  it('register_model refuses a link to a model folder outside the allowed directories', async () => {
    const err = await c.query(`SELECT * FROM register_model('linked', '${join(server.dataDir, 'files', 'linked-model')}')`).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: '42501', message: expect.stringContaining(`it is a link to ${join(outside, 'models', 'tiny-bert-embedder')}`) });
    const file = await c.query(`SELECT * FROM register_model('linked2', 'file:linked-model')`).catch((e: unknown) => e);
    expect(file).toMatchObject({ code: '42501' });
  });

  it('register_model refuses a folder holding a link to a file outside; links that stay inside are fine', async () => {
    const err = await c.query(`SELECT * FROM register_model('mixed', 'file:mixed-model')`).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: '42501', message: expect.stringMatching(/mixed-model\/config\.json is a link to .*aiduck-outside-/) });
    const ok = await c.query(`SELECT name, version FROM register_model('real', 'file:real-model')`);
    expect(ok.rows).toEqual([{ name: 'real', version: 1 }]);
    expect((await c.query(`SELECT len(ai_embed('real', 'hello'))::INT AS n`)).rows).toEqual([{ n: 64 }]);
  });

  it('train_lora refuses a base model folder that is a link to outside', async () => {
    const err = await c.query(`SELECT * FROM train_lora('t', '${join(server.dataDir, 'files', 'linked-model')}', 'SELECT 1', dry_run => true)`).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: '42501' });
  });

  it('SQL cannot read through a link to a file outside', async () => {
    const err = await c.query(`SELECT content FROM read_text('${join(server.dataDir, 'files', 'linked-secret.txt')}')`).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: '42501' });
    writeFileSync(join(server.dataDir, 'files', 'plain.txt'), 'fine\n');
    expect((await c.query(`SELECT content FROM read_text('${join(server.dataDir, 'files', 'plain.txt')}')`)).rows).toEqual([{ content: 'fine\n' }]);
  });
});

describe('import directories', () => {
  it('the server refuses to start with an import directory that contains its data directory', async () => {
    const data = mkdtempSync(join(tmpdir(), 'aiduck-imp-'));
    try {
      for (const dir of [data, join(data, '..'), '/']) {
        const config = { host: '127.0.0.1', port: 0, dataDir: data, storage: 'memory', user: 'aiduck', importDirs: [dir], maxConnections: 5, maxMessageBytes: 1 << 20 } as const;
        await expect(startServer({ ...config, importDirs: [dir] })).rejects.toThrow(/contains the data directory/);
      }
    } finally {
      rmSync(data, { recursive: true, force: true });
    }
  });
});

describe('COPY ... TO a file, through the server', () => {
  let onDisk: TestServer;
  let s: pg.Client;
  let imports: string;
  beforeAll(async () => {
    imports = realpathSync(mkdtempSync(join(tmpdir(), 'aiduck-imports-')));
    onDisk = await startTestServer({ storage: 'file', importDirs: [imports] });
    s = await onDisk.client();
    await s.query('CREATE TABLE kept AS SELECT range AS i FROM range(1000)');
    await s.query('CHECKPOINT');
    symlinkSync(onDisk.dataDir, join(onDisk.dataDir, 'files', 'to-data'));
  });
  afterAll(async () => {
    await onDisk?.stop();
    rmSync(imports, { recursive: true, force: true });
  });

  it('writes under files/ and the import directories', async () => {
    const files = join(onDisk.dataDir, 'files');
    expect((await s.query(`COPY kept TO '${files}/kept.csv' (HEADER)`)).rowCount).toBe(1000);
    expect((await s.query(`SELECT count(*)::INT AS n FROM read_csv('${files}/kept.csv')`)).rows).toEqual([{ n: 1000 }]);
    await s.query(`COPY (SELECT 1 AS one) TO '${imports}/one.parquet' (FORMAT parquet)`);
    expect((await s.query(`SELECT one FROM read_parquet('${imports}/one.parquet')`)).rows).toEqual([{ one: 1 }]);
  });

  it('refuses the database file, its side files and the spill directory (42501), and the database is intact', async () => {
    const data = onDisk.dataDir;
    const targets = [`${data}/aiduck.duckdb`, `${data}/aiduck.duckdb.wal`, `${data}/aiduck.duckdb.wal.recovery`,
      `${data}/files/../aiduck.duckdb`, `${data}/files/to-data/aiduck.duckdb`, `${data}/tmp/spill.csv`];
    for (const target of targets) {
      for (const sql of [`COPY (SELECT 1) TO '${target}' (USE_TMP_FILE false)`, `EXPLAIN ANALYZE COPY kept TO '${target}'`, `PREPARE w AS COPY kept TO '${target}'`]) {
        const err = await s.query(sql).catch((e: unknown) => e);
        expect(err, sql).toMatchObject({ code: '42501', message: expect.stringContaining('is not allowed on this server') });
      }
    }
    // In the extended protocol too, and a file name sent as a parameter cannot be checked: refused.
    const param = await s.query({ text: 'COPY kept TO $1', values: [`${data}/aiduck.duckdb`] }).catch((e: unknown) => e);
    expect(param).toMatchObject({ code: '42501', message: expect.stringContaining('string literal') });
    await s.query('CHECKPOINT');
    expect((await s.query('SELECT count(*)::INT AS n FROM kept')).rows).toEqual([{ n: 1000 }]);
    expect(existsSync(join(data, 'aiduck.duckdb.wal.recovery'))).toBe(false);
    const fresh = await onDisk.client();
    expect((await fresh.query('SELECT sum(i)::BIGINT AS total FROM kept')).rows).toEqual([{ total: '499500' }]);
  });

  it("data_file('name') is the file under files/ whatever the session set its variable or macro to", async () => {
    const files = join(onDisk.dataDir, 'files');
    expect((await s.query(`COPY kept TO (data_file('by-name.csv'))`)).rowCount).toBe(1000);
    expect(existsSync(join(files, 'by-name.csv'))).toBe(true);
    const up = await s.query(`COPY kept TO (data_file('../aiduck.duckdb')) (USE_TMP_FILE false)`).catch((e: unknown) => e);
    expect(up).toMatchObject({ code: '42501', message: expect.stringContaining('is not allowed on this server') });
    const other = await onDisk.client();
    await other.query(`SET VARIABLE aiduck_files_dir = '${onDisk.dataDir}'`);
    await other.query(`CREATE OR REPLACE TEMP MACRO data_file(path) AS '${onDisk.dataDir}/' || path`);
    await other.query(`COPY (SELECT 1 AS one) TO (data_file('aiduck.duckdb')) (FORMAT csv)`);
    expect(existsSync(join(files, 'aiduck.duckdb'))).toBe(true);
    expect((await other.query('SELECT count(*)::INT AS n FROM kept')).rows).toEqual([{ n: 1000 }]);
  });
});
