/**
 * The registry nobody can corrupt, and experiment tracking: every write path to the registry's and
 * the runs' tables is refused while the commands keep working; the views agree with what the
 * functions resolve; tags, descriptions and deletions; runs of train_lora, fit_classifier,
 * evaluate_retriever and log_run with their parameters and curves; a killed server's run is failed.
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDBInstance } from '@duckdb/node-api';
import { writeTestModels } from '../src/testmodels/index.js';
import { run } from './helpers/run.js';
import { spawnServer } from './helpers/server-process.js';
import { startTestServer, type TestServer } from './helpers/server.js';

let server: TestServer;
let c: pg.Client;
let modelsDir: string;

const code = async (sql: string): Promise<string> => c.query(sql).then(() => 'ok', (e: { code: string }) => e.code);

/** 32 chats: the tiny Llama learns a fixed reply. */
const CHATS = `SELECT json_object('messages', json_array(json_object('role', 'user', 'content', 'question ' || i),
  json_object('role', 'assistant', 'content', 'fixed reply'))) AS messages FROM range(32) t(i)`;

beforeAll(async () => {
  modelsDir = mkdtempSync(join(tmpdir(), 'aiduck-runs-models-'));
  await writeTestModels(modelsDir);
  server = await startTestServer({ importDirs: [modelsDir] });
  c = await server.client();
  await c.query(`SELECT * FROM register_model('emb', '${join(modelsDir, 'tiny-bert-embedder')}')`);
  await c.query("SELECT * FROM register_model('emb', 'builtin:hash-embed-256')");
  await c.query(`CREATE TABLE chats AS ${CHATS}`);
}, 60_000);

afterAll(async () => {
  await server?.stop();
  rmSync(modelsDir, { recursive: true, force: true });
});

