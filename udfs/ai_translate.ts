import type { SqlFunction } from '../src/functions/sql-function.js';

/** `ai_translate(text, to_lang, model =>)`: a translation by an LLM. */
export const aiTranslate: SqlFunction = {
  name: 'ai_translate',
  kind: 'scalar',
  description: 'a translation of a text into a language, by an LLM (default model: llm)',
  example: "SELECT ai_translate('good morning', 'French');",
  macro: {
    params: "text VARCHAR, to_lang VARCHAR, model VARCHAR := 'llm'",
    body: "ai_query(model, 'Translate the following text to ' || CAST(to_lang AS VARCHAR) || '. Answer with the translation only.' || chr(10) || chr(10) || text)",
  },
  callsModel: true,
};
