/**
 * The web console in a real headless Chromium, against a server with registered models (the generated
 * test models, a train_lora adapter and its merge) and a running ai_embed job.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeTestModels } from '../src/testmodels/index.js';
import { ARTIFACTS_DIR, launchBrowser, type TestBrowser } from './helpers/browser.js';
import { startTestServer, type TestServer } from './helpers/server.js';

const PASSWORD = 'open sesame';
let server: TestServer;
let modelsDir: string;
let c: pg.Client;
let browser: TestBrowser;
let page: Page;
let base: string;
/** Every URL the page asked for, and what it reported as broken. */
const requested: string[] = [];
const problems: string[] = [];

const shot = (name: string): Promise<Buffer> => page.screenshot({ path: join(ARTIFACTS_DIR, `console-${name}.png`), fullPage: true });
const text = (selector: string): Promise<string> => page.locator(selector).first().innerText();
/** What the chart in `scope` drew: its series count and the points of each series, as written after every draw. */
async function drawn(scope: string): Promise<{ series: number; points: number[] }> {
  const chart = page.locator(`${scope} .chart`).first();
  const [series, points] = await Promise.all([chart.getAttribute('data-series'), chart.getAttribute('data-points')]);
  return { series: Number(series), points: points ? points.split(',').map(Number) : [] };
}

beforeAll(async () => {
  modelsDir = mkdtempSync(join(tmpdir(), 'aiduck-console-models-'));
  await writeTestModels(modelsDir);
  server = await startTestServer({ importDirs: [modelsDir], password: PASSWORD, httpPort: 0 });
  base = server.console!.url;
  c = await server.client({ password: PASSWORD });
  const folder = (name: string): string => join(modelsDir, name);
  await c.query(`SELECT * FROM register_model('embedder', '${folder('tiny-bert-embedder')}', alias => 'champion', tags => MAP {'team': 'search'})`);
  await c.query(`SELECT * FROM register_model('embedder', '${folder('tiny-bert-embedder')}', alias => 'challenger', description => 'same weights, second version')`);
  await c.query(`SELECT * FROM register_model('classifier', '${folder('tiny-nli-classifier')}')`);
  await c.query(`SELECT * FROM register_model('bank_bot', '${folder('tiny-llama-chat')}', alias => 'champion')`);
  await c.query(`CREATE TABLE chats AS SELECT json_object('messages', json_array(json_object('role', 'user', 'content', 'question ' || i),
    json_object('role', 'assistant', 'content', CASE WHEN i % 2 = 0 THEN 'yes' ELSE 'no' END))) AS messages FROM range(24) t(i)`);
  await c.query(`SELECT * FROM train_lora('bank_bot', 'bank_bot/1', 'chats', r => 4, epochs => 3, eval_fraction => 0.2, batch_size => 8)`);
  await c.query(`SELECT * FROM merge_adapter('bank_bot_merged', 'bank_bot/2')`);
  await c.query(`CREATE TABLE texts AS SELECT i AS id, 'text number ' || i || ' about ' || (['ducks', 'lakes', 'music'])[i % 3 + 1] AS body FROM range(200000) t(i)`);
  browser = await launchBrowser();
  page = await browser.context.newPage();
  page.on('request', (r) => requested.push(r.url()));
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    // A 401 before logging in is the login page's cue, not a fault.
    if (m.type() === 'error' && !/status of 401/.test(m.text())) problems.push(`console: ${m.text()}`);
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  if (modelsDir) rmSync(modelsDir, { recursive: true, force: true });
});

