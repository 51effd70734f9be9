import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeTestModels } from '../src/testmodels/index.js';
import { run } from './helpers/run.js';
import { startOpenAIServer, type OpenAITestServer } from './helpers/openai-server.js';
import { startBankingLlm, type BankingLlm } from './helpers/banking-llm-server.js';
import { startTestServer, type TestServer } from './helpers/server.js';

// The runnable examples, run with psql as a user would (-v points them at the generated models).
let server: TestServer;
let openai: OpenAITestServer;
let bankingLlm: BankingLlm;
let modelsDir: string;

beforeAll(async () => {
  modelsDir = mkdtempSync(join(tmpdir(), 'aiduck-example-models-'));
  await writeTestModels(modelsDir);
  openai = await startOpenAIServer();
  bankingLlm = await startBankingLlm();
  server = await startTestServer({ importDirs: [modelsDir] });
}, 60_000);

afterAll(async () => {
  await server?.stop();
  await openai?.close();
  await bankingLlm?.close();
  rmSync(modelsDir, { recursive: true, force: true });
});

const psql = (file: string, vars: Record<string, string>) => run('psql', [
  '-X', '-v', 'ON_ERROR_STOP=1', '-h', '127.0.0.1', '-p', String(server.port), '-U', 'aiduck', '-d', 'aiduck',
  ...Object.entries(vars).flatMap(([k, v]) => ['-v', `${k}=${v}`]), '-f', file,
]);

describe('examples/', () => {
  it('zero-shot-news-classifier.sql labels each headline with one of the topics', async () => {
    const r = await psql('examples/zero-shot-news-classifier.sql', { models: modelsDir });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/1 \| the team won the football match in the final minute\s+\| sports/);
    expect(r.stdout).toMatch(/3 \| scientists test a faster computer chip and its software\s+\| science and technology/);
  });

  it('batch-summarization.sql writes a summary per article', async () => {
    const r = await psql('examples/batch-summarization.sql', { models: modelsDir });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/summarized \| distinct_summaries\s*\n-+\+-+\s*\n\s*500 \|/);
  });

  it('promote-champion.sql moves the champion alias and back', async () => {
    const r = await psql('examples/promote-champion.sql', { models: modelsDir });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/dims_after_promotion\s*\n-+\s*\n\s*256/);
    expect(r.stdout).toMatch(/doc_embedder \|\s+1 \| \{champion\}/);
    expect(r.stdout).toMatch(/doc_embedder \|\s+2 \| \{challenger\}/);
  });

  it('synthetic-data.sql gets a typed STRUCT answer for every row', async () => {
    const r = await psql('examples/synthetic-data.sql', { endpoint: openai.url, model: 'test-model' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/rows \| answered\s*\n-+\+-+\s*\n\s*2000 \|\s+2000/);
    expect(openai.stats.requests).toBe(2000);
  }, 60_000);

  it('retriever-evaluation.sql chunks, embeds with two models and evaluates both at k = 1, 2, 3', async () => {
    const r = await psql('examples/retriever-evaluation.sql', { models: modelsDir });
    expect(r.status, r.stderr).toBe(0);
    for (const model of ['bert', 'hash']) for (const k of [1, 2, 3]) for (const m of ['precision', 'recall', 'ndcg']) {
      expect(r.stdout).toMatch(new RegExp(`${model}\\s+\\| ${m}_at_${k}\\s+\\|`));
    }
    expect(r.stdout).toMatch(/\(18 rows\)/);
  });

  it('few-shot-classifier.sql fits a head, scores it and routes new tickets with ai_classify', async () => {
    const r = await psql('examples/few-shot-classifier.sql', {});
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/ticket_router \|\s+1 \|/);
    expect(r.stdout).toMatch(/the printer is jammed on floor 1\s+\| facilities/);
    expect(r.stdout).toMatch(/please reset my email password\s+\| it/);
    expect(r.stdout).toMatch(/how many vacation days are left this year\s+\| hr/);
  });

  it('chat-fine-tuning.sql: teacher answers, chats, train_lora, judge both versions, promote the better one', async () => {
    const r = await psql('examples/chat-fine-tuning.sql', { models: modelsDir, endpoint: bankingLlm.url, teacher: 'banking-llm' });
    expect(r.status, r.stderr).toBe(0);
    // The dry run, then one row per epoch of the run that made version 2.
    expect(r.stdout).toMatch(/trainable_params \| total_params\s*\n-+\+-+\s*\n\s*\d+ \|\s+\d+/);
    expect(r.stdout).toMatch(/\s2 \|\s+6 \|/);
    expect(r.stdout).toMatch(/bank_bot \|\s+2 \| lora\s+\| models:\/bank_bot\/1 \| t/);
    // The judge prefers the tuned version, and champion moved to it.
    const scores = /questions \| base_score \| tuned_score\s*\n-+\+-+\+-+\s*\n\s*(\d+) \|\s+([\d.]+) \|\s+([\d.]+)/.exec(r.stdout);
    expect(scores, r.stdout).not.toBeNull();
    expect(Number(scores![3])).toBeGreaterThan(Number(scores![2]) + 1);
    expect(r.stdout).toMatch(/bank_bot \|\s+2 \| \{champion\}/);
  }, 120_000);
});