describe('the registry is written only by its commands', () => {
  it('refuses every other write to its tables with 42501, naming the command to use', async () => {
    writeFileSync(join(server.dataDir, 'files', 'a.csv'), 'emb,x,1,2024-01-01 00:00:00+00\n');
    const refused = [
      "UPDATE ai.model_versions SET source = 'tampered'",
      "INSERT INTO ai.model_aliases VALUES ('x', 'y', 1, now())",
      "INSERT OR REPLACE INTO ai.model_aliases VALUES ('emb', 'champion', 1, now())",
      'DELETE FROM ai.model_aliases',
      'TRUNCATE ai.run_metrics',
      'DROP TABLE ai.model_versions',
      'DROP VIEW ai.models',
      'ALTER TABLE ai.model_versions ADD COLUMN x INTEGER',
      'CREATE OR REPLACE TABLE ai.model_versions AS SELECT 1 AS a',
      'CREATE OR REPLACE VIEW ai.models AS SELECT 1 AS a',
      'CREATE TABLE ai.mine (a INTEGER)',
      'DROP SCHEMA ai CASCADE',
      `COPY ai.model_aliases FROM '${join(server.dataDir, 'files', 'a.csv')}'`,
      'WITH x AS (SELECT 1) DELETE FROM "ai"."model_aliases"',
      "UPDATE ai.run_records SET status = 'finished'",
    ];
    for (const sql of refused) expect(await code(sql), sql).toBe('42501');
    const r = await c.query('UPDATE ai.model_versions SET source = $1', ['x']).catch((e: unknown) => e);
    expect(r).toMatchObject({ code: '42501', message: expect.stringContaining('ai.model_versions'), hint: expect.stringContaining('register_model') });
    // Through the search path, and after USE, too.
    await c.query("SET search_path = 'ai,public'");
    expect(await code('DELETE FROM model_aliases')).toBe('42501');
    await c.query('RESET search_path');
    expect(await code('USE ai')).toBe('ok');
    expect(await code('CREATE TABLE foo (a INTEGER)')).toBe('42501');
    await c.query('RESET search_path');
    // And COPY FROM STDIN (psql's \copy).
    writeFileSync(join(server.dataDir, 'files', 'alias.csv'), 'emb,x,1,2024-01-01 00:00:00+00\n');
    const copy = await run('psql', ['-X', '-h', '127.0.0.1', '-p', String(server.port), '-U', 'aiduck', '-d', 'aiduck', '-c',
      `\\copy ai.model_aliases FROM '${join(server.dataDir, 'files', 'alias.csv')}' WITH (FORMAT csv)`]);
    expect(copy.stderr).toMatch(/permission denied for table ai\.model_aliases/);
    expect((await c.query('SELECT count(*)::INT AS n FROM ai.model_aliases')).rows[0].n).toBe(0);
    expect((await c.query("SELECT count(*)::INT AS n FROM ai.model_versions WHERE source = 'tampered'")).rows[0].n).toBe(0);
  });

  it('still reads, copies out and snapshots the registry, and writes tables of the same name elsewhere', async () => {
    expect(await code('CREATE TABLE snap AS SELECT * FROM ai.model_versions')).toBe('ok');
    expect(await code('INSERT INTO snap SELECT * FROM ai.model_versions')).toBe('ok');
    expect(await code(`COPY ai.model_versions TO '${join(server.dataDir, 'files', 'versions.csv')}'`)).toBe('ok');
    expect(await code('CREATE TABLE model_aliases (a INTEGER)')).toBe('ok');
    expect(await code('INSERT INTO model_aliases VALUES (1)')).toBe('ok');
    expect(await code('DROP TABLE model_aliases')).toBe('ok');
  });

  it('shows in its views exactly what the functions resolve, after every command', async () => {
    const resolved = async (): Promise<{ champion: number | null; dims: number }> => {
      const m = await c.query("SELECT aliases['champion'] AS champion FROM ai.models WHERE name = 'emb'");
      const d = await c.query("SELECT len(ai_embed('emb', 'ducks'))::INT AS dims");
      return { champion: m.rows[0].champion, dims: d.rows[0].dims };
    };
    // Without an alias the latest version (the 256-wide built-in) answers.
    expect(await resolved()).toEqual({ champion: null, dims: 256 });
    await c.query("SELECT * FROM set_model_alias('emb', 'champion', 1)");
    const tiny = (await c.query("SELECT dimension FROM ai.model_versions WHERE name = 'emb' AND version = 1")).rows[0].dimension;
    expect(await resolved()).toEqual({ champion: 1, dims: tiny });
    await c.query("SELECT * FROM set_model_alias('emb', 'champion', 2)");
    expect(await resolved()).toEqual({ champion: 2, dims: 256 });
    await c.query("SELECT * FROM delete_model_alias('emb', 'champion')");
    expect(await resolved()).toEqual({ champion: null, dims: 256 });
  });
});

