import type { SqlFunction } from '../src/functions/sql-function.js';

/** `ai_summarize(text, max_words =>, model =>)`: a summary by a generator (about two tokens a word). */
export const aiSummarize: SqlFunction = {
  name: 'ai_summarize',
  kind: 'scalar',
  description: 'a summary of a text (default model: summarizer)',
  sql: [`CREATE OR REPLACE MACRO ai_summarize(text, max_words := 50, model := 'summarizer') AS
    ai_query(model, text, modelParameters := struct_pack(max_tokens := max_words * 2))`],
  callsModel: true,
};
