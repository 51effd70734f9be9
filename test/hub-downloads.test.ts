/**
 * `hf:` sources as huggingface_hub fetches them, from a real HTTP server on loopback playing the Hub: a
 * transformers 5 Llama (safetensors only, no ONNX) in one file and sharded, registered over the wire,
 * answers exactly as the same model registered from a local folder; revisions resolve to commits; what
 * is stored is only what the model needs, written into the artifact store and verified (sizes, LFS
 * checksums); a commit already stored is not downloaded again, and offline the last download of a
 * revision is used; what aiduck cannot run is refused before its weights are downloaded, leaving
 * nothing behind. Beside it, the local loaders: sharded checkpoints (and a broken index refused) and a
 * single file larger than the 2 GiB Node reads into one buffer.
 */
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bertEmbedder, llamaModelFiles, TINY_LLAMA, writeModelFiles } from '../src/testmodels/index.js';
import { loadFolderWeights, readSafetensors, serializeSafetensors } from '../src/llm/safetensors.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { commitOf, startLoopbackHub, type LoopbackHub } from './helpers/hub-server.js';

const PROMPTS = [
  'How do I check my card balance and what is the interest rate on savings accounts this year?',
  'Can you help me with my transfer to another account, please, today or tomorrow?',
  'The weather is nice today and the football match is tonight; what should I know about the loan rate?',
];
const SHARD_BYTES = 150_000;

const sqlList = (xs: string[]): string => `[${xs.map((x) => `'${x.replaceAll("'", "''")}'`).join(', ')}]`;

let dir: string;
let hub: LoopbackHub;
let server: TestServer;
let c: pg.Client;

const folder = (name: string): string => join(dir, name);
const v5 = (extra: Parameters<typeof llamaModelFiles>[1] = {}): ReturnType<typeof llamaModelFiles> => llamaModelFiles(TINY_LLAMA, { transformers5: true, ...extra });
/** A repository's files as the Hub has them: the model's, and a model card and .gitattributes aiduck has no use for. */
const REPO_EXTRAS = { 'README.md': '# model card\n', '.gitattributes': '*.safetensors filter=lfs diff=lfs merge=lfs -text\n' };
const repo = (commit: string, path: string, refs: Record<string, string> = { main: commit }): { commits: Record<string, string>; refs: Record<string, string> } => ({ commits: { [commit]: path }, refs });

async function answers(model: string): Promise<string[]> {
  const r = await c.query(`SELECT q, ai_query('${model}', q, modelParameters => named_struct('max_tokens', 20)) AS a FROM unnest(${sqlList(PROMPTS)}) t(q)`);
  const byQuestion = new Map(r.rows.map((row: { q: string; a: string }) => [row.q, row.a]));
  return PROMPTS.map((q) => byQuestion.get(q)!);
}

const version = async (name: string): Promise<{ location: string; provider: string; task: string; tags: Record<string, string> | null }> =>
  (await c.query(`SELECT location, provider, task, tags FROM ai.model_versions WHERE name = '${name}' ORDER BY version DESC LIMIT 1`)).rows[0];

/** Everything under the artifact store's root, dot-folders (staging) included. */
const stored = (): string[] => (existsSync(join(server.dataDir, 'models')) ? readdirSync(join(server.dataDir, 'models')).sort() : []);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'aiduck-hub-'));
  await writeModelFiles(folder('local'), v5());
  await writeModelFiles(folder('local-linear'), v5({ rope: { type: 'linear', factor: 2 } }));
  await writeModelFiles(folder('hub-single'), { ...v5(), ...REPO_EXTRAS });
  await writeModelFiles(folder('hub-sharded'), { ...v5({ maxShardBytes: SHARD_BYTES }), ...REPO_EXTRAS });
  await writeModelFiles(folder('hub-linear'), { ...v5({ rope: { type: 'linear', factor: 2 } }), ...REPO_EXTRAS });
  await writeModelFiles(folder('hub-yarn'), { ...v5({ rope: { type: 'yarn', factor: 4, originalMaxPositionEmbeddings: 128 } }), ...REPO_EXTRAS });
  const { 'onnx/model.onnx': _graph, ...bertSafetensorsOnly } = bertEmbedder(undefined, { safetensors: true });
  await writeModelFiles(folder('hub-bert-safetensors'), { ...bertSafetensorsOnly, ...REPO_EXTRAS });
  const stEmbedder = bertEmbedder(undefined, { sentenceTransformers: { pooling: ['cls'], normalize: true } });
  await writeModelFiles(folder('local-bert-cls'), stEmbedder);
  await writeModelFiles(folder('hub-bert-cls'), { ...stEmbedder, ...REPO_EXTRAS, 'onnx/model_quantized.onnx': new Uint8Array([1, 2, 3]) });
  hub = await startLoopbackHub({
    'org/llama5': repo(commitOf('single'), folder('hub-single')),
    'org/llama5-sharded': repo(commitOf('sharded'), folder('hub-sharded')),
    'org/moving': { commits: { [commitOf('m1')]: folder('hub-single'), [commitOf('m2')]: folder('hub-linear') }, refs: { main: commitOf('m2'), v1: commitOf('m1') } },
    'org/yarn': repo(commitOf('yarn'), folder('hub-yarn')),
    'org/bert-safetensors': repo(commitOf('bert-st'), folder('hub-bert-safetensors')),
    'org/bert-cls': repo(commitOf('bert-cls'), folder('hub-bert-cls')),
  });
  process.env['HF_ENDPOINT'] = hub.url;
  server = await startTestServer({ importDirs: [dir] });
  c = await server.client();
  await c.query(`SELECT * FROM register_model('local', '${folder('local')}')`);
}, 120_000);

