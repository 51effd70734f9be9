import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { writeTestModels } from '../src/testmodels/index.js';
import { expectResponsive, selectOneLatencies } from './helpers/latency.js';
import { startTestServer, type TestServer } from './helpers/server.js';

// The generated models (real ONNX graphs and tokenizer.json files) registered from folders and
// run from SQL through the Postgres protocol.
let server: TestServer;
let modelsDir: string;
let c: pg.Client;
const folder = (name: string): string => join(modelsDir, name);

beforeAll(async () => {
  modelsDir = mkdtempSync(join(tmpdir(), 'aiduck-models-'));
  await writeTestModels(modelsDir);
  process.env['AIDUCK_PROGRESS_INTERVAL_MS'] = '200';
  server = await startTestServer({ importDirs: [modelsDir] });
  c = await server.client();
  await c.query(`SELECT * FROM register_model('embedder', '${folder('tiny-bert-embedder')}')`);
  await c.query(`SELECT * FROM register_model('classifier', '${folder('tiny-nli-classifier')}')`);
  await c.query(`SELECT * FROM register_model('generator', '${folder('tiny-gpt2-generator')}')`);
  await c.query(`SELECT * FROM register_model('summarizer', '${folder('tiny-t5-summarizer')}', task => 'summarization')`);
  await c.query(`CREATE TABLE texts AS SELECT i AS id, 'document ' || i || ' about ' || (['ducks', 'lakes', 'databases', 'football', 'music'])[i % 5 + 1]
    || ' with words ' || (i * 7919 % 1000) AS body FROM range(20000) t(i)`);
}, 60_000);

afterAll(async () => {
  await server?.stop();
  rmSync(modelsDir, { recursive: true, force: true });
});

describe('registry', () => {
  it('register_model infers the task, stores the artifacts by content, and returns the version', async () => {
    const r = await c.query(`SELECT name, version, uri, task, provider, dimension, location FROM ai.model_versions ORDER BY name`);
    expect(r.rows.map((x) => [x.name, x.version, x.uri, x.task, x.provider, x.dimension])).toEqual([
      ['classifier', 1, 'models:/classifier/1', 'zero-shot-classification', 'onnx', null],
      ['embedder', 1, 'models:/embedder/1', 'embedding', 'onnx', 64],
      ['generator', 1, 'models:/generator/1', 'text-generation', 'onnx', null],
      ['summarizer', 1, 'models:/summarizer/1', 'summarization', 'onnx', null],
    ]);
    for (const row of r.rows) expect(row.location).toMatch(new RegExp(`^${server.dataDir}/models/sha256-[0-9a-f]{64}$`));
  });

  it('versions, tags, aliases and every reference form', async () => {
    const v2 = await c.query(`SELECT * FROM register_model('embedder', 'file:${folder('tiny-bert-embedder')}',
      alias => 'challenger', tags => MAP {'team': 'search'}, description => 'same weights, second version')`);
    expect(v2.rows[0]).toMatchObject({ name: 'embedder', version: 2, aliases: ['challenger'], tags: { team: 'search' } });
    await c.query(`CALL set_model_alias('embedder', 'champion', 1)`);
    const resolve = async (ref: string): Promise<string> =>
      (await c.query(`SELECT json_extract_string(ai_classify_scores('x', ['a'], model := 'classifier'), '$') IS NOT NULL AS ok, '${ref}' AS ref`)).rows[0].ref;
    expect(await resolve('classifier')).toBe('classifier');
    // Each form names a version; the vectors of versions 1 and 2 are the same (same files).
    for (const ref of ['embedder', 'embedder@champion', 'embedder@challenger', 'embedder/1', 'embedder/2', 'models:/embedder@champion', 'models:/embedder/2', 'embedder@latest']) {
      const r = await c.query(`SELECT array_cosine_similarity(ai_embed('${ref}', 'ducks on a lake'), ai_embed('embedder/1', 'ducks on a lake')) AS s`);
      expect(r.rows[0].s).toBeCloseTo(1, 5);
    }
    const moved = await c.query(`SELECT * FROM set_model_alias('embedder', 'champion', 2)`);
    expect(moved.rows[0]).toMatchObject({ name: 'embedder', alias: 'champion', version: 2 });
    const models = await c.query(`SELECT name, latest_version, versions, aliases FROM ai.models WHERE name = 'embedder'`);
    expect(models.rows[0]).toEqual({ name: 'embedder', latest_version: 2, versions: '2', aliases: { challenger: 2, champion: 2 } });
    await c.query(`CALL delete_model_alias('embedder', 'challenger')`);
    await expect(c.query(`SELECT ai_embed('embedder@challenger', 'x')`)).rejects.toMatchObject({ code: '42704' });
  });

  it('clear errors for unknown models, versions, sources and folders outside the allowed directories', async () => {
    await expect(c.query(`SELECT ai_embed('no_such_model', 'x')`)).rejects.toMatchObject({ code: '42704', message: 'model "no_such_model" is not registered' });
    await expect(c.query(`SELECT ai_embed('embedder/9', 'x')`)).rejects.toMatchObject({ code: '42704' });
    await expect(c.query(`SELECT ai_embed('bad ref!', 'x')`)).rejects.toMatchObject({ code: '42602' });
    await expect(c.query(`SELECT * FROM register_model('x', '/etc')`)).rejects.toMatchObject({ code: '42501' });
    await expect(c.query(`SELECT * FROM register_model('x', 'ftp://nope')`)).rejects.toMatchObject({ code: '22023' });
    await expect(c.query(`SELECT * FROM register_model('x', 'builtin:nope')`)).rejects.toMatchObject({ code: '42704' });
    await expect(c.query(`SELECT * FROM register_model(NULL, 'builtin:hash-embed-256')`)).rejects.toMatchObject({ code: '22004' });
    await expect(c.query(`SELECT count(*) FROM register_model('x', 'builtin:hash-embed-256') JOIN texts ON true`)).rejects.toThrow(/statement of its own/);
    // A failed registration leaves nothing behind.
    expect((await c.query(`SELECT count(*)::INT AS n FROM ai.model_versions WHERE name = 'x'`)).rows[0].n).toBe(0);
  });

  it('register_model takes parameters in the extended protocol', async () => {
    const r = await c.query('SELECT name, version, task FROM register_model($1, $2, task => $3)', ['hashed', 'builtin:hash-embed-256', 'embedding']);
    expect(r.rows).toEqual([{ name: 'hashed', version: 1, task: 'embedding' }]);
  });
});

