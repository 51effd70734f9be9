import type { RewriteContext } from '../functions/sql-function.js';
import { findCalls } from '../sqltext/calls.js';
import { codeTokens } from '../sqltext/lexer.js';
import { quoteIdent } from '../sqltext/quote.js';
import { applyEdits, type Edit } from '../sqltext/statements.js';
import { CALL_REWRITES, PARAMETERS } from '../../udfs/catalog.js';
import { checkCallArguments } from './call-arguments.js';
import { isUnaliasedSelectItem } from './select-items.js';

const NAMES: ReadonlySet<string> = new Set([...CALL_REWRITES.keys(), ...PARAMETERS.keys()]);
const MENTIONS = new RegExp(`\\b(${[...NAMES].join('|')})\\s*\\(`, 'i');

/**
 * The pass over calls of the catalog's functions: each call's arguments are checked against the
 * function's parameters (call-arguments.ts), and a function that declares a rewrite (ai_query's
 * responseFormat, named_struct, array, from_json's Databricks types, ai_embed's FLOAT[n]) gets its
 * edits. A call inside a span another rewrite replaced is left to that rewrite (which rewrites its
 * arguments itself, through this pass). A call that is a select item of its own is named after the
 * function, as Postgres names it (not after the text DuckDB would print, or that it became).
 */
export function rewriteFunctionCalls(sql: string, ctx: RewriteContext): string {
  if (!MENTIONS.test(sql)) return sql;
  const edits: Edit[] = [];
  let tokens: ReturnType<typeof codeTokens> | undefined;
  let replacedUntil = -1;
  const named = new Set<number>();
  for (const call of findCalls(sql, NAMES)) {
    // CREATE MACRO ai_embed(...): a declaration of the user's own, not a call.
    if (call.before && /^(macro|function)$/i.test(call.before.text)) continue;
    if (call.start < replacedUntil) continue;
    const params = PARAMETERS.get(call.name);
    if (params) checkCallArguments(call, params);
    const rewrite = CALL_REWRITES.get(call.name);
    const own = rewrite ? rewrite(call, sql, ctx, (text) => rewriteFunctionCalls(text, ctx)) : [];
    for (const e of own) if (e.end > e.start && e.start <= call.start && e.end >= call.end) replacedUntil = Math.max(replacedUntil, e.end);
    // aiduck's functions, and calls that became other text, are named as Postgres names a function's
    // column. The name goes in before the edits at the same place, so it lands after their text.
    if ((params || own.length) && isUnaliasedSelectItem(tokens ??= codeTokens(sql), call)) {
      edits.push({ start: call.end, end: call.end, text: ` AS ${quoteIdent(call.name)}` });
      named.add(call.start);
    }
    edits.push(...own);
  }
  if (!edits.length) return sql;
  // Any other function whose arguments were rewritten (to_json(named_struct(...))) is named the same way.
  for (const call of findCalls(sql)) {
    if (named.has(call.start) || !edits.some((e) => e.start >= call.start && e.end <= call.end)) continue;
    if (isUnaliasedSelectItem(tokens ??= codeTokens(sql), call)) edits.unshift({ start: call.end, end: call.end, text: ` AS ${quoteIdent(call.name)}` });
  }
  return applyEdits(sql, edits);
}
