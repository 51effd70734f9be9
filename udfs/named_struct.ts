import type { SqlFunction } from '../src/functions/sql-function.js';
import { stringValue } from '../src/sqltext/calls.js';
import { quoteIdent } from '../src/sqltext/quote.js';
import { SqlError } from '../src/errors/sql-error.js';

/**
 * `named_struct('k', v, ...)`: Databricks' spelling of a STRUCT, written as DuckDB's
 * `struct_pack("k" := v, ...)` (values may hold further calls, which are rewritten too). The names
 * must be literals: they are the STRUCT's type.
 */
export const namedStruct: SqlFunction = {
  name: 'named_struct',
  kind: 'scalar',
  description: "a STRUCT from name/value pairs (Databricks' named_struct)",
  example: "SELECT named_struct('temperature', 0.7, 'max_tokens', 256);",
  rewrite(call, _sql, _ctx, inner) {
    const args = call.args;
    if (args.length === 0 || args.length % 2 !== 0 || args.some((a) => a.name !== null)) {
      throw new SqlError('42883', `named_struct takes pairs of a name and a value, not ${args.length} argument${args.length === 1 ? '' : 's'}${args.some((a) => a.name !== null) ? ' by name' : ''}`,
        "e.g. named_struct('role', 'user', 'content', 'Hello')");
    }
    const names = args.filter((_, k) => k % 2 === 0).map((a) => stringValue(a.value.tokens));
    const unnamed = names.findIndex((n) => n === null);
    if (unnamed >= 0) {
      throw new SqlError('42601', `named_struct's names must be string literals: ${args[2 * unnamed]!.text} is not one`,
        'the names are the STRUCT\'s field names, fixed when the statement is prepared');
    }
    const fields = names.map((n, k) => `${quoteIdent(n!)} := ${inner(args[2 * k + 1]!.text)}`);
    return [{ start: call.start, end: call.end, text: `struct_pack(${fields.join(', ')})` }];
  },
};