describe('batch inference', () => {
  it('ai_embed returns FLOAT[64] that feeds array_cosine_similarity, related texts closer', async () => {
    const r = await c.query(`SELECT typeof(ai_embed('embedder', 'x')) AS t,
      array_cosine_similarity(ai_embed('embedder', 'ducks swim on the lake'), ai_embed('embedder', 'the lake has ducks')) AS near,
      array_cosine_similarity(ai_embed('embedder', 'ducks swim on the lake'), ai_embed('embedder', 'database query planner')) AS far`);
    expect(r.rows[0].t).toBe('FLOAT[64]');
    expect(r.rows[0].near).toBeGreaterThan(r.rows[0].far);
  });

  it('ai_classify returns one of the labels, the matching one for an obvious text', async () => {
    const labels = `['sports', 'pop culture', 'breaking news', 'science and technology']`;
    const r = await c.query(`SELECT ai_classify(body, ${labels}) AS label FROM (VALUES ('the team won the football match'), ('a new song tops the music charts'), ('ok')) t(body)`);
    for (const row of r.rows) expect(['sports', 'pop culture', 'breaking news', 'science and technology']).toContain(row.label);
    expect(r.rows[0].label).toBe('sports');
    const multi = await c.query(`SELECT ai_classify_scores('the team won the football match', ${labels}, multi_label := true) AS s`);
    expect(multi.rows[0].s.labels).toHaveLength(4);
    for (const score of multi.rows[0].s.scores) expect(score).toBeGreaterThanOrEqual(0);
  });

  it('UPDATE ... SET v = ai_embed(...) fills a column, with the same vectors as a SELECT', async () => {
    await c.query(`CREATE TABLE chunks AS SELECT id, body, NULL::FLOAT[64] AS v FROM texts WHERE id < 3000`);
    const u = await c.query(`UPDATE chunks SET v = ai_embed('embedder', body) WHERE id >= 1000`);
    expect(u.rowCount).toBe(2000);
    const r = await c.query(`SELECT count(v)::INT AS filled, min(array_cosine_similarity(v, ai_embed('embedder', body)))::DOUBLE AS worst FROM chunks`);
    expect(r.rows[0].filled).toBe(2000);
    expect(r.rows[0].worst).toBeGreaterThan(0.9999);
  });

  it('ai_analyze_sentiment and a text-classification model', async () => {
    await c.query(`SELECT * FROM register_model('sentiment', '${folder('tiny-nli-classifier')}')`);
    const s = await c.query(`SELECT ai_analyze_sentiment('I love this great wonderful film') AS s`);
    expect(['positive', 'negative', 'neutral', 'mixed']).toContain(s.rows[0].s);
    await c.query(`SELECT * FROM register_model('nli_labels', '${folder('tiny-nli-classifier')}', task => 'text-classification')`);
    const r = await c.query(`SELECT ai_classify('the sky is blue', [], model => 'nli_labels') AS label,
      ai_classify_scores('the sky is blue', [], model => 'nli_labels') AS scores`);
    expect(['contradiction', 'neutral', 'entailment']).toContain(r.rows[0].label);
    expect(r.rows[0].scores.scores.reduce((a: number, b: number) => a + b, 0)).toBeCloseTo(1, 5);
  });

  it('ai_query runs the generative models; ai_summarize the summarizer', async () => {
    const r = await c.query(`SELECT ai_query('generator', 'the weather today', modelParameters => named_struct('max_tokens', 8)) AS g,
      ai_query('summarizer', 'the duck swims across the quiet lake at dawn') AS s, ai_summarize('ducks and lakes and more ducks') AS s2`);
    expect(typeof r.rows[0].g).toBe('string');
    expect(r.rows[0].g.length).toBeGreaterThan(0);
    for (const w of r.rows[0].s.trim().split(/\s+/)) expect('the duck swims across the quiet lake at dawn').toContain(w);
    expect(r.rows[0].s2.length).toBeGreaterThan(0);
    await c.query(`SELECT * FROM register_model('chatter', '${folder('tiny-gpt2-generator')}', task => 'chat')`);
    const chat = await c.query(`SELECT ai_query('chatter', 'hello there', modelParameters => named_struct('max_tokens', 6)) AS a`);
    expect(typeof chat.rows[0].a).toBe('string');
    expect(chat.rows[0].a.length).toBeGreaterThan(0);
    expect(chat.rows[0].a).not.toContain('user:');
  });

  it('a list of chat messages goes through the chat template of a local chat model; a model without one refuses it', async () => {
    await c.query(`SELECT * FROM register_model('llama_chat', '${folder('tiny-llama-chat')}')`);
    const p = "modelParameters => named_struct('max_tokens', 8)";
    const r = await c.query(`SELECT ai_query('llama_chat', 'Which duck dives?', ${p}) AS text,
        ai_query('llama_chat', array(named_struct('role', 'user', 'content', 'Which duck dives?')), ${p}) AS one_turn,
        ai_query('llama_chat', array(named_struct('role', 'system', 'content', 'Answer in French.'), named_struct('role', 'user', 'content', 'Which duck dives?')), ${p}) AS two_turns`);
    // A text is the user's turn: the same prompt as a one-message conversation, so the same greedy answer.
    expect(r.rows[0].one_turn).toBe(r.rows[0].text);
    expect(typeof r.rows[0].two_turns).toBe('string');
    const refused = await c.query(`SELECT (ai_query('generator', array(named_struct('role', 'user', 'content', 'hi')), failOnError => false)).errorMessage AS e`);
    expect(refused.rows[0].e).toMatch(/a list of chat messages needs a chat model/);
  });

  it('NULL, empty and 1 MB inputs: NULL or empty in, NULL out; no crash, the session goes on', async () => {
    const r = await c.query(`SELECT ai_embed('embedder', NULL) IS NULL AS n, ai_embed('embedder', '') IS NULL AS e,
      ai_query('generator', NULL) IS NULL AS q, ai_query('generator', '') IS NULL AS qe, ai_classify(NULL, ['a', 'b']) IS NULL AS k`);
    expect(r.rows[0]).toEqual({ n: true, e: true, q: true, qe: true, k: true });
    const big = await c.query(`SELECT len(ai_embed('embedder', repeat('ducks swim ', 100000)))::INT AS d,
      ai_classify(repeat('the team won the football match ', 30000), ['sports', 'music']) AS label`);
    expect(big.rows[0]).toEqual({ d: 64, label: 'sports' });
    const gen = await c.query(`SELECT (ai_query('generator', repeat('word ', 200000), failOnError => false)).errorMessage AS e`);
    expect(gen.rows[0].e === null || typeof gen.rows[0].e === 'string').toBe(true);
    expect((await c.query('SELECT 1 AS one')).rows[0].one).toBe(1);
  });

  it('while a 20,000-row ai_embed job runs, SELECT 1 on another connection answers in milliseconds, never waiting behind it', async () => {
    await c.query(`SELECT * FROM register_model('embedder_cold', '${folder('tiny-bert-embedder')}')`); // a version with an empty cache
    const other = await server.client();
    const notices: string[] = [];
    c.on('notice', (n) => notices.push(n.message ?? ''));
    const job = c.query(`CREATE TABLE embedded AS SELECT id, ai_embed('embedder_cold', body) AS v FROM texts`);
    let sawJob = false;
    const latencies = await selectOneLatencies(other, job, 10, async () => {
      if (!sawJob) sawJob = ((await other.query(`SELECT count(*)::INT AS n FROM ai.running_jobs WHERE function = 'ai_embed' AND rows_done > 0`)).rows[0].n) > 0;
    });
    await job;
    expectResponsive(latencies, 10);
    expect(sawJob).toBe(true);
    expect(notices.some((n) => /^ai_embed\(embedder_cold\): \d+ rows done/.test(n))).toBe(true);
    const check = await c.query(`SELECT count(*)::INT AS n, count(DISTINCT v)::INT AS d, min(len(v))::INT AS l FROM embedded`);
    expect(check.rows[0]).toEqual({ n: 20000, d: 20000, l: 64 });
  }, 120_000);

  it('the result cache makes a re-run of the job at least 20x faster', async () => {
    await c.query(`SELECT * FROM register_model('summarizer_cold', '${folder('tiny-t5-summarizer')}', task => 'summarization')`);
    await c.query(`CREATE TABLE few AS SELECT * FROM texts LIMIT 300`);
    const t0 = performance.now();
    await c.query(`CREATE TABLE s1 AS SELECT id, ai_query('summarizer_cold', body) AS s FROM few`);
    const first = performance.now() - t0;
    const t1 = performance.now();
    await c.query(`CREATE TABLE s2 AS SELECT id, ai_query('summarizer_cold', body) AS s FROM few`);
    const again = performance.now() - t1;
    expect(first / again).toBeGreaterThan(20);
    const same = await c.query(`SELECT count(*)::INT AS n FROM s1 JOIN s2 USING (id) WHERE s1.s = s2.s`);
    expect(same.rows[0].n).toBe(300);
  }, 120_000);

  it('a cancel stops the job at once, and the session goes on', async () => {
    await c.query(`SELECT * FROM register_model('embedder_cancel', '${folder('tiny-bert-embedder')}')`);
    const victim = await server.client();
    const t0 = Date.now();
    const job = victim.query(`CREATE TABLE never AS SELECT id, ai_embed('embedder_cancel', body) AS v FROM texts`);
    await new Promise((r) => setTimeout(r, 400));
    const canceller = new pg.Client({ host: '127.0.0.1', port: server.port, user: 'aiduck' });
    (canceller as unknown as { cancel(c: unknown, q: unknown): void }).cancel(victim, (victim as unknown as { activeQuery: unknown }).activeQuery);
    await expect(job).rejects.toMatchObject({ code: '57014' });
    expect(Date.now() - t0).toBeLessThan(2000);
    expect((await victim.query(`SELECT count(*)::INT AS n FROM information_schema.tables WHERE table_name = 'never'`)).rows[0].n).toBe(0);
    expect((await victim.query(`SELECT count(*)::INT AS n FROM ai.running_jobs`)).rows[0].n).toBe(0);
  }, 60_000);
});