describe('console in Chromium', () => {
  it('asks for the SQL port\'s password, refuses a wrong one, and keeps the session in an HttpOnly cookie', async () => {
    await page.goto(base);
    await page.locator('form.login').waitFor();
    await page.fill('input[name=user]', 'aiduck');
    await page.fill('input[name=password]', 'wrong');
    await page.click('button[type=submit]');
    await expect.poll(() => text('form.login .error')).toMatch(/password authentication failed for user "aiduck" \(SQLSTATE 28P01\)/);
    await shot('login');
    await page.fill('input[name=password]', PASSWORD);
    await page.click('button[type=submit]');
    await page.locator('.model-detail').waitFor();
    const cookies = await browser.context.cookies(base);
    expect(cookies).toEqual([expect.objectContaining({ name: 'aiduck_console', httpOnly: true, sameSite: 'Strict' })]);
    expect(await page.evaluate(() => document.cookie)).toBe('');
  });

  it('Models: every model, its versions with aliases and tags, the lineage base → adapter → merged, the training run and the SQL to use it', async () => {
    const names = (await c.query('SELECT name FROM ai.models ORDER BY name')).rows.map((r) => r.name as string);
    expect(await page.locator('.model-list [data-model]').evaluateAll((els) => els.map((e) => e.getAttribute('data-model')))).toEqual(names);

    await page.goto(`${base}#/models/embedder`);
    await page.locator('.model-detail[data-model=embedder]').waitFor();
    expect(await page.locator('.versions tbody tr').count()).toBe(2);
    expect(await text('.versions tr[data-version="1"]')).toMatch(/@champion[\s\S]*team=search/);
    expect(await text('.versions tr[data-version="2"]')).toMatch(/@challenger/);
    expect(await text('.usage .sql-snippet')).toBe("SELECT id, ai_embed('embedder@champion', body) AS embedding FROM docs;");
    expect(await text('.usage .signature')).toBe('ai_embed(model, text VARCHAR) → FLOAT[64]');

    await page.goto(`${base}#/models/bank_bot_merged`);
    await page.locator('.model-detail[data-model=bank_bot_merged]').waitFor();
    const chain = await page.locator('.chain .node').evaluateAll((els) => els.map((e) => `${e.getAttribute('data-role')} ${e.querySelector('a')?.textContent}`));
    expect(chain).toEqual(['base models:/bank_bot/1', 'adapter models:/bank_bot/2', 'merged models:/bank_bot_merged/1']);
    const runId = (await c.query(`SELECT training_run FROM ai.model_versions WHERE name = 'bank_bot' AND version = 2`)).rows[0].training_run as string;
    expect(await text('.chain .node.adapter')).toContain(`trained by run ${runId}`);

    await page.goto(`${base}#/models/bank_bot`);
    await page.locator(`.training-run[data-run="${runId}"]`).waitFor();
    expect(await text(`.training-run[data-run="${runId}"]`)).toMatch(/training data\s+chats \(\d+ rows\)/);
    // The run's losses per epoch: train and eval, three epochs each.
    await expect.poll(() => drawn('.training-run')).toEqual({ series: 2, points: [3, 3] });
    await shot('models');
  });

  it('SQL: a 100,000-row result is paged from a cursor, a page at a time', async () => {
    const pages: number[] = [];
    const onResponse = async (r: { url(): string; json(): Promise<unknown> }): Promise<void> => {
      if (/\/api\/sql\/(run|page)$/.test(r.url())) pages.push(((await r.json()) as { rows: unknown[] }).rows.length);
    };
    page.on('response', onResponse);
    await page.goto(`${base}#/sql`);
    await page.locator('.sql-editor .cm-content').fill('SELECT i, i * i AS square FROM range(100000) t(i) ORDER BY i');
    await page.click('button.primary');
    await expect.poll(() => text('.pager .range')).toBe('rows 1–100 (more follow)');
    expect(await page.locator('.result-table tbody tr').count()).toBe(100);
    expect(await text('.result-table tbody tr:nth-child(100)')).toMatch(/^100\s+99\s+9801$/);
    await page.click('button:has-text("Next ›")');
    await expect.poll(() => text('.pager .range')).toBe('rows 101–200 (more follow)');
    expect(await text('.result-table tbody tr:first-child')).toMatch(/^101\s+100\s+10000$/);
    await page.fill('input[name=row]', '50001');
    await page.press('input[name=row]', 'Enter');
    await expect.poll(() => text('.pager .range')).toBe('rows 50,001–50,100 (more follow)');
    await page.click('button:has-text("Last »")');
    await expect.poll(() => text('.pager .range')).toBe('rows 99,901–100,000 of 100,000');
    expect(await text('.result-table tbody tr:last-child')).toMatch(/^100,000\s+99999\s+9999800001$/);
    // Pages already seen come back without running the statement again.
    await page.click('button:has-text("« First")');
    await expect.poll(() => text('.pager .range')).toBe('rows 1–100 of 100,000');
    await shot('sql-paged');
    await expect.poll(() => pages.length).toBe(5);
    page.off('response', onResponse);
    expect(Math.max(...pages)).toBe(100);
  });

  it('SQL: the quick chart draws one series per chosen column with a point per row, as line, bar and scatter', async () => {
    await page.locator('.sql-editor .cm-content').fill("SELECT i AS x, i * 2 AS twice, i * i AS square, 'k' || i AS label FROM range(40) t(i)");
    await page.click('button.primary');
    await expect.poll(() => text('.pager .range')).toBe('rows 1–40 of 40');
    await expect.poll(() => drawn('.quick-chart')).toEqual({ series: 1, points: [40] });
    await page.check('input[name=chart-y][value=square]');
    await expect.poll(() => drawn('.quick-chart')).toEqual({ series: 2, points: [40, 40] });
    expect(await page.locator('.quick-chart .chart').getAttribute('data-chart-type')).toBe('line');
    await page.selectOption('select[name=chart-type]', 'bar');
    await expect.poll(() => page.locator('.quick-chart .chart').getAttribute('data-chart-type')).toBe('bar');
    expect(await drawn('.quick-chart')).toEqual({ series: 2, points: [40, 40] });
    await shot('sql-chart-bar');
    await page.selectOption('select[name=chart-type]', 'scatter');
    await expect.poll(() => page.locator('.quick-chart .chart').getAttribute('data-chart-type')).toBe('scatter');
    expect(await drawn('.quick-chart')).toEqual({ series: 2, points: [40, 40] });
    await page.uncheck('input[name=chart-y][value=twice]');
    await expect.poll(() => drawn('.quick-chart')).toEqual({ series: 1, points: [40] });
    // A text column across: scatter needs numbers, so the chart falls back to a line over the labels.
    await page.selectOption('select[name=chart-x]', { label: 'label' });
    await expect.poll(() => page.locator('.quick-chart .chart').getAttribute('data-chart-type')).toBe('line');
    expect(await drawn('.quick-chart')).toEqual({ series: 1, points: [40] });
    await shot('sql-chart');
  });

  it('Jobs: a running ai_embed moves on the page, the console answers in milliseconds meanwhile, and Cancel stops it with 57014', async () => {
    const victim = await server.client({ password: PASSWORD });
    const victimPid = (await victim.query('SELECT pg_backend_pid() AS pid')).rows[0].pid as number;
    const job = victim.query(`CREATE TABLE embedded AS SELECT id, ai_embed('embedder', body) AS v FROM texts`);
    const failed = job.then(() => null, (e: { code?: string }) => e);
    await page.goto(`${base}#/jobs`);
    const row = page.locator('tr[data-function=ai_embed]');
    await row.waitFor({ timeout: 20_000 });
    const rowsDone = async (): Promise<number> => Number((await row.locator('.rows-done').innerText()).replaceAll(',', ''));
    const first = await rowsDone();
    await expect.poll(rowsDone, { timeout: 20_000 }).toBeGreaterThan(first);
    await expect.poll(async () => (await drawn('.jobs')).points[0] ?? 0, { timeout: 10_000 }).toBeGreaterThan(2);
    expect((await drawn('.jobs')).series).toBe(1);

    // The console's own requests while the job runs: answered by other sessions, not queued behind it.
    const cookie = (await browser.context.cookies(base)).map((k) => `${k.name}=${k.value}`).join('; ');
    const latencies: number[] = [];
    for (let i = 0; i < 20; i++) {
      for (const path of ['/api/jobs', '/api/models']) {
        const t0 = performance.now();
        const res = await fetch(new URL(path, base), { headers: { cookie } });
        expect(res.status).toBe(200);
        await res.json();
        latencies.push(performance.now() - t0);
      }
    }
    latencies.sort((a, b) => a - b);
    const median = latencies[latencies.length >> 1]!;
    console.log(`console API during ai_embed: median ${median.toFixed(1)} ms, max ${latencies.at(-1)!.toFixed(1)} ms`);
    // Milliseconds, not the job's minutes; the bound on the slowest allows for a busy 2-core machine.
    expect(median).toBeLessThan(100);
    expect(latencies.at(-1)).toBeLessThan(1000);
    await shot('jobs');

    const pid = Number(await row.getAttribute('data-pid'));
    expect(pid).toBe(victimPid);
    const t0 = Date.now();
    await row.locator('button:has-text("Cancel")').click();
    expect(await failed).toMatchObject({ code: '57014' });
    expect(Date.now() - t0).toBeLessThan(3000);
    await expect.poll(() => text('.jobs .notice')).toBe(`Cancel sent to session ${pid}: its statement ends with SQLSTATE 57014.`);
    await expect.poll(() => page.locator('tr[data-function=ai_embed]').count()).toBe(0);
    expect((await c.query(`SELECT count(*)::INT AS n FROM information_schema.tables WHERE table_name = 'embedded'`)).rows[0].n).toBe(0);
  }, 60_000);

  it('Runs: says plainly that no run has been recorded while the server has no experiment tracking', async () => {
    await page.goto(`${base}#/runs`);
    await page.locator('[data-state=no-runs]').waitFor();
    expect(await text('.runs')).toMatch(/No run has been recorded\./);
    expect(await page.locator('.runs canvas, .runs table').count()).toBe(0);
    await shot('runs');
  });

  it('loaded nothing from anywhere but the console, and reported no error', () => {
    const origin = new URL(base).origin;
    expect(requested.length).toBeGreaterThan(10);
    expect(requested.filter((u) => !u.startsWith(origin))).toEqual([]);
    expect(problems).toEqual([]);
  });
});