describe('tags, descriptions and deleting versions', () => {
  it('sets and deletes tags of a version and of a model, and descriptions', async () => {
    await c.query("SELECT * FROM set_model_tag('emb', 1, 'team', 'search')");
    await c.query("SELECT * FROM set_model_tag('emb', 1, 'stage', 'prod')");
    await c.query("SELECT * FROM set_model_tag('emb', NULL, 'owner', 'ana')");
    await c.query("SELECT * FROM set_model_description('emb', 1, 'the small one')");
    await c.query("SELECT * FROM set_model_description('emb', NULL, 'embedders we compare')");
    await c.query("SELECT * FROM delete_model_tag('emb', 1, 'stage')");
    const v = await c.query("SELECT tags, description FROM ai.model_versions WHERE name = 'emb' AND version = 1");
    expect(v.rows[0]).toEqual({ tags: { team: 'search' }, description: 'the small one' });
    const m = await c.query("SELECT tags, description FROM ai.models WHERE name = 'emb'");
    expect(m.rows[0]).toEqual({ tags: { owner: 'ana' }, description: 'embedders we compare' });
    expect(await code("SELECT * FROM delete_model_tag('emb', 1, 'stage')")).toBe('42704');
    expect(await code("SELECT * FROM set_model_tag('emb', 9, 'k', 'v')")).toBe('42704');
    expect(await code("SELECT * FROM set_model_tag('nobody', NULL, 'k', 'v')")).toBe('42704');
  });

  it('deletes a version no alias points to, and its files once nothing holds them', async () => {
    await c.query(`SELECT * FROM register_model('spare', '${join(modelsDir, 'tiny-nli-classifier')}')`);
    await c.query("SELECT * FROM set_model_alias('spare', 'champion', 1)");
    expect(await code("SELECT * FROM delete_model_version('spare', 1)")).toBe('55006');
    const folder = (await c.query("SELECT location FROM ai.model_versions WHERE name = 'spare'")).rows[0].location as string;
    await c.query("SELECT * FROM delete_model_alias('spare', 'champion')");
    const before = readdirSync(join(server.dataDir, 'models'));
    expect(before).toContain(folder.split('/').pop());
    expect((await c.query("SELECT * FROM delete_model_version('spare', 1)")).rows).toEqual([{ name: 'spare', version: 1, deleted: true }]);
    expect(readdirSync(join(server.dataDir, 'models'))).not.toContain(folder.split('/').pop());
    expect(await code("SELECT ai_classify('x', ['a', 'b'], model => 'spare')")).toBe('42704');
  });
});

