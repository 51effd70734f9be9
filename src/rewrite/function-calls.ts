import type { RewriteContext } from '../functions/sql-function.js';
import { findCalls } from '../sqltext/calls.js';
import { applyEdits, type Edit } from '../sqltext/statements.js';
import { CALL_REWRITES, PARAMETERS } from '../../udfs/catalog.js';
import { checkCallArguments } from './call-arguments.js';

const NAMES: ReadonlySet<string> = new Set([...CALL_REWRITES.keys(), ...PARAMETERS.keys()]);
const MENTIONS = new RegExp(`\\b(${[...NAMES].join('|')})\\s*\\(`, 'i');

/**
 * The pass over calls of the catalog's functions: each call's arguments are checked against the
 * function's parameters (call-arguments.ts), and a function that declares a rewrite (ai_query's
 * responseFormat, named_struct, array, from_json's Databricks types, ai_embed's FLOAT[n]) gets its
 * edits. A call inside a span another rewrite replaced is left to that rewrite (which rewrites its
 * arguments itself, through this pass). (Result columns were named from the client's text before:
 * column-names.ts.)
 */
export function rewriteFunctionCalls(sql: string, ctx: RewriteContext): string {
  if (!MENTIONS.test(sql)) return sql;
  const edits: Edit[] = [];
  let replacedUntil = -1;
  for (const call of findCalls(sql, NAMES)) {
    // CREATE MACRO ai_embed(...): a declaration of the user's own, not a call.
    if (call.before && /^(macro|function)$/i.test(call.before.text)) continue;
    if (call.start < replacedUntil) continue;
    const params = PARAMETERS.get(call.name);
    const checked = params ? checkCallArguments(call, params) : { named: call, edits: [] };
    const rewrite = CALL_REWRITES.get(call.name);
    const own = rewrite ? rewrite(checked.named, sql, ctx, (text) => rewriteFunctionCalls(text, ctx)) : [];
    const replaces = own.some((e) => e.end > e.start && e.start <= call.start && e.end >= call.end);
    if (replaces) replacedUntil = Math.max(replacedUntil, ...own.map((e) => e.end));
    // Arguments named for DuckDB, unless the rewrite wrote the whole call again (from the named call).
    else own.push(...checked.edits);
    edits.push(...own);
  }
  return edits.length ? applyEdits(sql, edits) : sql;
}
