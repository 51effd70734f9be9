import type { SqlFunction } from '../src/functions/sql-function.js';

// Retrieval metrics per row, defined exactly as MLflow's precision_at_k, recall_at_k and ndcg_at_k
// (mlflow.metrics): targets are the ground-truth ids, predictions the retrieved ids in rank order
// (the same id may come back more than once, e.g. several chunks of one document). NULL lists count
// as empty. The __ macros take the first k predictions (top) and the distinct targets (truth).

/**
 * precision: relevant ids among the first k retrieved (each occurrence counts) / how many were
 * retrieved (at most k); 0 when nothing was retrieved.
 */
export const precisionAtK: SqlFunction = {
  name: 'precision_at_k',
  kind: 'scalar',
  description: "MLflow's precision at k of one row: relevant ids among the first k retrieved / ids retrieved (at most k)",
  example: 'SELECT precision_at_k([1, 2], [2, 3, 1], 2);',
  macro: { params: 'targets, predictions, k BIGINT', body: '__precision(coalesce(predictions, [])[1:k], list_distinct(coalesce(targets, [])))' },
  sql: [
    `CREATE OR REPLACE MACRO __precision(top, truth) AS
      CASE WHEN len(top) = 0 THEN 0.0 ELSE len(list_filter(top, x -> list_contains(truth, x))) / len(top) END`,
  ],
};

/**
 * recall: distinct relevant ids among the first k retrieved / distinct relevant ids; 1 when there
 * are neither targets nor retrieved ids, 0 when only the targets are missing.
 */
export const recallAtK: SqlFunction = {
  name: 'recall_at_k',
  kind: 'scalar',
  description: "MLflow's recall at k of one row: distinct relevant ids among the first k retrieved / distinct relevant ids",
  example: 'SELECT recall_at_k([1, 2], [2, 3, 1], 2);',
  macro: { params: 'targets, predictions, k BIGINT', body: '__recall(coalesce(predictions, [])[1:k], list_distinct(coalesce(targets, [])))' },
  sql: [
    `CREATE OR REPLACE MACRO __recall(top, truth) AS
      CASE WHEN len(truth) > 0 THEN len(list_intersect(truth, list_distinct(top))) / len(truth)
           WHEN len(top) = 0 THEN 1.0 ELSE 0.0 END`,
  ],
};

/**
 * NDCG with binary relevance over the first k retrieved, as MLflow computes it with sklearn: a
 * repeated relevant id counts as one more relevant document (so it raises the ideal too); 1 when
 * there are neither targets nor retrieved ids, 0 when only one of them is missing.
 */
export const ndcgAtK: SqlFunction = {
  name: 'ndcg_at_k',
  kind: 'scalar',
  description: "MLflow's NDCG at k of one row (binary relevance)",
  example: 'SELECT ndcg_at_k([1, 2], [2, 3, 1], 3);',
  macro: { params: 'targets, predictions, k BIGINT', body: '__ndcg(coalesce(predictions, [])[1:k], list_distinct(coalesce(targets, [])))' },
  sql: [
    `CREATE OR REPLACE MACRO __dcg(top, truth) AS
      list_sum(list_transform(range(1, len(top) + 1), i -> CASE WHEN list_contains(truth, top[i]) THEN 1.0 / log2(i + 1) ELSE 0.0 END))`,
    `CREATE OR REPLACE MACRO __repeats(top, truth) AS
      len(list_filter(range(1, len(top) + 1), i -> list_contains(truth, top[i]) AND list_position(top, top[i]) < i))`,
    'CREATE OR REPLACE MACRO __ideal_dcg(n) AS list_sum(list_transform(range(1, n + 1), i -> 1.0 / log2(i + 1)))',
    `CREATE OR REPLACE MACRO __ndcg(top, truth) AS
      CASE WHEN len(top) = 0 AND len(truth) = 0 THEN 1.0
           WHEN len(top) = 0 OR len(truth) = 0 THEN 0.0
           ELSE __dcg(top, truth) / __ideal_dcg(least(len(top), len(truth) + __repeats(top, truth))) END`,
  ],
};
