import type { SqlFunction } from '../src/functions/sql-function.js';

/**
 * `ai_extract(text, labels, model =>)`: a JSON object of the entities found, by an LLM. The
 * entities' structure (a STRUCT of one STRING per label, in the JSON form of spark-types.ts's
 * JsonType) goes to the model as its response schema. The labels are the keys of that object: at
 * least one, none empty or repeated.
 */
export const aiExtract: SqlFunction = {
  name: 'ai_extract',
  kind: 'scalar',
  description: 'a JSON object with the entity of each label found in a text, by an LLM (default model: llm)',
  example: "SELECT ai_extract('Ada met Grace in London', ['person', 'place']);",
  sql: [
    `CREATE OR REPLACE MACRO __extract_labels(labels) AS
    CASE WHEN labels IS NULL OR (len(labels) > 0 AND len(list_distinct(list_filter(labels, l -> l::VARCHAR <> ''))) = len(labels)) THEN labels
         ELSE error('[SQLSTATE 22023] ai_extract: ' || CASE WHEN len(labels) = 0 THEN 'labels is empty' ELSE 'labels must be distinct, non-empty names' END
                    || ', got ' || labels::VARCHAR || chr(10) || 'HINT: name the entities to extract, e.g. ai_extract(body, [''person'', ''place''])') END`,
  ],
  macro: {
    params: "text VARCHAR, labels VARCHAR[], model VARCHAR := 'llm'",
    body: `CAST(__ai_query(CAST(model AS VARCHAR), 'Extract these entities from the text: ' || array_to_string(__extract_labels(CAST(labels AS VARCHAR[])), ', ')
           || '. Answer with a JSON object with one key per entity and the entity found (or null) as its value.' || chr(10) || chr(10) || CAST(text AS VARCHAR),
         'VARCHAR', NULL,
         '{"t":"struct","fields":[' || array_to_string(list_transform(CAST(labels AS VARCHAR[]), l -> '[' || to_json(l::VARCHAR) || ',{"t":"scalar","duck":"VARCHAR"}]'), ',') || ']}',
         NULL, true) AS JSON)`,
  },
  callsModel: true,
};