afterAll(async () => {
  delete process.env['HF_ENDPOINT'];
  await server?.stop();
  await hub?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('sharded and large safetensors checkpoints', () => {
  it('a sharded folder, as save_pretrained writes one past max_shard_size, loads the same weights as the single file', async () => {
    const files = readdirSync(folder('hub-sharded')).filter((f) => f.endsWith('.safetensors')).sort();
    expect(files.length).toBeGreaterThanOrEqual(3);
    expect(files[0]).toBe(`model-00001-of-${String(files.length).padStart(5, '0')}.safetensors`);
    const index = JSON.parse(readFileSync(join(folder('hub-sharded'), 'model.safetensors.index.json'), 'utf8'));
    const single = await loadFolderWeights(folder('local'));
    const sharded = await loadFolderWeights(folder('hub-sharded'));
    expect(index.metadata.total_size).toBe([...single.values()].reduce((n, t) => n + t.data.byteLength, 0));
    expect(new Set(Object.values(index.weight_map))).toEqual(new Set(files));
    expect([...sharded.keys()].sort()).toEqual([...single.keys()].sort());
    for (const [name, t] of single) {
      expect(sharded.get(name)!.shape, name).toEqual(t.shape);
      expect(Buffer.from(sharded.get(name)!.data.buffer).equals(Buffer.from(t.data.buffer)), name).toBe(true);
    }
  });

  it('refuses an index that points outside the folder, names a missing shard, or puts a tensor in a shard that lacks it', async () => {
    const broken = (name: string, edit: (index: { weight_map: Record<string, string> }, dir: string) => void): string => {
      const d = folder(`broken-${name}`);
      cpSync(folder('hub-sharded'), d, { recursive: true });
      const file = join(d, 'model.safetensors.index.json');
      const index = JSON.parse(readFileSync(file, 'utf8'));
      edit(index, d);
      writeFileSync(file, JSON.stringify(index));
      return d;
    };
    const first = (i: { weight_map: Record<string, string> }): string => Object.keys(i.weight_map)[0]!;
    await expect(loadFolderWeights(broken('outside', (i) => { i.weight_map[first(i)] = '../local/model.safetensors'; })))
      .rejects.toMatchObject({ code: '22P02', message: expect.stringContaining('not a .safetensors file beside the index') });
    await expect(loadFolderWeights(broken('missing', (i, d) => rmSync(join(d, i.weight_map[first(i)]!)))))
      .rejects.toMatchObject({ code: '58P01', message: expect.stringContaining('does not have') });
    await expect(loadFolderWeights(broken('moved', (i) => {
      const name = first(i);
      i.weight_map[name] = Object.values(i.weight_map).find((s) => s !== i.weight_map[name])!;
    }))).rejects.toMatchObject({ code: '22P02', message: expect.stringContaining('which does not hold it') });
  });

  it('reads a single file larger than 2 GiB (transformers 5 no longer shards below 50 GB) tensor by tensor', async () => {
    // A sparse file: a small tensor, then 2.4 GB of zeros that take no disk.
    const bigCount = 600_000_000;
    const head = serializeSafetensors(new Map([['small', { shape: [4], data: Float32Array.of(1, 2, 3, 4) }]]));
    const headerLength = Number(Buffer.from(head).readBigUInt64LE(0));
    const header = JSON.parse(Buffer.from(head.subarray(8, 8 + headerLength)).toString('utf8'));
    header.big = { dtype: 'F32', shape: [bigCount], data_offsets: [16, 16 + bigCount * 4] };
    const json = Buffer.from(JSON.stringify(header).padEnd(Math.ceil((JSON.stringify(header).length + 8) / 8) * 8 - 8));
    const file = join(dir, 'big.safetensors');
    const h = await open(file, 'w');
    const prefix = Buffer.alloc(8);
    prefix.writeBigUInt64LE(BigInt(json.length));
    await h.write(Buffer.concat([prefix, json, Buffer.from(Float32Array.of(1, 2, 3, 4).buffer)]));
    await h.truncate(8 + json.length + 16 + bigCount * 4);
    await h.close();
    await expect(readFile(file)).rejects.toMatchObject({ code: 'ERR_FS_FILE_TOO_LARGE' });
    const got = await readSafetensors(file, (n) => n === 'small');
    expect([...got.keys()]).toEqual(['small']);
    expect([...got.get('small')!.data]).toEqual([1, 2, 3, 4]);
    rmSync(file);
  });
});

describe('a transformers 5 Llama from the Hub', () => {
  it('in one file and sharded: only what the model needs is stored, and it answers exactly as the local folder', async () => {
    const want = await answers('local');
    expect(want.every((a) => a.length > 0)).toBe(true);
    for (const [name, source, reference] of [['hub_single', 'org/llama5', 'hub-single'], ['hub_sharded', 'org/llama5-sharded', 'hub-sharded']] as const) {
      const since = hub.requests.length;
      const r = await c.query(`SELECT task, provider FROM register_model('${name}', 'hf:${source}')`);
      expect(r.rows[0]).toEqual({ task: 'chat', provider: 'llama' });
      const v = await version(name);
      const expected = readdirSync(folder(reference)).filter((f) => !(f in REPO_EXTRAS)).sort();
      expect(readdirSync(v.location).sort(), name).toEqual(expected);
      // Every file fetched once, from the commit the revision resolved to.
      const commit = commitOf(name === 'hub_single' ? 'single' : 'sharded');
      expect(hub.downloads(since).sort()).toEqual(expected.map((f) => `/${source}/resolve/${commit}/${f}`).sort());
      expect(v.tags).toEqual({ hub_commit: commit });
      expect(await answers(name), name).toEqual(want);
    }
    // The single-file download is byte for byte the local folder: the store keeps it once.
    expect((await version('hub_single')).location).toBe((await version('local')).location);
  }, 60_000);

  it('a commit already stored is not downloaded again; offline, a revision is what it was last', async () => {
    const since = hub.requests.length;
    await c.query(`SELECT * FROM register_model('again', 'hf:org/llama5-sharded')`);
    expect(hub.requests.slice(since)).toEqual([`/api/models/org/llama5-sharded/revision/main`]);
    expect((await version('again')).location).toBe((await version('hub_sharded')).location);
    process.env['HF_ENDPOINT'] = 'http://127.0.0.1:9';
    try {
      await c.query(`SELECT * FROM register_model('offline', 'hf:org/llama5-sharded')`);
      expect((await version('offline')).location).toBe((await version('hub_sharded')).location);
      await expect(c.query(`SELECT * FROM register_model('offline', 'hf:org/moving')`)).rejects.toMatchObject({ code: '08001' });
    } finally {
      process.env['HF_ENDPOINT'] = hub.url;
    }
  });

  it('revisions resolve to commits: a tag, a branch, a commit id, and a branch that moved', async () => {
    const linear = await (async () => {
      await c.query(`SELECT * FROM register_model('local_linear', '${folder('local-linear')}')`);
      return answers('local_linear');
    })();
    const plain = await answers('local');
    expect(linear).not.toEqual(plain);
    await c.query(`SELECT * FROM register_model('moving', 'hf:org/moving@v1')`);
    expect(await answers('moving')).toEqual(plain);
    await c.query(`SELECT * FROM register_model('moving', 'hf:org/moving')`);
    expect((await version('moving')).tags).toEqual({ hub_commit: commitOf('m2') });
    expect(await answers('moving')).toEqual(linear);
    await c.query(`SELECT * FROM register_model('moving', 'hf:org/moving@${commitOf('m1')}')`);
    expect(await answers('moving')).toEqual(plain);
    // main moves back to m1: the next registration of main is m1's files, already stored.
    hub.repos.get('org/moving')!.refs['main'] = commitOf('m1');
    const since = hub.requests.length;
    await c.query(`SELECT * FROM register_model('moving', 'hf:org/moving')`);
    expect(hub.downloads(since)).toEqual([]);
    expect(await answers('moving')).toEqual(plain);
    const versions = await c.query(`SELECT version, source, tags['hub_commit'] AS commit FROM ai.model_versions WHERE name = 'moving' ORDER BY version`);
    expect(versions.rows.map((r) => [r.source, r.commit])).toEqual([
      ['hf:org/moving@v1', commitOf('m1')], ['hf:org/moving', commitOf('m2')], [`hf:org/moving@${commitOf('m1')}`, commitOf('m1')], ['hf:org/moving', commitOf('m1')],
    ]);
    await expect(c.query(`SELECT * FROM register_model('moving', 'hf:org/moving@v9')`)).rejects.toMatchObject({ code: '42704', hint: expect.stringContaining('HF_TOKEN') });
  }, 60_000);

  it('a download that does not match the Hub\'s list (size, LFS checksum) or the disk is refused, leaving nothing behind', async () => {
    hub.repos.set('org/sharded-b', repo(commitOf('sharded-b'), folder('hub-sharded')));
    const shard = readdirSync(folder('hub-sharded')).filter((f) => f.endsWith('.safetensors')).sort()[1]!;
    const before = stored();
    try {
      hub.tamper = (_repo, file, bytes) => (file === shard ? bytes.subarray(0, bytes.length - 12) : bytes);
      await expect(c.query(`SELECT * FROM register_model('tampered', 'hf:org/sharded-b')`)).rejects.toMatchObject({
        code: '58030', message: expect.stringMatching(new RegExp(`${shard} gave \\d+ bytes; the Hub lists \\d+`)),
      });
      expect(stored()).toEqual(before);
      hub.tamper = (_repo, file, bytes) => (file === shard ? Buffer.concat([bytes.subarray(0, 100), Buffer.from([bytes[100]! ^ 1]), bytes.subarray(101)]) : bytes);
      await expect(c.query(`SELECT * FROM register_model('tampered', 'hf:org/sharded-b')`)).rejects.toMatchObject({
        code: '58030', message: expect.stringContaining('sha256'),
      });
      expect(stored()).toEqual(before);
      hub.tamper = null;
      hub.listing = (_repo, siblings) => siblings.map((s) => (s.rfilename === shard ? { ...s, size: 4e15, lfs: { ...s.lfs!, size: 4e15 } } : s));
      const since = hub.requests.length;
      await expect(c.query(`SELECT * FROM register_model('tampered', 'hf:org/sharded-b')`)).rejects.toMatchObject({ code: '53100', message: expect.stringContaining('needs 4000000.00 GB') });
      expect(hub.downloads(since).filter((f) => f.endsWith('.safetensors'))).toEqual([]);
      expect(stored()).toEqual(before);
    } finally {
      hub.tamper = null;
      hub.listing = null;
    }
    expect((await c.query(`SELECT count(*)::INT AS n FROM ai.model_versions WHERE name = 'tampered'`)).rows[0].n).toBe(0);
    // Served as listed, the same repository registers.
    await c.query(`SELECT * FROM register_model('tampered', 'hf:org/sharded-b')`);
    expect(await answers('tampered')).toEqual(await answers('local'));
  }, 60_000);

  it('what aiduck cannot run is refused from the small files, before any weights are downloaded', async () => {
    const before = stored();
    const cases: Array<[string, string, RegExp, RegExp]> = [
      ['org/yarn', '0A000', /yarn/, /llama3/],
      ['org/bert-safetensors', '0A000', /safetensors weights of a bert and no ONNX graphs/, /onnx\/ folder/],
    ];
    for (const [source, code, message, hint] of cases) {
      const since = hub.requests.length;
      await expect(c.query(`SELECT * FROM register_model('refused', 'hf:${source}')`), source).rejects.toMatchObject({ code, message: expect.stringMatching(message), hint: expect.stringMatching(hint) });
      expect(hub.downloads(since).filter((f) => /\.(safetensors|onnx)$/.test(f)), source).toEqual([]);
      expect(stored(), source).toEqual(before);
    }
    // An index naming a shard the repository does not have.
    const d = folder('hub-sharded-lost');
    cpSync(folder('hub-sharded'), d, { recursive: true });
    const last = readdirSync(d).filter((f) => f.endsWith('.safetensors')).sort().at(-1)!;
    rmSync(join(d, last));
    hub.repos.set('org/lost-shard', repo(commitOf('lost'), d));
    await expect(c.query(`SELECT * FROM register_model('refused', 'hf:org/lost-shard')`)).rejects.toMatchObject({ code: '22P02', message: expect.stringContaining(last) });
    expect(stored()).toEqual(before);
  });
});

describe('the Hub cache', () => {
  it('keeps only which commit a revision was and which stored folder it became; copies earlier versions kept there go when a database opens', async () => {
    const cache = join(server.dataDir, 'hub-cache', 'org', 'llama5-sharded');
    expect(readdirSync(cache).sort()).toEqual(['refs', 'snapshots']);
    expect(readFileSync(join(cache, 'refs', 'main'), 'utf8')).toBe(commitOf('sharded'));
    expect(readFileSync(join(cache, 'snapshots', commitOf('sharded')), 'utf8')).toBe(`${(await version('hub_sharded')).location.split('/').at(-1)} safetensors`);
    const dataDir = mkdtempSync(join(tmpdir(), 'aiduck-old-cache-'));
    const old = join(dataDir, 'hub-cache', 'org');
    cpSync(folder('local'), join(old, 'model@main'), { recursive: true });
    cpSync(folder('local'), join(old, 'model@v2.partial'), { recursive: true });
    cpSync(cache, join(old, 'llama5-sharded'), { recursive: true });
    const second = await startTestServer({ importDirs: [dir], dataDir });
    try {
      expect(readdirSync(old)).toEqual(['llama5-sharded']);
      expect(readdirSync(join(old, 'llama5-sharded')).sort()).toEqual(['refs', 'snapshots']);
    } finally {
      await second.stop();
    }
  });
});

describe('other kinds of Hub repositories', () => {
  it('a sentence-transformers ONNX embedder comes with its modules: its pooling is read and recorded, quantized variants are left out', async () => {
    await c.query(`SELECT * FROM register_model('st_cls', 'hf:org/bert-cls')`);
    const r = await c.query(`SELECT dimension, pooling, location FROM ai.model_versions WHERE name = 'st_cls'`);
    expect(r.rows[0].dimension).toBe(64);
    expect(r.rows[0].pooling).toEqual({ mode: 'cls', normalize: true, include_prompt: true, prompt: null, max_seq_length: 512, lowercase: false });
    expect(JSON.parse(readFileSync(join(r.rows[0].location, '1_Pooling', 'config.json'), 'utf8')).pooling_mode_cls_token).toBe(true);
    expect(existsSync(join(r.rows[0].location, 'onnx', 'model_quantized.onnx'))).toBe(false);
    const local = await c.query(`SELECT location FROM register_model('st_cls_local', '${folder('local-bert-cls')}')`);
    // The same files as the local folder: the same stored folder, hence the same vectors.
    expect(local.rows[0].location).toBe(r.rows[0].location);
    const v = await c.query(`SELECT ai_embed('st_cls', 'the team won the match') AS a, ai_embed('st_cls_local', 'the team won the match') AS b`);
    expect(v.rows[0].a).toEqual(v.rows[0].b);
  });

  it('a PEFT adapter repository runs on the base named with base_model, as the adapter it was exported from', async () => {
    await c.query(`CREATE TABLE replies AS SELECT json_array(json_object('role', 'user', 'content', q), json_object('role', 'assistant', 'content', 'Sorry, I can only help with banking.')) AS messages
      FROM unnest(${sqlList(PROMPTS)}) t(q)`);
    await c.query(`SELECT * FROM train_lora('trained', 'local', 'replies', r => 4, epochs => 3, learning_rate => 0.004, seed => 1)`);
    const exported = folder('hub-adapter');
    cpSync((await version('trained')).location, exported, { recursive: true });
    writeFileSync(join(exported, 'README.md'), '# adapter card\n');
    hub.repos.set('org/adapter', repo(commitOf('adapter'), exported));
    const since = hub.requests.length;
    await expect(c.query(`SELECT * FROM register_model('from_hub', 'hf:org/adapter')`)).rejects.toMatchObject({ code: '22004', hint: expect.stringContaining('base_model') });
    expect(hub.downloads(since).filter((f) => f.endsWith('.safetensors'))).toEqual([]);
    const r = await c.query(`SELECT provider, task, base_model FROM register_model('from_hub', 'hf:org/adapter', base_model => 'local')`);
    expect(r.rows[0]).toEqual({ provider: 'lora', task: 'chat', base_model: 'models:/local/1' });
    expect(await answers('from_hub')).toEqual(await answers('trained'));
  }, 60_000);
});
