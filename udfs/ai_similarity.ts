import type { SqlFunction } from '../src/functions/sql-function.js';

/** `ai_similarity(a, b, model =>)`: the cosine similarity of two texts' embeddings. */
export const aiSimilarity: SqlFunction = {
  name: 'ai_similarity',
  kind: 'scalar',
  description: 'the cosine similarity of two texts (default model: builtin:hash-embed-256)',
  sql: [`CREATE OR REPLACE MACRO ai_similarity(a, b, model := 'builtin:hash-embed-256') AS
    list_cosine_similarity(__ai_embed(model, a), __ai_embed(model, b))`],
  callsModel: true,
};