describe('runs', () => {
  it('records a train_lora run: its parameters, a loss curve per step and per epoch equal to what training reported, and the version', async () => {
    await c.query(`SELECT * FROM register_model('bot', '${join(modelsDir, 'tiny-llama-chat')}')`);
    const r = await c.query(`SELECT run_id, version, epoch, steps, train_loss FROM train_lora('bot', 'bot/1', 'chats', r => 4, epochs => 3,
      batch_size => 8, learning_rate => 0.003, experiment => 'bots')`);
    expect(r.rows.length).toBe(3);
    const runId = r.rows[0].run_id as string;
    const info = await c.query('SELECT experiment, source, status, model_name, model_version, params FROM ai.runs WHERE run_id = $1', [runId]);
    expect(info.rows[0]).toMatchObject({ experiment: 'bots', source: 'train_lora', status: 'finished', model_name: 'bot', model_version: 2 });
    expect(info.rows[0].params).toMatchObject({ r: '4', epochs: '3', batch_size: '8', training_data: 'chats', training_rows: '32', base_model: 'models:/bot/1' });
    const epochs = await c.query("SELECT step AS epoch, value FROM ai.run_metrics WHERE run_id = $1 AND key = 'epoch_train_loss' ORDER BY step", [runId]);
    expect(epochs.rows.map((e: { epoch: string; value: number }) => [Number(e.epoch), e.value])).toEqual(r.rows.map((e: { epoch: number; train_loss: number }) => [e.epoch, e.train_loss]));
    const steps = await c.query("SELECT list(step ORDER BY step) AS s, bool_and(isfinite(value)) AS finite FROM ai.run_metrics WHERE run_id = $1 AND key = 'train_loss'", [runId]);
    const totalSteps = r.rows.at(-1).steps as number;
    expect(steps.rows[0].s.map(Number)).toEqual(Array.from({ length: totalSteps }, (_, i) => i + 1));
    expect(steps.rows[0].finite).toBe(true);
    // The version points back at its run, and the view of today's README still shows it.
    expect((await c.query("SELECT training_run FROM ai.model_versions WHERE name = 'bot' AND version = 2")).rows[0].training_run).toBe(runId);
    const tr = await c.query('SELECT name, version, training_rows, train_loss, epochs FROM ai.training_runs WHERE run_id = $1', [runId]);
    expect(tr.rows[0]).toMatchObject({ name: 'bot', version: 2, training_rows: 32, train_loss: r.rows.at(-1).train_loss });
    expect(tr.rows[0].epochs.length).toBe(3);
    // What the run produced registers under another name.
    const again = await c.query(`SELECT name, version, provider, source, base_model FROM register_model('bot_copy', 'runs:/${runId}')`);
    expect(again.rows[0]).toEqual({ name: 'bot_copy', version: 1, provider: 'lora', source: `runs:/${runId}`, base_model: 'models:/bot/1' });
    const same = await c.query("SELECT ai_query('bot/2', 'question 1') = ai_query('bot_copy', 'question 1') AS same");
    expect(same.rows[0].same).toBe(true);
  });

  it('keeps a cancelled run as cancelled and a failed one as failed, with no version', async () => {
    const victim = await server.client();
    const job = victim.query("SELECT * FROM train_lora('stopped', 'bot/1', 'chats', r => 4, epochs => 5000, experiment => 'stops')").then(() => null, (e: unknown) => e);
    // Cancel once the run is recorded as running.
    for (let i = 0; i < 100; i++) {
      const running = await c.query("SELECT count(*)::INT AS n FROM ai.runs WHERE experiment = 'stops' AND status = 'running'");
      if (running.rows[0].n === 1) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const canceller = new pg.Client({ host: '127.0.0.1', port: server.port, user: 'aiduck' });
    (canceller as unknown as { cancel(c: unknown, q: unknown): void }).cancel(victim, (victim as unknown as { activeQuery: unknown }).activeQuery);
    expect(await job).toMatchObject({ code: '57014' });
    const cancelled = await c.query("SELECT status, model_version, error FROM ai.runs WHERE experiment = 'stops'");
    expect(cancelled.rows).toEqual([{ status: 'cancelled', model_version: null, error: 'canceling statement due to user request' }]);
    // A run that diverges fails, and keeps the curve it had.
    expect(await code("SELECT * FROM train_lora('diverged', 'bot/1', 'chats', r => 4, lora_alpha => 1e30, epochs => 2, experiment => 'stops')")).toBe('22003');
    const failed = await c.query("SELECT status, model_version FROM ai.runs WHERE experiment = 'stops' AND status <> 'cancelled'");
    expect(failed.rows).toEqual([{ status: 'failed', model_version: null }]);
    expect((await c.query("SELECT count(*)::INT AS n FROM ai.model_versions WHERE name IN ('stopped', 'diverged')")).rows[0].n).toBe(0);
  });

  it('records a fit_classifier run with its accuracy and macro-F1', async () => {
    await c.query(`CREATE TABLE tickets AS SELECT * FROM (VALUES ('refund my card', 'billing'), ('charge twice', 'billing'), ('card payment failed', 'billing'),
      ('invoice wrong', 'billing'), ('app crashes', 'tech'), ('login broken', 'tech'), ('screen freezes', 'tech'), ('error on start', 'tech')) t(body, team)`);
    const r = await c.query("SELECT version, accuracy, macro_f1 FROM fit_classifier('router', 'tickets', text => 'body', label => 'team', embedding_model => 'emb/1', test_fraction => 0.25)");
    const run = await c.query("SELECT source, status, model_name, model_version, params, metrics FROM ai.runs WHERE model_name = 'router'");
    expect(run.rows[0]).toMatchObject({ source: 'fit_classifier', status: 'finished', model_version: r.rows[0].version });
    expect(run.rows[0].params).toMatchObject({ data: 'tickets', embedding_model: 'emb/1', test_fraction: '0.25' });
    expect(run.rows[0].metrics).toMatchObject({ accuracy: r.rows[0].accuracy, macro_f1: r.rows[0].macro_f1, train_rows: 6, test_rows: 2 });
  });

  it('records evaluate_retriever aggregates as a run per model, and finds the best by metric in plain SQL', async () => {
    await c.query(`CREATE TABLE docs AS SELECT * FROM (VALUES (1, 'ducks swim on lakes'), (2, 'stock markets fell today'), (3, 'a recipe for pancakes')) t(doc_id, chunk)`);
    await c.query(`CREATE TABLE qa AS SELECT * FROM (VALUES ('where do ducks swim', [1]), ('what happened to stocks', [2]), ('how to make pancakes', [3])) t(q, truth)`);
    for (const model of ['emb/1', 'emb/2']) {
      const rows = await c.query(`SELECT * FROM evaluate_retriever('qa', targets => 'truth', question => 'q', chunks => 'docs', model => '${model}',
        k => [1, 2], aggregate => true, experiment => 'rag', run_name => '${model}')`);
      expect(rows.rows.map((x: { metric: string }) => x.metric)).toEqual(['precision_at_1', 'recall_at_1', 'ndcg_at_1', 'precision_at_2', 'recall_at_2', 'ndcg_at_2']);
      const logged = await c.query("SELECT metrics FROM ai.runs WHERE experiment = 'rag' AND name = $1", [model]);
      for (const row of rows.rows) {
        expect(logged.rows[0].metrics[row.metric]).toBeCloseTo(row.mean, 12);
        expect(logged.rows[0].metrics[`${row.metric}/p90`]).toBeCloseTo(row.p90, 12);
      }
    }
    const best = await c.query("SELECT name, params['model'] AS model FROM ai.runs WHERE experiment = 'rag' ORDER BY metrics['ndcg_at_2'] DESC, name LIMIT 1");
    expect(['emb/1', 'emb/2']).toContain(best.rows[0].model);
    expect(await code("SELECT * FROM evaluate_retriever('qa', targets => 'truth', question => 'q', chunks => 'docs', model => 'emb/1', experiment => 'rag')")).toBe('22023');
  });

  it('logs runs and step-wise metrics from SQL', async () => {
    const r = await c.query("SELECT run_id, status, params, metrics FROM log_run('judge', name => 'v2', params => MAP {'model': 'bot/2'}, metrics => MAP {'correctness': 2.5})");
    expect(r.rows[0]).toMatchObject({ status: 'finished', params: { model: 'bot/2' }, metrics: { correctness: 2.5 } });
    const id = r.rows[0].run_id as string;
    for (const [step, value] of [[1, 0.9], [2, 0.7], [3, 0.4]]) await c.query(`SELECT * FROM log_metric('${id}', 'loss', ${value}, step => ${step})`);
    const curve = await c.query("SELECT list(value ORDER BY step) AS v FROM ai.run_metrics WHERE run_id = $1 AND key = 'loss'", [id]);
    expect(curve.rows[0].v).toEqual([0.9, 0.7, 0.4]);
    expect((await c.query('SELECT metrics FROM ai.runs WHERE run_id = $1', [id])).rows[0].metrics).toEqual({ correctness: 2.5, loss: 0.4 });
    expect(await code("SELECT * FROM log_metric('nope', 'loss', 1)")).toBe('42704');
    expect(await code(`SELECT * FROM log_metric('${id}', 'loss', 'nan'::DOUBLE)`)).toBe('22023');
    expect(await code("SELECT * FROM log_run('')")).toBe('22023');
    expect(await code(`SELECT * FROM register_model('nothing', 'runs:/${id}')`)).toBe('42704');
  });
});

describe('runs across a crash and an upgrade', () => {
  it('marks a run a SIGKILL cut short as failed at the next start, with no version registered', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'aiduck-kill-'));
    try {
      const first = await spawnServer({}, ['--import-dir', modelsDir], { dataDir, keepData: true });
      const k = new pg.Client({ host: '127.0.0.1', port: first.port, user: 'aiduck', database: 'aiduck' });
      k.on('error', () => undefined);
      await k.connect();
      await k.query(`SELECT * FROM register_model('bot', '${join(modelsDir, 'tiny-llama-chat')}')`);
      await k.query(`CREATE TABLE chats AS ${CHATS}`);
      void k.query("SELECT * FROM train_lora('bot', 'bot/1', 'chats', r => 4, epochs => 5000, experiment => 'killed')").catch(() => undefined);
      const watcher = new pg.Client({ host: '127.0.0.1', port: first.port, user: 'aiduck', database: 'aiduck' });
      watcher.on('error', () => undefined);
      await watcher.connect();
      for (let i = 0; i < 100; i++) {
        const steps = await watcher.query("SELECT count(*)::INT AS n FROM ai.runs WHERE experiment = 'killed' AND status = 'running'");
        if (steps.rows[0].n === 1) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      await new Promise((r) => setTimeout(r, 1500));
      first.child.kill('SIGKILL');
      await first.exited;
      const second = await spawnServer({}, ['--import-dir', modelsDir], { dataDir, keepData: true });
      const a = new pg.Client({ host: '127.0.0.1', port: second.port, user: 'aiduck', database: 'aiduck' });
      await a.connect();
      const runs = await a.query("SELECT status, model_version, error FROM ai.runs WHERE experiment = 'killed'");
      expect(runs.rows).toEqual([{ status: 'failed', model_version: null, error: 'the server stopped while the run was going on' }]);
      expect((await a.query("SELECT max(version)::INT AS v FROM ai.model_versions WHERE name = 'bot'")).rows[0].v).toBe(1);
      await a.end();
      await second.stop();
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('turns the training_runs table of an older database into runs, and keeps its view', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'aiduck-upgrade-'));
    try {
      const first = await spawnServer({}, [], { dataDir, keepData: true });
      await first.stop();
      // The table as releases before runs were tracked made it, with one finished run.
      const db = await DuckDBInstance.create(join(dataDir, 'aiduck.duckdb'));
      const conn = await db.connect();
      await conn.run('DROP VIEW ai.training_runs');
      await conn.run(`CREATE TABLE ai.training_runs (run_id VARCHAR PRIMARY KEY, name VARCHAR NOT NULL, version INTEGER NOT NULL, base_model VARCHAR NOT NULL,
        training_data VARCHAR NOT NULL, training_rows INTEGER NOT NULL, eval_data VARCHAR, eval_rows INTEGER, data_digest VARCHAR NOT NULL, parameters JSON NOT NULL,
        epochs JSON NOT NULL, train_loss DOUBLE, eval_loss DOUBLE, trainable_params BIGINT NOT NULL, total_params BIGINT NOT NULL, started_at TIMESTAMPTZ NOT NULL,
        finished_at TIMESTAMPTZ NOT NULL)`);
      await conn.run(`INSERT INTO ai.training_runs VALUES ('run-old', 'bot', 2, 'models:/bot/1', 'chats', 64, NULL, 0, 'sha256-x', '{"r": 8, "target_modules": ["q_proj"]}',
        '[{"epoch": 1, "steps": 8, "train_loss": 2.5, "eval_loss": null, "tokens_per_second": 100, "elapsed_seconds": 1.5}]', 2.5, NULL, 1000, 5000,
        '2026-01-01 00:00:00+00', '2026-01-01 00:01:00+00')`);
      conn.closeSync();
      db.closeSync();
      const second = await spawnServer({}, [], { dataDir, keepData: true });
      const a = new pg.Client({ host: '127.0.0.1', port: second.port, user: 'aiduck', database: 'aiduck' });
      await a.connect();
      const r = await a.query("SELECT experiment, source, status, model_name, model_version, params['r'] AS r, metrics['epoch_train_loss'] AS loss FROM ai.runs WHERE run_id = 'run-old'");
      expect(r.rows).toEqual([{ experiment: 'bot', source: 'train_lora', status: 'finished', model_name: 'bot', model_version: 2, r: '8', loss: 2.5 }]);
      const view = await a.query("SELECT name, version, training_rows, train_loss, trainable_params FROM ai.training_runs WHERE run_id = 'run-old'");
      expect(view.rows).toEqual([{ name: 'bot', version: 2, training_rows: 64, train_loss: 2.5, trainable_params: '1000' }]);
      await a.end();
      await second.stop();
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
