import type { Call } from '../sqltext/calls.js';
import type { Token } from '../sqltext/lexer.js';

/** Words that cannot stand at the top level of a select list: they end it, or come before it in another clause. */
const CLAUSES = new Set(['from', 'where', 'group', 'having', 'order', 'limit', 'offset', 'qualify', 'window', 'union', 'except', 'intersect', 'into', 'on',
  'using', 'by', 'values', 'set', 'returning', 'join']);
const OPEN = new Set(['(', '[', '{']);
const CLOSE = new Set([')', ']', '}']);

/**
 * Whether a call is a whole item of a select list with no alias (`SELECT id, ai_query(...) FROM t`),
 * the place where Postgres names the column after the function. `tokens` are the statement's code
 * tokens. Walks back over the item's neighbours at the same depth to SELECT, and forward to the
 * token that ends the item.
 */
export function isUnaliasedSelectItem(tokens: readonly Token[], call: Call): boolean {
  const first = tokens.findIndex((t) => t.start === call.start);
  const last = tokens.findIndex((t) => t.end === call.end);
  if (first < 0 || last < 0) return false;
  const after = tokens[last + 1];
  const ends = after === undefined || [',', ')', ';'].includes(after.text) || (after.kind === 'word' && CLAUSES.has(after.text.toLowerCase()));
  if (!ends) return false;
  const before = tokens[first - 1];
  if (!before) return false;
  const word = before.kind === 'word' ? before.text.toLowerCase() : null;
  if (word === 'select' || word === 'distinct' || word === 'all') return true;
  if (before.text !== ',') return false;
  let depth = 0;
  for (let i = first - 2; i >= 0; i--) {
    const t = tokens[i]!;
    if (CLOSE.has(t.text)) depth++;
    else if (OPEN.has(t.text)) {
      if (depth === 0) return false;
      depth--;
    } else if (depth === 0 && t.kind === 'word') {
      const w = t.text.toLowerCase();
      if (w === 'select') return true;
      if (CLAUSES.has(w)) return false;
    }
  }
  return false;
}
