import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run, type Run } from './helpers/run.js';
import { startOpenAIServer, type OpenAITestServer } from './helpers/openai-server.js';
import { startBankingLlm, type BankingLlm } from './helpers/banking-llm-server.js';
import { startTestServer, type TestServer } from './helpers/server.js';

// The runnable examples, run with psql exactly as their headers say, against a fresh server whose
// data directory `aiduck init` prepared (the sample data and the test models under <data>/files).
// Each runs twice: an example must be right when run again, not only on a fresh database.
let server: TestServer;
let openai: OpenAITestServer;
let bankingLlm: BankingLlm;

beforeAll(async () => {
  // A progress NOTICE for every finished slice of rows, so a test can see what came from the cache.
  process.env['AIDUCK_PROGRESS_INTERVAL_MS'] = '0';
  openai = await startOpenAIServer();
  bankingLlm = await startBankingLlm();
  server = await startTestServer();
  const init = await run('node', ['bin/aiduck.js', 'init', '--data', server.dataDir]);
  expect(init.status, init.stderr).toBe(0);
}, 60_000);

afterAll(async () => {
  delete process.env['AIDUCK_PROGRESS_INTERVAL_MS'];
  await server?.stop();
  await openai?.close();
  await bankingLlm?.close();
});

const psql = (file: string, vars: Record<string, string> = {}): Promise<Run> => run('psql', [
  '-X', '-h', '127.0.0.1', '-p', String(server.port), '-U', 'aiduck', '-d', 'aiduck',
  ...Object.entries(vars).flatMap(([k, v]) => ['-v', `${k}=${v}`]), '-f', file,
]);

/** Runs an example twice and checks both runs. */
async function twice(file: string, vars: Record<string, string>, check: (r: Run, round: number) => void): Promise<void> {
  for (const round of [1, 2]) {
    const r = await psql(file, vars);
    expect(r.status, `${file}, run ${round}: ${r.stderr}`).toBe(0);
    expect(r.stderr, `${file}, run ${round}`).not.toMatch(/ERROR/);
    check(r, round);
  }
}

