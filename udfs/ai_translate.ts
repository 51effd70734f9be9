import type { SqlFunction } from '../src/functions/sql-function.js';

/** `ai_translate(text, to_lang, model =>)`: a translation by an LLM. */
export const aiTranslate: SqlFunction = {
  name: 'ai_translate',
  kind: 'scalar',
  description: 'a translation of a text into a language, by an LLM (default model: llm)',
  sql: [`CREATE OR REPLACE MACRO ai_translate(text, to_lang, model := 'llm') AS
    ai_query(model, 'Translate the following text to ' || to_lang || '. Answer with the translation only.' || chr(10) || chr(10) || text)`],
  callsModel: true,
};
