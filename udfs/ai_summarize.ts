import type { SqlFunction } from '../src/functions/sql-function.js';

/** `ai_summarize(text, max_words =>, model =>)`: a summary by a generator (about two tokens a word). */
export const aiSummarize: SqlFunction = {
  name: 'ai_summarize',
  kind: 'scalar',
  description: 'a summary of a text (default model: summarizer)',
  example: "SELECT ai_summarize('Ducks live on lakes and rivers. They eat plants and small animals.', max_words => 10);",
  macro: { params: "text VARCHAR, max_words INTEGER := 50, model VARCHAR := 'summarizer'", body: 'ai_query(model, CAST(text AS VARCHAR), modelParameters := struct_pack(max_tokens := CAST(max_words AS INTEGER) * 2))' },
  callsModel: true,
};
