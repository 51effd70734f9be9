import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fitHead, predict, scores } from '../src/runtime/providers/fewshot/head.js';
import { bodyRefusal, runSetFitJob, type BodyTrained } from '../src/jobs/setfit-job.js';
import { embedOp } from '../src/functions/runtime-ops.js';
import type { ModelCommand } from '../src/functions/commands.js';
import type { SqlFunction } from '../src/functions/sql-function.js';
import { setVariable } from '../src/functions/session-variables.js';
import { Run, statusOf } from '../src/registry/runs.js';
import { dataSource, readQuery } from '../src/functions/data-source.js';
import { quoteIdent } from '../src/sqltext/quote.js';
import { insertRegistration, releaseArtifacts } from '../src/registry/commands.js';
import { checkAlias, checkModelName } from '../src/registry/model-ref.js';
import { SqlError } from '../src/errors/sql-error.js';
import { DEFAULT_SENTENCE_EMBEDDING } from '../src/llm/sentence-embedding.js';

interface Args {
  name: string | null;
  data: string | null;
  text: string | null;
  label: string | null;
  embedding_model: string | null;
  test_fraction: number | null;
  epochs: number | null;
  alias: string | null;
  description: string | null;
  experiment: string | null;
  run_name: string | null;
  fine_tune_body: boolean | null;
  num_iterations: number | null;
  num_epochs: number | null;
  body_learning_rate: number | null;
  head_learning_rate: number | null;
  batch_size: number | null;
  seed: number | null;
}

