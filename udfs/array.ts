import type { SqlFunction } from '../src/functions/sql-function.js';
import { SqlError } from '../src/errors/sql-error.js';

/** Words that start a query: `ARRAY(SELECT ...)` is Postgres' array of a subquery, left as it is. */
const QUERY = /^(select|with|values|from|table|\()$/i;

/**
 * `array(a, b, ...)`: Databricks' array constructor (DuckDB's parser reads `array(` as the start of
 * `ARRAY(SELECT ...)`), written as `list_value(a, b, ...)`; its arguments may hold further calls
 * (`array(named_struct(...), ...)`), which are rewritten too.
 */
export const arrayConstructor: SqlFunction = {
  name: 'array',
  kind: 'scalar',
  description: "a list of its arguments (Databricks' array constructor; ARRAY(SELECT ...) stays Postgres' array of a query)",
  example: "SELECT array(named_struct('role', 'system', 'content', 'Answer briefly.'), named_struct('role', 'user', 'content', 'Name a duck.'));",
  rewrite(call, _sql, _ctx, inner) {
    const first = call.args[0]?.value.tokens[0];
    if (call.args.length === 1 && first && QUERY.test(first.text)) return [];
    const named = call.args.find((a) => a.name !== null);
    if (named) throw new SqlError('42601', `array takes its elements by position, not by name (${named.name} =>)`, "e.g. array('a', 'b') or array(named_struct('k', 1))");
    return [{ start: call.start, end: call.end, text: `list_value(${call.args.map((a) => inner(a.text)).join(', ')})` }];
  },
};
