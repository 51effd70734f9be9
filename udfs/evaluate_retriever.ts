import type { QueryCommand } from '../src/functions/commands.js';
import type { SqlFunction } from '../src/functions/sql-function.js';
import { SqlError } from '../src/errors/sql-error.js';
import { dataSource } from '../src/functions/data-source.js';
import { quoteIdent, sqlString } from '../src/sqltext/quote.js';

const METRICS = ['precision', 'recall', 'ndcg'] as const;
function ks(value: unknown): number[] {
  const list = Array.isArray(value) ? value : [value];
  if (!list.length || list.some((k) => !Number.isInteger(k) || (k as number) < 1)) {
    throw new SqlError('22023', 'evaluate_retriever: k must be a positive integer or a list of them', 'k => 3 or k => [1, 3, 5]');
  }
  return [...new Set(list as number[])].sort((a, b) => a - b);
}

interface Args {
  data: string | null;
  targets: string | null;
  predictions: string | null;
  aggregate: boolean | null;
  question: string | null;
  chunks: string | null;
  chunk_id: string | null;
  chunk_text: string | null;
  model: string | null;
  experiment: string | null;
  run_name: string | null;
}

/**
 * The retrieval form: each question of `data` embedded with `model`, the chunks of `chunks` too,
 * and the ids of the nearest chunks (exact cosine similarity, best first, up to the largest k)
 * as the column `retrieved`.
 */
function withRetrieval(a: Args, data: string, maxK: number): string {
  if (!a.question || !a.chunks || !a.model) {
    throw new SqlError('22004', "evaluate_retriever retrieves when given question => 'column', chunks => 'table or query' and model => 'embedding model'");
  }
  const id = quoteIdent(a.chunk_id ?? 'doc_id');
  const model = sqlString(a.model);
  return `WITH evaluate_retriever AS (SELECT row_number() OVER () AS __qid, * FROM ${dataSource(data, 'evaluate_retriever')}),
    __qv AS (SELECT __qid, ai_embed(${model}, ${quoteIdent(a.question)}) AS __v FROM evaluate_retriever),
    __cv AS (SELECT ${id} AS __doc, ai_embed(${model}, ${quoteIdent(a.chunk_text ?? 'chunk')}) AS __v FROM ${dataSource(a.chunks, 'evaluate_retriever')}),
    __top AS (SELECT __qv.__qid, list(__cv.__doc ORDER BY array_cosine_similarity(__qv.__v, __cv.__v) DESC)[1:${maxK}] AS retrieved
              FROM __qv, __cv GROUP BY __qv.__qid)
    SELECT evaluate_retriever.* EXCLUDE (__qid), coalesce(__top.retrieved, []) AS retrieved FROM evaluate_retriever LEFT JOIN __top USING (__qid) ORDER BY evaluate_retriever.__qid`;
}

/**
 * `evaluate_retriever(data, targets => 'col', predictions => 'col', k => 3 | [1, 3, 5], aggregate => false)`:
 * the rows of `data` with precision_at_<k>, recall_at_<k> and ndcg_at_<k> per row (MLflow's names
 * and definitions, sql/retrieval-metrics.sql), or with `aggregate => true` one row per metric with
 * MLflow's aggregates: mean, variance (population) and p90. With `question =>`, `chunks =>` and
 * `model =>` instead of predictions, it retrieves the chunks' ids itself (see withRetrieval).
 */
const query: QueryCommand = {
  name: 'evaluate_retriever',
  signature: "data, targets := NULL, predictions := NULL, k := 3, aggregate := false, question := NULL, chunks := NULL, chunk_id := 'doc_id', chunk_text := 'chunk', model := NULL, experiment := NULL, run_name := NULL",
  argsStruct: `struct_pack(data := data::VARCHAR, targets := targets::VARCHAR, predictions := predictions::VARCHAR, k := k, aggregate := aggregate::BOOLEAN,
    question := question::VARCHAR, chunks := chunks::VARCHAR, chunk_id := chunk_id::VARCHAR, chunk_text := chunk_text::VARCHAR, model := model::VARCHAR,
    experiment := experiment::VARCHAR, run_name := run_name::VARCHAR)`,
  toSql(args) {
    const a = args as unknown as Args;
    if (!a.data) throw new SqlError('22004', 'evaluate_retriever needs data: a table name or a query');
    const retrieving = a.question !== null || a.chunks !== null;
    const predictions = retrieving ? 'retrieved' : a.predictions;
    if (!a.targets || !predictions) {
      throw new SqlError('22004', 'evaluate_retriever needs targets => and predictions =>', "name the columns of ground-truth and retrieved ids: targets => 'truth', predictions => 'retrieved'");
    }
    const kList = ks(args['k']);
    const source = retrieving ? `(${withRetrieval(a, a.data, Math.max(...kList))})` : dataSource(a.data, 'evaluate_retriever');
    const columns = kList.flatMap((k) => METRICS.map((m) => ({
      name: `${m}_at_${k}`,
      sql: `${m}_at_k(evaluate_retriever.${quoteIdent(a.targets!)}, evaluate_retriever.${quoteIdent(predictions)}, ${k})`,
    })));
    const perRow = `SELECT evaluate_retriever.*, ${columns.map((c) => `${c.sql} AS ${c.name}`).join(', ')} FROM ${source} AS evaluate_retriever`;
    const aggregate = a.aggregate;
    if (!aggregate) return perRow;
    const order = `[${columns.map((c) => `'${c.name}'`).join(', ')}]`;
    return `SELECT metric, avg(score) AS mean, var_pop(score) AS variance, quantile_cont(score, 0.9) AS p90
      FROM (UNPIVOT (SELECT ${columns.map((c) => c.name).join(', ')} FROM (${perRow})) ON COLUMNS(*) INTO NAME metric VALUE score)
      GROUP BY metric ORDER BY list_position(${order}, metric)`;
  },
  recordedAs(args) {
    const a = args as unknown as Args;
    if (a.experiment === null) return null;
    if (!a.aggregate) throw new SqlError('22023', 'evaluate_retriever records a run of its aggregates: give aggregate => true with experiment =>');
    return {
      experiment: a.experiment, name: a.run_name, source: 'evaluate_retriever',
      params: {
        data: a.data, targets: a.targets, predictions: a.predictions, question: a.question, chunks: a.chunks, model: a.model,
        k: JSON.stringify(ks(args['k'])),
      },
      // MLflow's names: the mean under the metric's own name, the other aggregates behind a slash.
      metrics: (rows) => rows.flatMap((r) => [
        { key: String(r['metric']), value: Number(r['mean']) },
        { key: `${String(r['metric'])}/variance`, value: Number(r['variance']) },
        { key: `${String(r['metric'])}/p90`, value: Number(r['p90']) },
      ]),
    };
  },
};

export const evaluateRetriever: SqlFunction = {
  name: 'evaluate_retriever',
  kind: 'query-command',
  description: "MLflow's precision, recall and NDCG at k per question (or aggregated), of retrieved ids or retrieving itself",
  example: "SELECT * FROM evaluate_retriever('questions', targets => 'relevant_ids', predictions => 'retrieved_ids', k => [1, 3]);",
  query,
};