/** A stable pseudo-random order for the held-out split (FNV-1a of the text). */
function rank(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

function checked(value: number | null, name: string, ok: (v: number) => boolean, what: string): number {
  if (value === null || !Number.isFinite(value) || !ok(value)) throw new SqlError('22023', `fit_classifier: ${name} must be ${what}, not ${value}`);
  return value;
}

const integer = (value: number | null, name: string, min: number, max: number): number =>
  checked(value, name, (v) => Number.isInteger(v) && v >= min && v <= max, `an integer from ${min} to ${max}`);

/**
 * `fit_classifier(name, data, text =>, label =>, embedding_model =>, test_fraction => 0.2, epochs => 300,
 * fine_tune_body =>, num_iterations => 20, num_epochs => 1, body_learning_rate => 2e-5, head_learning_rate => 1,
 * batch_size => 16, seed => 42, experiment =>, run_name =>)`: SetFit's two stages on a few labelled examples per class
 * (a table or query). The body (a BERT-family embedding model registered from a folder) is fine-tuned on
 * pairs of the examples, unless fine_tune_body => false (the default for embedding models that cannot
 * be trained); then a classification head is fitted on the embeddings, scored (accuracy, macro-F1) on
 * a held-out split of each class, and the result registered as the next version of `name` (task
 * text-classification), which ai_classify and ai_embed use; the run is recorded in the experiment.
 */
const command: ModelCommand = {
  name: 'fit_classifier',
  signature: "name, data, text := 'text', label := 'label', embedding_model := NULL, test_fraction := 0.2, epochs := 300, alias := NULL, description := NULL, experiment := NULL, "
    + 'fine_tune_body := NULL, num_iterations INTEGER := 20, num_epochs INTEGER := 1, body_learning_rate := 2e-5, head_learning_rate := 1.0, batch_size INTEGER := 16, '
    + 'seed INTEGER := 42, run_name := NULL',
  argsStruct: `struct_pack(name := name::VARCHAR, data := data::VARCHAR, text := text::VARCHAR, label := label::VARCHAR, embedding_model := embedding_model::VARCHAR,
      test_fraction := test_fraction::DOUBLE, epochs := epochs::INTEGER, alias := alias::VARCHAR, description := description::VARCHAR,
      experiment := experiment::VARCHAR, fine_tune_body := fine_tune_body::BOOLEAN, num_iterations := num_iterations::DOUBLE, num_epochs := num_epochs::DOUBLE,
      body_learning_rate := body_learning_rate::DOUBLE, head_learning_rate := head_learning_rate::DOUBLE, batch_size := batch_size::DOUBLE, seed := seed::DOUBLE,
      run_name := run_name::VARCHAR)`,
  resultSql: `SELECT name, version, task, provider, CAST(tags['accuracy'] AS DOUBLE) AS accuracy, CAST(tags['macro_f1'] AS DOUBLE) AS macro_f1,
      CAST(tags['train_rows'] AS INTEGER) AS train_rows, CAST(tags['test_rows'] AS INTEGER) AS test_rows, tags['labels'] AS labels,
      CAST(tags['fine_tuned_body'] AS BOOLEAN) AS fine_tuned_body, CAST(tags['training_seconds'] AS DOUBLE) AS training_seconds, dimension, created_at
    FROM ai.model_versions WHERE name = getvariable('aiduck_model') AND version = getvariable('aiduck_version_n')`,
  async run(conn, ai, raw, transaction, session) {
    const a = raw as unknown as Args;
    const name = checkModelName(a.name ?? '');
    if (!a.data || !a.text || !a.label) throw new SqlError('22004', "fit_classifier needs data, text => 'column' and label => 'column'");
    const { data, text, label } = { data: a.data, text: a.text, label: a.label };
    if (!a.embedding_model) throw new SqlError('22004', "fit_classifier needs embedding_model => 'a registered embedding model'");
    const fraction = a.test_fraction ?? 0.2;
    if (!(fraction >= 0 && fraction < 1)) throw new SqlError('22023', 'test_fraction must be at least 0 and below 1');
    const epochs = a.epochs ?? 300;
    if (!Number.isInteger(epochs) || epochs < 1 || epochs > 100_000) throw new SqlError('22023', 'epochs must be an integer from 1 to 100000');
    const headRate = checked(a.head_learning_rate, 'head_learning_rate', (v) => v > 0 && v <= 100, 'above 0 and at most 100');
    const embedding = ai.registry.resolve(a.embedding_model);
    if (embedding.task !== 'embedding') throw new SqlError('22023', `${a.embedding_model} is a ${embedding.task} model, not an embedding model`);
    const refusal = bodyRefusal(embedding, `${embedding.name}/${embedding.version}`);
    if (a.fine_tune_body === true && refusal !== null) throw refusal;
    // Checked and recorded whether or not the body is trained (a frozen body's head draws nothing at random).
    const seed = integer(a.seed, 'seed', 0, 2 ** 31 - 1);
    const body = (a.fine_tune_body ?? refusal === null) ? {
      iterations: integer(a.num_iterations, 'num_iterations', 1, 1000),
      epochs: integer(a.num_epochs, 'num_epochs', 1, 1000),
      batchSize: integer(a.batch_size, 'batch_size', 1, 4096),
      learningRate: checked(a.body_learning_rate, 'body_learning_rate', (v) => v > 0 && v <= 1, 'above 0 and at most 1'),
      seed,
    } : null;
    const run = await Run.start(conn, {
      experiment: a.experiment ?? name, name: a.run_name, source: 'fit_classifier', statement: session.statement,
      params: {
        data, text, label, embedding_model: `${embedding.name}/${embedding.version}`, test_fraction: fraction, epochs, head_learning_rate: headRate,
        fine_tune_body: body !== null, seed,
        ...(body ? { num_iterations: body.iterations, num_epochs: body.epochs, body_learning_rate: body.learningRate, batch_size: body.batchSize } : {}),
      },
    });
    let version: number;
    try {
      version = await fitAndRegister();
    } catch (err) {
      await run.end(conn, statusOf(err), { error: err instanceof Error ? err.message : String(err) }).catch(() => undefined);
      throw err;
    }
    await setVariable(conn, 'aiduck_model', name);
    await setVariable(conn, 'aiduck_version_n', version);

    /** The body (when fine-tuned) and the head, registered as the next version of the model, in one transaction with the run that made it. */
    async function fitAndRegister(): Promise<number> {
      const rows = (await readQuery(conn, `SELECT CAST(${quoteIdent(text)} AS VARCHAR), CAST(${quoteIdent(label)} AS VARCHAR)
        FROM ${dataSource(data, 'fit_classifier')} WHERE ${quoteIdent(text)} IS NOT NULL AND ${quoteIdent(label)} IS NOT NULL`))
        .map(([t, l]) => ({ text: String(t), label: String(l) }));
      const labels = [...new Set(rows.map((r) => r.label))].sort();
      if (labels.length < 2) throw new SqlError('22023', 'fit_classifier needs examples of at least two labels');
      // Each class gives a share of its examples to the held-out split, keeping at least one to learn from.
      const train: typeof rows = [];
      const test: typeof rows = [];
      for (const label of labels) {
        const mine = rows.filter((r) => r.label === label).sort((x, y) => rank(x.text) - rank(y.text));
        const held = Math.min(Math.round(mine.length * fraction), mine.length - 1);
        test.push(...mine.slice(0, held));
        train.push(...mine.slice(held));
      }
      const all = [...train, ...test];
      const classOf = (l: string): number => labels.indexOf(l);
      const started = performance.now();
      // The version's folder: head.json, and the fine-tuned body under body/.
      const dir = body ? join(ai.store.root, `.fit-${randomBytes(6).toString('hex')}`) : await mkdtemp(join(tmpdir(), 'aiduck-head-'));
      const tags: Record<string, string> = {
        train_rows: String(train.length), test_rows: String(test.length), labels: labels.join(','), embedding_model: `${embedding.name}/${embedding.version}`,
      };
      let stored: { digest: string; path: string };
      let dimension: number | null;
      let accuracy = 0;
      let macroF1 = 0;
      // A stopped trainer finishes the step it is in: the folder goes once it has ended.
      let exited: Promise<void> = Promise.resolve();
      try {
        let vectors: Float32Array[];
        let trained: BodyTrained | null = null;
        if (body) {
          await mkdir(dir, { recursive: true });
          const job = runSetFitJob({
            embedderFolder: embedding.location, train: train.map((r) => ({ text: r.text, label: classOf(r.label) })), embed: all.map((r) => r.text), params: body, outDir: dir,
            embedding: embedding.embedding ?? DEFAULT_SENTENCE_EMBEDDING,
          }, session, name, run.id);
          exited = job.exited;
          trained = await job.result;
          await job.exited;
          vectors = trained.vectors;
          Object.assign(tags, { body_pairs: String(trained.pairs), body_steps: String(trained.steps), body_loss: String(trained.epochLosses.at(-1)), body_source: trained.source });
          trained.epochLosses.forEach((loss, i) => run.metric('body_loss', loss, i + 1));
        } else {
          const reply = await ai.runtime.call(0, embedOp(embedding, all.map((r) => r.text)));
          vectors = reply.results.map((r, i) => {
            if (!r.ok) throw new SqlError('22000', `embedding "${all[i]!.text.slice(0, 60)}" failed: ${r.error}`);
            return r.value as Float32Array;
          });
        }
        const head = fitHead(embedding, vectors.slice(0, train.length), train.map((r) => classOf(r.label)), labels, epochs, 1e-3, headRate);
        if (trained) head.body = 'body';
        const predicted = vectors.slice(train.length).map((v) => {
          const p = predict(head, v);
          return p.indexOf(Math.max(...p));
        });
        ({ accuracy, macroF1 } = scores(test.map((r) => classOf(r.label)), predicted, labels.length));
        // With nothing held out there is nothing to score: accuracy and macro_f1 stay NULL.
        if (test.length) Object.assign(tags, { accuracy: String(accuracy), macro_f1: String(macroF1) });
        Object.assign(tags, { fine_tuned_body: String(trained !== null), training_seconds: String((performance.now() - started) / 1000) });
        dimension = vectors[0]?.length ?? ai.registry.dimensionOf(`${embedding.name}/${embedding.version}`);
        await writeFile(join(dir, 'head.json'), JSON.stringify(head));
        stored = await ai.store.put(dir);
      } finally {
        void exited.then(() => rm(dir, { recursive: true, force: true }));
      }
      let version = 0;
      run.metric('train_rows', train.length, 0);
      run.metric('test_rows', test.length, 0);
      if (test.length) {
        run.metric('accuracy', accuracy, 0);
        run.metric('macro_f1', macroF1, 0);
      }
      try {
        await transaction(async () => {
          version = await insertRegistration(conn, {
            name, sourceText: `fit_classifier:${data}`, digest: stored.digest, dimension, trainingRun: run.id,
            alias: a.alias === null ? null : checkAlias(a.alias),
            // ai_embed on the version returns the vectors the head reads, pooled as the embedding model pools.
            spec: { name, task: 'text-classification', provider: 'fewshot', location: stored.path, ...(embedding.embedding ? { embedding: embedding.embedding } : {}) },
            args: { name, source: null, task: null, alias: a.alias, tags, description: a.description, endpoint_model: null, api_key_env: null, options: null, base_model: null },
          });
          for (const sql of await run.endSql('finished', { model: { name, version }, artifact: stored.path })) await conn.run(sql);
        });
      } finally {
        await releaseArtifacts(ai, [stored.digest]);
      }
      return version;
    }
  },
};

export const fitClassifier: SqlFunction = {
  name: 'fit_classifier',
  kind: 'model-command',
  description: "SetFit's two stages: fine-tunes a registered embedder's body on pairs of a few labelled examples, fits a classification head and registers both; one row with accuracy, macro_f1, ...",
  example: "SELECT accuracy, macro_f1 FROM fit_classifier('ticket_router', 'labelled_tickets', text => 'body', label => 'team', embedding_model => 'embedder', seed => 7);",
  command,
};
