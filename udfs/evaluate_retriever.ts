import type { QueryCommand } from '../src/engine/model-command.js';
import { SqlError } from '../src/protocol/errors.js';
import { dataSource, quoteIdent } from '../src/engine/query-command-sql.js';

const METRICS = ['precision', 'recall', 'ndcg'] as const;
function ks(value: unknown): number[] {
  const list = Array.isArray(value) ? value : [value];
  if (!list.length || list.some((k) => !Number.isInteger(k) || (k as number) < 1)) {
    throw new SqlError('22023', 'evaluate_retriever: k must be a positive integer or a list of them', 'k => 3 or k => [1, 3, 5]');
  }
  return [...new Set(list as number[])].sort((a, b) => a - b);
}

/**
 * `evaluate_retriever(data, targets => 'col', predictions => 'col', k => 3 | [1, 3, 5], aggregate => false)`:
 * the rows of `data` with precision_at_<k>, recall_at_<k> and ndcg_at_<k> per row (MLflow's names
 * and definitions, sql/retrieval-metrics.sql), or with `aggregate => true` one row per metric with
 * MLflow's aggregates: mean, variance (population) and p90.
 */
export const evaluateRetrieverCommand: QueryCommand = {
  name: 'evaluate_retriever',
  signature: 'data, targets := NULL, predictions := NULL, k := 3, aggregate := false',
  argsStruct: 'struct_pack(data := data::VARCHAR, targets := targets::VARCHAR, predictions := predictions::VARCHAR, k := k, aggregate := aggregate::BOOLEAN)',
  toSql(args) {
    const { data, targets, predictions, aggregate } = args as { data: string | null; targets: string | null; predictions: string | null; aggregate: boolean | null };
    if (!data) throw new SqlError('22004', 'evaluate_retriever needs data: a table name or a query');
    if (!targets || !predictions) {
      throw new SqlError('22004', 'evaluate_retriever needs targets => and predictions =>', "name the columns of ground-truth and retrieved ids: targets => 'truth', predictions => 'retrieved'");
    }
    const columns = ks(args['k']).flatMap((k) => METRICS.map((m) => ({
      name: `${m}_at_${k}`,
      sql: `${m}_at_k(__data.${quoteIdent(targets)}, __data.${quoteIdent(predictions)}, ${k})`,
    })));
    const perRow = `SELECT __data.*, ${columns.map((c) => `${c.sql} AS ${c.name}`).join(', ')} FROM ${dataSource(data, 'evaluate_retriever')} AS __data`;
    if (!aggregate) return perRow;
    const order = `[${columns.map((c) => `'${c.name}'`).join(', ')}]`;
    return `SELECT metric, avg(score) AS mean, var_pop(score) AS variance, quantile_cont(score, 0.9) AS p90
      FROM (UNPIVOT (SELECT ${columns.map((c) => c.name).join(', ')} FROM (${perRow})) ON COLUMNS(*) INTO NAME metric VALUE score)
      GROUP BY metric ORDER BY list_position(${order}, metric)`;
  },
};