describe('examples/', () => {
  it('quickstart.sql reads the sample data in place, CSV and Parquet, and writes a file under <data>/files', async () => {
    await twice('examples/quickstart.sql', {}, (r) => {
      expect(r.stdout).toMatch(/stars \| reviews \| avg_length\s*\n-+\+-+\+-+\s*\n\s*1 \|/);
      expect(r.stdout).toMatch(/product\s+\| reviews \| avg_stars/);
      expect(r.stdout).toMatch(/refunds_written\s*\n-+\s*\n\s*2500/);
    });
  });

  it('zero-shot-news-classifier.sql labels each headline with one of the topics', async () => {
    await twice('examples/zero-shot-news-classifier.sql', {}, (r) => {
      expect(r.stdout).toMatch(/1 \| the team won the football match in the final minute\s+\| sports/);
      expect(r.stdout).toMatch(/3 \| scientists test a faster computer chip and its software\s+\| science and technology/);
    });
  });

  it('batch-summarization.sql writes a summary per article; the re-run keeps the model version and is served from the cache', async () => {
    await twice('examples/batch-summarization.sql', {}, (r, round) => {
      expect(r.stdout).toMatch(/summarized \| distinct_summaries\s*\n-+\+-+\s*\n\s*200 \|/);
      if (round === 1) expect(r.stdout).toMatch(/summarizer \|\s+1 \| summarization/);
      else {
        expect(r.stdout).not.toMatch(/summarization/);
        const progress = r.stderr.match(/ai_query\(summarizer\): \d+ rows done \(\d+ from cache\)/g) ?? [];
        expect(progress.at(-1)).toBe('ai_query(summarizer): 200 rows done (200 from cache)');
      }
    });
  }, 120_000);

  it('promote-champion.sql moves the champion alias between the versions it registered, and back', async () => {
    await twice('examples/promote-champion.sql', {}, (r, round) => {
      const bert = 2 * round - 1;
      expect(r.stdout).toMatch(/dims_after_promotion\s*\n-+\s*\n\s*256/);
      expect(r.stdout).toMatch(new RegExp(`models:/doc_embedder/${bert}\\s+\\|\\s+64`));
      // The final listing: the BERT version is champion again, the hash version challenger.
      const final = r.stdout.slice(r.stdout.lastIndexOf('name'));
      expect(final).toMatch(new RegExp(`doc_embedder \\|\\s+${bert} \\| \\{champion\\}\\s+\\| file:testmodels/tiny-bert-embedder`));
      expect(final).toMatch(new RegExp(`doc_embedder \\|\\s+${bert + 1} \\| \\{challenger\\}\\s+\\| builtin:hash-embed-256`));
    });
  });

  it('synthetic-data.sql gets a typed STRUCT answer for every row; the re-run asks the endpoint nothing', async () => {
    openai.reset();
    await twice('examples/synthetic-data.sql', { endpoint: openai.url, model: 'test-model' }, (r) => {
      expect(r.stdout).toMatch(/rows \| answered\s*\n-+\+-+\s*\n\s*2000 \|\s+2000/);
      expect(openai.stats.requests).toBe(2000);
    });
  }, 120_000);

  it('synthetic-data.sql against an endpoint where nothing listens stops within seconds, saying so', async () => {
    const dead = await startOpenAIServer();
    await dead.close();
    const t0 = performance.now();
    const r = await psql('examples/synthetic-data.sql', { endpoint: dead.url, model: 'test-model' });
    expect(performance.now() - t0).toBeLessThan(10_000);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/NOTICE: {2}ai_query\(llm\): sending to POST http:\/\/127\.0\.0\.1:\d+\/v1\/chat\/completions/);
    expect(r.stderr).toMatch(/ERROR: {2}model llm\/\d+: cannot reach POST .*ECONNREFUSED/);
    expect(r.stderr).toMatch(/HINT: {2}is the endpoint running/);
  });

  it('retriever-evaluation.sql chunks, embeds with two models and evaluates both at k = 1, 2, 3', async () => {
    await twice('examples/retriever-evaluation.sql', {}, (r) => {
      for (const model of ['bert', 'hash']) for (const k of [1, 2, 3]) for (const m of ['precision', 'recall', 'ndcg']) {
        expect(r.stdout).toMatch(new RegExp(`${model}\\s+\\| ${m}_at_${k}\\s+\\|`));
      }
      expect(r.stdout).toMatch(/\(18 rows\)/);
    });
  });

  it('few-shot-classifier.sql fits a head, scores it and routes new tickets with ai_classify', async () => {
    await twice('examples/few-shot-classifier.sql', {}, (r, round) => {
      expect(r.stdout).toMatch(new RegExp(`ticket_router \\|\\s+${round} \\|`));
      expect(r.stdout).toMatch(/the printer is jammed on floor 1\s+\| facilities/);
      expect(r.stdout).toMatch(/please reset my email password\s+\| it/);
      expect(r.stdout).toMatch(/how many vacation days are left this year\s+\| hr/);
    });
  });

  it('chat-fine-tuning.sql: after a run that failed at the teacher, the re-run trains and judges its own adapter against the base, and promotes it', async () => {
    const dead = await startOpenAIServer();
    await dead.close();
    const failed = await psql('examples/chat-fine-tuning.sql', { endpoint: dead.url, teacher: 'banking-llm' });
    expect(failed.status).not.toBe(0);
    expect(failed.stderr).toMatch(/ERROR: {2}model teacher\/1: cannot reach POST/);
    // The failed run registered the base (version 1) and nothing was trained.
    expect(failed.stdout).toMatch(/bank_bot \|\s+1 \| chat\s+\| llama/);
    expect(failed.stdout).not.toMatch(/train_loss/);

    for (const tuned of [2, 3]) {
      const r = await psql('examples/chat-fine-tuning.sql', { endpoint: bankingLlm.url, teacher: 'banking-llm' });
      expect(r.status, r.stderr).toBe(0);
      // The base is registered once: the re-runs find it by its alias.
      expect(r.stdout).not.toMatch(/bank_bot \|\s+\d+ \| chat\s+\| llama/);
      // The dry run, then one row per epoch of the run that made this version, an adapter of the base.
      expect(r.stdout).toMatch(/trainable_params \| total_params\s*\n-+\+-+\s*\n\s*\d+ \|\s+\d+/);
      expect(r.stdout).toMatch(new RegExp(`\\s${tuned} \\|\\s+6 \\|`));
      expect(r.stdout).toMatch(new RegExp(`bank_bot \\|\\s+${tuned} \\| lora\\s+\\| models:/bank_bot/1 \\| t`));
      // The judge prefers the tuned version over the base, and champion moved to it.
      const scores = /questions \| base_score \| tuned_score\s*\n-+\+-+\+-+\s*\n\s*(\d+) \|\s+([\d.]+) \|\s+([\d.]+)/.exec(r.stdout);
      expect(scores, r.stdout).not.toBeNull();
      expect(Number(scores![3])).toBeGreaterThan(Number(scores![2]) + 1);
      const aliases = r.stdout.slice(r.stdout.lastIndexOf('aliases'));
      expect(aliases).toMatch(/bank_bot \|\s+1 \| \{base\}/);
      expect(aliases).toMatch(new RegExp(`bank_bot \\|\\s+${tuned} \\| \\{challenger,champion\\}`));
    }
  }, 180_000);

  it('rag-experiment.sql records a run per embedder and promotes the best by NDCG@3', async () => {
    await twice('examples/rag-experiment.sql', {}, (r, round) => {
      expect(r.stdout).toMatch(/name \| +model +\| ndcg_at_3 \| recall_at_1/);
      // Each run adds two runs to the experiment; the champion is the version of the best one.
      const runs = [...r.stdout.matchAll(/^ (bert|hash) +\| handbook_embedder\/(\d+) +\| +([\d.]+) \|/gm)];
      expect(runs.length).toBe(2 * round);
      const best = runs.reduce((a, b) => (Number(b[3]) > Number(a[3]) ? b : a));
      expect(r.stdout).toMatch(new RegExp(`handbook_embedder \\| champion \\| +${best[2]}`));
    });
  });
});
