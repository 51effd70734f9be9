import type { QueryCommand } from '../src/functions/commands.js';
import type { SqlFunction } from '../src/functions/sql-function.js';
import { SqlError } from '../src/errors/sql-error.js';
import { dataSource } from '../src/functions/data-source.js';
import { quoteIdent, sqlString } from '../src/sqltext/quote.js';

/**
 * `vector_search(data, query, embedding => 'col', model => 'm', k => 10)`: the k rows of `data`
 * (a table name or a query) whose embedding is nearest to the query — a text embedded with `model`
 * or a vector — by cosine similarity, exact, with a `score` column, best first. The same as
 * `ORDER BY array_cosine_similarity(col, ai_embed('m', 'text')) DESC LIMIT k`, which also works.
 * The query may be a column of the query around the call, one search per row:
 * `FROM questions q, LATERAL vector_search('chunks', q.text, ...)`.
 */
const query: QueryCommand = {
  name: 'vector_search',
  signature: "data, query, embedding := 'embedding', model := NULL, k := 10",
  argsStruct: 'struct_pack(data := data::VARCHAR, query := query, embedding := embedding::VARCHAR, model := model::VARCHAR, k := k::INTEGER)',
  rowArguments: ['query'],
  toSql(args, rows) {
    const { data, query, embedding, model, k } = args as { data: string | null; query: unknown; embedding: string | null; model: string | null; k: number | null };
    if (!data) throw new SqlError('22004', 'vector_search needs data: a table name or a query');
    const perRow = rows['query'];
    if (perRow === undefined && (query === null || query === undefined || query === '')) throw new SqlError('22004', 'vector_search needs a query: a text or a vector');
    if (!embedding) throw new SqlError('22004', 'vector_search needs embedding => the column of vectors');
    if (k === null || !Number.isInteger(k) || k < 1) throw new SqlError('22023', 'vector_search: k must be a positive integer');
    const column = `vector_search.${quoteIdent(embedding)}`;
    if (perRow !== undefined) {
      // One search per row of the query around: a text with a model is embedded, anything else is a
      // vector; a NULL query finds nothing (LEFT JOIN LATERAL keeps its row).
      const similarity = model ? `array_cosine_similarity(${column}, __query.v)` : `list_cosine_similarity(CAST(${column} AS FLOAT[]), __query.v)`;
      const target = model ? `ai_embed(${sqlString(model)}, ${perRow})` : `CAST(${perRow} AS FLOAT[])`;
      return `SELECT vector_search.*, ${similarity} AS score
        FROM ${dataSource(data, 'vector_search')} AS vector_search, (SELECT ${target} AS v) AS __query WHERE __query.v IS NOT NULL
        ORDER BY score DESC NULLS LAST LIMIT ${k}`;
    }
    let target: string;
    if (typeof query === 'string') {
      if (!model) throw new SqlError('22004', 'vector_search of a text needs model => the embedding model that made the vectors');
      target = `(SELECT ai_embed(${sqlString(model)}, ${sqlString(query)}))`;
    } else if (Array.isArray(query) && query.every((x) => typeof x === 'number')) {
      target = `[${query.join(', ')}]::FLOAT[${query.length}]`;
    } else {
      throw new SqlError('22023', 'vector_search: the query must be a text or a list of numbers');
    }
    return `SELECT vector_search.*, array_cosine_similarity(vector_search.${quoteIdent(embedding)}, ${target}) AS score
      FROM ${dataSource(data, 'vector_search')} AS vector_search ORDER BY score DESC NULLS LAST LIMIT ${k}`;
  },
  // The data's rows are the table "vector_search" of the query above: DuckDB names that table when the
  // column of vectors is missing (in the LATERAL form only as a table not found).
  explainError(message) {
    const missing = /Table "vector_search" does not have a column named "([^"]*)"/.exec(message);
    if (!missing && !/Referenced table "vector_search" not found/.test(message)) return null;
    return new SqlError('42703', `vector_search: its data has no column ${missing ? `"${missing[1]}"` : 'of vectors by the name given'}`,
      "name the column that holds the vectors with embedding => 'column' (the default is 'embedding')");
  },
};

export const vectorSearch: SqlFunction = {
  name: 'vector_search',
  kind: 'query-command',
  description: "the k rows of a table or query nearest to a text or vector by cosine similarity, with score",
  example: "SELECT q.id, r.doc_id, r.score FROM questions q, LATERAL vector_search('chunks', q.text, embedding => 'v', model => 'embedder', k => 3) r;",
  query,
};
