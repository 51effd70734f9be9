import type { SqlFunction } from '../src/functions/sql-function.js';

/**
 * `ai_extract(text, labels, model =>)`: a JSON object of the entities found, by an LLM. The
 * entities' structure (a STRUCT of one STRING per label, in the JSON form of spark-types.ts's
 * JsonType) goes to the model as its response schema.
 */
export const aiExtract: SqlFunction = {
  name: 'ai_extract',
  kind: 'scalar',
  description: 'a JSON object with the entity of each label found in a text, by an LLM (default model: llm)',
  example: "SELECT ai_extract('Ada met Grace in London', ['person', 'place']);",
  macro: {
    params: "text VARCHAR, labels VARCHAR[], model VARCHAR := 'llm'",
    body: `CAST(__ai_query(CAST(model AS VARCHAR), 'Extract these entities from the text: ' || array_to_string(CAST(labels AS VARCHAR[]), ', ')
           || '. Answer with a JSON object with one key per entity and the entity found (or null) as its value.' || chr(10) || chr(10) || CAST(text AS VARCHAR),
         'VARCHAR', NULL,
         '{"t":"struct","fields":[' || array_to_string(list_transform(CAST(labels AS VARCHAR[]), l -> '[' || to_json(l::VARCHAR) || ',{"t":"scalar","duck":"VARCHAR"}]'), ',') || ']}',
         NULL, true) AS JSON)`,
  },
  callsModel: true,
};
