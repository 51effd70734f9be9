import type { SqlFunction } from '../src/functions/sql-function.js';

/** `ai_similarity(a, b, model =>)`: the cosine similarity of two texts' embeddings. */
export const aiSimilarity: SqlFunction = {
  name: 'ai_similarity',
  kind: 'scalar',
  description: 'the cosine similarity of two texts (default model: builtin:hash-embed-256)',
  example: "SELECT ai_similarity('ducks on a lake', 'a lake with ducks');",
  macro: { params: "a VARCHAR, b VARCHAR, model VARCHAR := 'builtin:hash-embed-256'", body: 'list_cosine_similarity(__ai_embed(CAST(model AS VARCHAR), CAST(a AS VARCHAR)), __ai_embed(CAST(model AS VARCHAR), CAST(b AS VARCHAR)))' },
  callsModel: true,
};
