import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fitHead, predict, scores } from '../src/runtime/providers/fewshot/head.js';
import { embedOp } from '../src/functions/runtime-ops.js';
import type { ModelCommand } from '../src/functions/commands.js';
import type { SqlFunction } from '../src/functions/sql-function.js';
import { setVariable } from '../src/functions/session-variables.js';
import { dataSource, readQuery } from '../src/functions/data-source.js';
import { quoteIdent } from '../src/sqltext/quote.js';
import { insertRegistration } from '../src/registry/commands.js';
import { checkAlias, checkModelName } from '../src/registry/model-ref.js';
import { SqlError } from '../src/errors/sql-error.js';

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
}

/** A stable pseudo-random order for the held-out split (FNV-1a of the text). */
function rank(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/**
 * `fit_classifier(name, data, text =>, label =>, embedding_model =>, test_fraction => 0.2, epochs => 300)`:
 * fits a classification head on the embeddings of a few labelled examples per class (a table or
 * query), reports accuracy and macro-F1 on a held-out split of each class, and registers the head
 * as the next version of `name` (task text-classification), which ai_classify can use.
 */
const command: ModelCommand = {
  name: 'fit_classifier',
  signature: "name, data, text := 'text', label := 'label', embedding_model := NULL, test_fraction := 0.2, epochs := 300, alias := NULL, description := NULL",
  argsStruct: `struct_pack(name := name::VARCHAR, data := data::VARCHAR, text := text::VARCHAR, label := label::VARCHAR, embedding_model := embedding_model::VARCHAR,
      test_fraction := test_fraction::DOUBLE, epochs := epochs::INTEGER, alias := alias::VARCHAR, description := description::VARCHAR)`,
  resultSql: `SELECT name, version, task, provider, CAST(tags['accuracy'] AS DOUBLE) AS accuracy, CAST(tags['macro_f1'] AS DOUBLE) AS macro_f1,
      CAST(tags['train_rows'] AS INTEGER) AS train_rows, CAST(tags['test_rows'] AS INTEGER) AS test_rows, tags['labels'] AS labels, created_at
    FROM ai.model_versions WHERE name = getvariable('aiduck_model') AND version = getvariable('aiduck_version_n')`,
  async run(conn, ai, raw, transaction) {
    const a = raw as unknown as Args;
    const name = checkModelName(a.name ?? '');
    if (!a.data || !a.text || !a.label) throw new SqlError('22004', "fit_classifier needs data, text => 'column' and label => 'column'");
    if (!a.embedding_model) throw new SqlError('22004', "fit_classifier needs embedding_model => 'a registered embedding model'");
    const fraction = a.test_fraction ?? 0.2;
    if (!(fraction >= 0 && fraction < 1)) throw new SqlError('22023', 'test_fraction must be at least 0 and below 1');
    const epochs = a.epochs ?? 300;
    if (!Number.isInteger(epochs) || epochs < 1 || epochs > 100_000) throw new SqlError('22023', 'epochs must be an integer from 1 to 100000');
    const embedding = ai.registry.resolve(a.embedding_model);
    if (embedding.task !== 'embedding') throw new SqlError('22023', `${a.embedding_model} is a ${embedding.task} model, not an embedding model`);

    const rows = (await readQuery(conn, `SELECT CAST(${quoteIdent(a.text)} AS VARCHAR), CAST(${quoteIdent(a.label)} AS VARCHAR)
      FROM ${dataSource(a.data, 'fit_classifier')} WHERE ${quoteIdent(a.text)} IS NOT NULL AND ${quoteIdent(a.label)} IS NOT NULL`))
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
    const reply = await ai.runtime.call(0, embedOp(embedding, all.map((r) => r.text)));
    const vectors = reply.results.map((r, i) => {
      if (!r.ok) throw new SqlError('22000', `embedding "${all[i]!.text.slice(0, 60)}" failed: ${r.error}`);
      return r.value as Float32Array;
    });
    const classOf = (l: string): number => labels.indexOf(l);
    const head = fitHead(embedding, vectors.slice(0, train.length), train.map((r) => classOf(r.label)), labels, epochs);
    const predicted = vectors.slice(train.length).map((v) => {
      const p = predict(head, v);
      return p.indexOf(Math.max(...p));
    });
    const { accuracy, macroF1 } = scores(test.map((r) => classOf(r.label)), predicted, labels.length);

    const dir = await mkdtemp(join(tmpdir(), 'aiduck-head-'));
    let stored: { digest: string; path: string };
    try {
      await writeFile(join(dir, 'head.json'), JSON.stringify(head));
      stored = await ai.store.put(dir);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    const tags: Record<string, string> = {
      train_rows: String(train.length), test_rows: String(test.length), labels: labels.join(','), embedding_model: `${embedding.name}/${embedding.version}`,
    };
    // With nothing held out there is nothing to score: accuracy and macro_f1 stay NULL.
    if (test.length) Object.assign(tags, { accuracy: String(accuracy), macro_f1: String(macroF1) });
    let version = 0;
    await transaction(async () => {
      version = await insertRegistration(conn, {
        name, sourceText: `fit_classifier:${a.data}`, digest: stored.digest, dimension: null,
        alias: a.alias === null ? null : checkAlias(a.alias),
        spec: { name, task: 'text-classification', provider: 'fewshot', location: stored.path },
        args: { name, source: null, task: null, alias: a.alias, tags, description: a.description, endpoint_model: null, api_key_env: null, options: null, base_model: null },
      });
    });
    await setVariable(conn, 'aiduck_model', name);
    await setVariable(conn, 'aiduck_version_n', version);
  },
};

export const fitClassifier: SqlFunction = {
  name: 'fit_classifier',
  kind: 'model-command',
  description: "fits a few-shot classification head on a registered embedder and registers it; one row with accuracy, macro_f1, ...",
  command,
};
