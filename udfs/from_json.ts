import type { SqlFunction } from '../src/functions/sql-function.js';
import { fromJsonStructure, parseSparkType } from '../src/functions/spark-types.js';
import { stringValue } from '../src/sqltext/calls.js';
import { sqlString } from '../src/sqltext/quote.js';
import { SqlError } from '../src/errors/sql-error.js';

/** A DuckDB from_json structure: JSON (an object, a list, or a quoted type name). */
const DUCKDB_STRUCTURE = /^\s*[{["]/;

/**
 * `from_json(json, 'STRUCT<a: INT, b: ARRAY<STRING>>')` as Databricks spells it: a schema written as
 * a Spark DDL type (or a list of fields, `a INT, b STRING`) becomes the structure DuckDB's from_json
 * takes, and the value is read as JSON whatever its type, so a STRUCT that ai_query already returns
 * reads the same as the JSON text Databricks' ai_query gives. A DuckDB structure ('{"a":"INTEGER"}')
 * is DuckDB's from_json, untouched.
 */
export const fromJson: SqlFunction = {
  name: 'from_json',
  kind: 'scalar',
  description: "a JSON text (or a STRUCT) read as a Databricks type: from_json(json, 'STRUCT<a: INT, b: ARRAY<STRING>>'); DuckDB's own structures work too",
  example: `SELECT from_json('{"answer": "Paris", "score": 3, "tags": ["capital"]}', 'STRUCT<answer: STRING, score: INT, tags: ARRAY<STRING>>');`,
  rewrite(call, _sql, _ctx, inner) {
    const [value, schema, ...options] = call.args;
    if (!value || !schema || value.name !== null || schema.name !== null) return [];
    const text = stringValue(schema.value.tokens);
    if (text === null || DUCKDB_STRUCTURE.test(text)) return [];
    if (options.length) {
      throw new SqlError('0A000', 'from_json takes no options here (mode, dateFormat, ...)',
        'malformed JSON fails the statement; to read it as NULL instead, wrap the call: try(from_json(...))');
    }
    const structure = fromJsonStructure(parseSparkType(text, 'from_json'));
    return [{ start: call.start, end: call.end, text: `from_json(CAST((${inner(value.text)}) AS JSON), ${sqlString(structure)})` }];
  },
};
