import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run, type Run } from './helpers/run.js';
import { startOpenAIServer, type OpenAITestServer } from './helpers/openai-server.js';
import { startTestServer, type TestServer } from './helpers/server.js';

// The README as a newcomer follows it: its setup command, then every SQL block in order, pasted into
// psql as written, against a fresh server. The endpoints it names (Ollama's and a serving cluster's
// default addresses) are the one thing replaced: by a real OpenAI-compatible server on loopback.
const README = readFileSync('README.md', 'utf8');
const ENDPOINTS = ['http://127.0.0.1:11434/v1', 'http://127.0.0.1:8000/v1'];

interface Block {
  heading: string;
  sql: string;
}

/** The ```sql blocks of a Markdown text, each with the heading it is under. */
function sqlBlocks(markdown: string): Block[] {
  const blocks: Block[] = [];
  let heading = '';
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (/^#+ /.test(line)) heading = line.replace(/^#+ /, '');
    if (line.trim() !== '```sql') continue;
    const body: string[] = [];
    for (i++; i < lines.length && lines[i]!.trim() !== '```'; i++) body.push(lines[i]!);
    blocks.push({ heading, sql: body.join('\n') + '\n' });
  }
  return blocks;
}

let server: TestServer;
let openai: OpenAITestServer;
let work: string;

beforeAll(async () => {
  openai = await startOpenAIServer();
  server = await startTestServer();
  work = mkdtempSync(join(tmpdir(), 'aiduck-readme-'));
  // The README's setup line, pointed at this server's data directory the documented way.
  expect(README).toMatch(/^node bin\/aiduck\.js init /m);
  const init = await run('node', ['bin/aiduck.js', 'init'], { env: { AIDUCK_DATA: server.dataDir } });
  expect(init.status, init.stderr).toBe(0);
}, 60_000);

afterAll(async () => {
  await server?.stop();
  await openai?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

async function psqlBlock(block: Block, n: number): Promise<Run> {
  let sql = block.sql;
  for (const url of ENDPOINTS) sql = sql.split(url).join(openai.url);
  const file = join(work, `block-${n}.sql`);
  writeFileSync(file, sql);
  // psql's working directory is a scratch folder: \copy writes there, as in the reader's.
  return run('psql', ['-X', '-v', 'ON_ERROR_STOP=1', '-h', '127.0.0.1', '-p', String(server.port), '-U', 'aiduck', '-d', 'aiduck', '-f', file], { cwd: work });
}

describe('README.md', () => {
  const blocks = sqlBlocks(README);

  it('has the SQL blocks this test knows of', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(6);
    expect(blocks.map((b) => b.heading)).toEqual(expect.arrayContaining(['Run it', 'Fine-tuning: train_lora', 'When one machine is not enough']));
  });

  for (const round of [1, 2]) {
    it(`every SQL block runs as written, in order${round === 2 ? ', and again' : ''}`, async () => {
      openai.reset();
      const outputs: string[] = [];
      for (const [n, block] of blocks.entries()) {
        const r = await psqlBlock(block, n);
        expect(r.status, `block ${n + 1} (under "${block.heading}"):\n${block.sql}\n${r.stderr}`).toBe(0);
        expect(r.stderr, `block ${n + 1} (under "${block.heading}")`).not.toMatch(/ERROR/);
        outputs.push(r.stdout);
      }
      const all = outputs.join('\n');
      // The quickstart read the sample data, and \copy wrote its file on the client's side.
      expect(all).toMatch(/count \| +avg\s*\n-+\+-+\s*\n\s*200 \|/);
      expect(readFileSync(join(work, 'reviews-backup.csv'), 'utf8').trim().split('\n')).toHaveLength(201);
      // The endpoint answered the structured-output query and the cluster summarized every review.
      expect(all).toMatch(/id\s*\|\s*sentiment\s*\|\s*complaint\s*\n-+\+-+\+-+\s*\n\s*\d+\s*\|\s*Read this product review/);
      expect(all).toMatch(/summarized\s*\n-+\s*\n\s*200\b/);
      expect(openai.stats.byPath['/v1/chat/completions']).toBeGreaterThan(0);
      // train_lora trained three epochs and champion moved to the adapter it made.
      expect(all).toMatch(/version\s*\|\s*epoch\s*\|\s*steps\s*\|\s*train_loss/);
      expect(all).toMatch(/\(3 rows\)/);
      expect(all).toMatch(/bank_bot\s*\|\s*champion\s*\|/);
    }, 180_000);
  }

  it('links only to files in the repository that exist', () => {
    const docs = ['README.md', ...readdirSync('docs').filter((f) => f.endsWith('.md')).map((f) => join('docs', f))];
    const root = resolve('.');
    for (const doc of docs) {
      for (const [, target] of readFileSync(doc, 'utf8').matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^(https?:|mailto:|#)/.test(target!)) continue;
        const path = resolve(dirname(doc), target!.split('#')[0]!);
        expect(path.startsWith(root + '/') || path === root, `${doc} links ${target}, outside the repository`).toBe(true);
        expect(existsSync(path), `${doc} links ${target}, which does not exist`).toBe(true);
      }
    }
  });
});
