import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_MODELS } from '../src/testmodels/index.js';
import { run } from './helpers/run.js';

// The aiduck command as a newcomer meets it: help for every command, clear refusals, and a shell
// that finds the server of its data directory whatever port it was started on.
const aiduck = (args: string[], env: NodeJS.ProcessEnv = {}, input?: string) =>
  run('node', ['bin/aiduck.js', ...args], { env: { AIDUCK_PORT: undefined, AIDUCK_DATA: undefined, AIDUCK_HOST: undefined, ...env }, ...(input === undefined ? {} : { input }) });

const scratch = mkdtempSync(join(tmpdir(), 'aiduck-cli-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('help', () => {
  it('aiduck --help lists every command and every test model', async () => {
    const r = await aiduck(['--help']);
    expect(r.status).toBe(0);
    for (const c of ['serve', 'sql', 'init', 'testmodels']) expect(r.stdout).toMatch(new RegExp(`^  aiduck ${c} `, 'm'));
    for (const m of TEST_MODELS) expect(r.stdout).toContain(m.name);
  });

  for (const command of ['serve', 'sql', 'init', 'testmodels']) {
    it(`aiduck ${command} --help (and -h, and aiduck help ${command}) prints its usage`, async () => {
      for (const args of [[command, '--help'], [command, '-h'], ['help', command]]) {
        const r = await aiduck(args);
        expect(r.status, r.stderr).toBe(0);
        expect(r.stdout).toMatch(new RegExp(`^usage: aiduck ${command}`));
        expect(r.stderr).toBe('');
      }
    });
  }

  it('serve and sql help list their options, testmodels help every test model with its tasks', async () => {
    for (const command of ['serve', 'sql']) {
      const r = await aiduck([command, '--help']);
      for (const o of ['--host', '--port', '--data', '--password', '--import-dir', '--memory-limit']) expect(r.stdout).toContain(o);
    }
    expect((await aiduck(['sql', '--help'])).stdout).toMatch(/-f, --file <file>/);
    const t = await aiduck(['testmodels', '--help']);
    for (const m of TEST_MODELS) expect(t.stdout).toMatch(new RegExp(`${m.name} .*\\n.*tasks: ${m.tasks.join(', ')}`));
  });

  it('testmodels --help writes no folder named --help', async () => {
    const cwd = mkdtempSync(join(scratch, 'cwd-'));
    const child = spawn('node', [join(process.cwd(), 'bin/aiduck.js'), 'testmodels', '--help'], { cwd, env: { ...process.env, AIDUCK_DATA: undefined } });
    await new Promise((resolve) => child.on('close', resolve));
    expect(existsSync(join(cwd, '--help'))).toBe(false);
    expect(existsSync(join(cwd, 'aiduck-data'))).toBe(false);
  });
});

describe('refusals', () => {
  it('an unknown command says so and exits 2', async () => {
    const r = await aiduck(['srve']);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^aiduck: unknown command 'srve' \(see aiduck --help; the commands are serve, sql, init, testmodels\)/);
  });

  it('an unknown option names itself and the command, and exits 2', async () => {
    const r = await aiduck(['serve', '--prot', '5434']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^aiduck serve: unknown option '--prot' \(see aiduck serve --help\)/);
    const t = await aiduck(['testmodels', '--data']);
    expect(t.status).toBe(2);
    expect(t.stderr).toMatch(/^aiduck testmodels: .*--data/);
  });
});

