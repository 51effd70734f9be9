import type { SqlFunction } from '../src/functions/sql-function.js';
import { stringValue } from '../src/sqltext/calls.js';
import { quoteIdent } from '../src/sqltext/quote.js';

/**
 * `named_struct('k', v, ...)`: Databricks' spelling of a STRUCT, written as DuckDB's
 * `struct_pack("k" := v, ...)` when the names are literals (values may hold further calls, which are
 * rewritten too).
 */
export const namedStruct: SqlFunction = {
  name: 'named_struct',
  kind: 'scalar',
  description: "a STRUCT from name/value pairs (Databricks' named_struct), e.g. named_struct('temperature', 0.7, 'max_tokens', 256)",
  rewrite(call, _sql, _ctx, inner) {
    const args = call.args;
    if (args.length === 0 || args.length % 2 !== 0 || args.some((a) => a.name !== null)) return [];
    const names = args.filter((_, k) => k % 2 === 0).map((a) => stringValue(a.value.tokens));
    if (names.some((n) => n === null)) return [];
    const fields = names.map((n, k) => `${quoteIdent(n!)} := ${inner(args[2 * k + 1]!.text)}`);
    return [{ start: call.start, end: call.end, text: `struct_pack(${fields.join(', ')})` }];
  },
};
