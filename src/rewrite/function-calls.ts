import type { RewriteContext } from '../functions/sql-function.js';
import { findCalls } from '../sqltext/calls.js';
import { applyEdits, type Edit } from '../sqltext/statements.js';
import { CALL_REWRITES } from '../../udfs/catalog.js';

const NAMES: ReadonlySet<string> = new Set(CALL_REWRITES.keys());
const MENTIONS = new RegExp([...NAMES].join('|'), 'i');

/**
 * The pass that applies the call rewrites the catalog's functions declare (ai_query's
 * responseFormat, named_struct, ai_embed's FLOAT[n]): each call of such a function, in code, gets
 * its function's edits. A call inside a span another rewrite replaced is left to that rewrite
 * (which rewrites its arguments itself).
 */
export function rewriteFunctionCalls(sql: string, ctx: RewriteContext): string {
  if (!MENTIONS.test(sql)) return sql;
  const edits: Edit[] = [];
  let replacedUntil = -1;
  for (const call of findCalls(sql, NAMES)) {
    if (call.start < replacedUntil) continue;
    const own = CALL_REWRITES.get(call.name)!(call, sql, ctx, (text) => rewriteFunctionCalls(text, ctx));
    for (const e of own) if (e.end > e.start && e.start <= call.start && e.end >= call.end) replacedUntil = Math.max(replacedUntil, e.end);
    edits.push(...own);
  }
  return edits.length ? applyEdits(sql, edits) : sql;
}