describe('init and testmodels', () => {
  it('init writes the sample data and the test models under <data>/files', async () => {
    const data = join(scratch, 'init-data');
    const r = await aiduck(['init', '--data', data]);
    expect(r.status, r.stderr).toBe(0);
    const csv = readFileSync(join(data, 'files/samples/reviews.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toBe('id,product,stars,reviewed_on,body');
    expect(csv).toHaveLength(201);
    expect(existsSync(join(data, 'files/samples/reviews.parquet'))).toBe(true);
    for (const m of TEST_MODELS) {
      expect(existsSync(join(data, 'files/testmodels', m.name, 'config.json'))).toBe(true);
      expect(r.stdout).toContain(`register_model('${m.registerAs}', 'file:testmodels/${m.name}')`);
    }
    // A second run rewrites the same bytes.
    const before = readFileSync(join(data, 'files/samples/reviews.csv'));
    expect((await aiduck(['init'], { AIDUCK_DATA: data })).status).toBe(0);
    expect(readFileSync(join(data, 'files/samples/reviews.csv')).equals(before)).toBe(true);
  });

  it('testmodels honours --data, and a folder given as an argument', async () => {
    const data = join(scratch, 'tm-data');
    expect((await aiduck(['testmodels', '--data', data])).status).toBe(0);
    expect(existsSync(join(data, 'files/testmodels/tiny-llama-chat/config.json'))).toBe(true);
    const dir = join(scratch, 'tm-dir');
    expect((await aiduck(['testmodels', dir])).status).toBe(0);
    expect(existsSync(join(dir, 'tiny-bert-embedder/config.json'))).toBe(true);
  });
});

describe('aiduck sql with a server running on another port', () => {
  let server: ChildProcess;
  let data: string;
  let port: number;

  beforeAll(async () => {
    data = mkdtempSync(join(scratch, 'served-'));
    port = 20000 + Math.floor(Math.random() * 20000);
    // Started the way a user starts it in another terminal: its port from the environment.
    server = spawn('node', ['bin/aiduck.js', 'serve', '--threads', '2'], {
      stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, AIDUCK_PORT: String(port), AIDUCK_DATA: data },
    });
    await new Promise<void>((resolve, reject) => {
      server.stdout!.on('data', (d: Buffer) => { if (d.toString().includes('listening')) resolve(); });
      server.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
    });
  });
  afterAll(() => {
    server?.kill('SIGKILL');
  });

  it('finds it through the data directory (no --port) instead of failing on the database lock', async () => {
    const r = await aiduck(['sql', '-c', 'CREATE TABLE found AS SELECT 7 AS seven; SELECT seven FROM found;'], { AIDUCK_DATA: data });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/seven\s*\n-+\s*\n\s*7\b/);
    expect(JSON.parse(readFileSync(join(data, 'server.json'), 'utf8'))).toMatchObject({ port, pid: server.pid });
  });

  it('given a port where nothing listens, it says which server has the database', async () => {
    const r = await aiduck(['sql', '--port', String(port + 1), '-c', 'SELECT 1;'], { AIDUCK_DATA: data });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`is open in the aiduck server at 127.0.0.1:${port}`);
    expect(r.stderr).toContain(`--port ${port}`);
  });

  it('-f runs a script statement by statement and stops at the first error with exit status 1', async () => {
    const script = join(scratch, 'script.sql');
    writeFileSync(script, `-- a script
CREATE OR REPLACE TABLE steps AS SELECT 1 AS step;
INSERT INTO steps VALUES (2);
SELECT no_such_column FROM steps;
INSERT INTO steps VALUES (3);
`);
    const r = await aiduck(['sql', '-f', script], { AIDUCK_DATA: data });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/ERROR: {2}.*no_such_column.*\(SQLSTATE 42703\) \(.*script\.sql, statement 3\)/);
    const check = await aiduck(['sql', '-c', 'SELECT count(*) AS n FROM steps;'], { AIDUCK_DATA: data });
    expect(check.stdout).toMatch(/n\s*\n-+\s*\n\s*2\b/);
  });

  it('a psql meta-command in a script is refused with the psql command that runs it', async () => {
    const script = join(scratch, 'meta.sql');
    writeFileSync(script, 'SELECT 1;\n\\set x 1\nSELECT 2;\n');
    const r = await aiduck(['sql', '-f', script], { AIDUCK_DATA: data });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('\\set is a psql meta-command');
    expect(r.stderr).toContain(`psql -h 127.0.0.1 -p ${port} -U aiduck -d aiduck -f`);
  });

  it('prints NOTICEs to standard error', async () => {
    const r = await aiduck(['sql'], { AIDUCK_DATA: data }, 'BEGIN; BEGIN; COMMIT;');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/there is already a transaction in progress/);
  });

  it('the server removes server.json when it stops', async () => {
    const exited = new Promise((resolve) => server.once('exit', resolve));
    server.kill('SIGTERM');
    await exited;
    expect(existsSync(join(data, 'server.json'))).toBe(false);
    // With no server left, the shell opens the database itself.
    const r = await aiduck(['sql', '-c', 'SELECT seven FROM found;'], { AIDUCK_DATA: data });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/\b7\b/);
  });
});
