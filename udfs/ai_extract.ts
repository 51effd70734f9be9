import type { SqlFunction } from '../src/functions/sql-function.js';

/**
 * `ai_extract(text, labels, model =>)`: a JSON object of the entities found, by an LLM. The
 * entities' structure goes to the model as its response schema. The labels are the keys of that
 * object: at least one, none empty or repeated.
 */
export const aiExtract: SqlFunction = {
  name: 'ai_extract',
  kind: 'scalar',
  description: 'a JSON object with the entity of each label found in a text, by an LLM (default model: llm)',
  sql: [
    `CREATE OR REPLACE MACRO __extract_labels(labels) AS
    CASE WHEN labels IS NULL OR (len(labels) > 0 AND len(list_distinct(list_filter(labels, l -> l::VARCHAR <> ''))) = len(labels)) THEN labels
         ELSE error('[SQLSTATE 22023] ai_extract: ' || CASE WHEN len(labels) = 0 THEN 'labels is empty' ELSE 'labels must be distinct, non-empty names' END
                    || ', got ' || labels::VARCHAR || chr(10) || 'HINT: name the entities to extract, e.g. ai_extract(body, [''person'', ''place''])') END`,
    `CREATE OR REPLACE MACRO ai_extract(text, labels, model := 'llm') AS
    CAST(__ai_query(model, 'Extract these entities from the text: ' || array_to_string(__extract_labels(labels), ', ')
           || '. Answer with a JSON object with one key per entity and the entity found (or null) as its value.' || chr(10) || chr(10) || text,
         NULL, '{' || array_to_string(list_transform(labels, l -> to_json(l::VARCHAR) || ':"VARCHAR"'), ',') || '}', true) AS JSON)`,
  ],
  callsModel: true,
};
