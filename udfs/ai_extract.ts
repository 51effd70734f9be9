import type { SqlFunction } from '../src/functions/sql-function.js';

/**
 * `ai_extract(text, labels, model =>)`: a JSON object of the entities found, by an LLM. The
 * entities' structure goes to the model as its response schema.
 */
export const aiExtract: SqlFunction = {
  name: 'ai_extract',
  kind: 'scalar',
  description: 'a JSON object with the entity of each label found in a text, by an LLM (default model: llm)',
  sql: [`CREATE OR REPLACE MACRO ai_extract(text, labels, model := 'llm') AS
    CAST(__ai_query(model, 'Extract these entities from the text: ' || array_to_string(labels, ', ')
           || '. Answer with a JSON object with one key per entity and the entity found (or null) as its value.' || chr(10) || chr(10) || text,
         NULL, '{' || array_to_string(list_transform(labels, l -> to_json(l::VARCHAR) || ':"VARCHAR"'), ',') || '}', true) AS JSON)`],
  callsModel: true,
};
