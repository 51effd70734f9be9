import { exactNumeric, UNCONSTRAINED_NUMERIC } from '../pg/numeric.js';
import { bracketExtent } from '../sqltext/calls.js';
import { lex, type Token } from '../sqltext/lexer.js';
import { applyEdits, type Edit } from '../sqltext/statements.js';

/**
 * `numeric` and `decimal` without a precision, where they name a type (`x::numeric`, `CAST(x AS
 * numeric)`, `numeric '1.5'`, a column declared `numeric` or `numeric[]`), become aiduck's
 * unconstrained numeric (pg/numeric.ts) instead of DuckDB's DECIMAL(18,3); a literal cast to it
 * that would not fit exactly is refused with 22003 instead of rounded.
 */
export function rewriteNumericTypes(sql: string): string {
  if (!/numeric|decimal/i.test(sql)) return sql;
  const all = lex(sql);
  const tokens = all.filter((t) => t.kind !== 'space' && t.kind !== 'comment');
  const ddl = /^(create|alter)$/i.test(tokens[0]?.text ?? '');
  const edits: Edit[] = [];
  tokens.forEach((t, i) => {
    if (t.kind !== 'word' || !/^(numeric|decimal)$/i.test(t.text)) return;
    const next = tokens[i + 1];
    const prev = tokens[i - 1];
    if (next?.text === '(' || prev?.text === '.') return;
    const literal = typeLiteralBefore(tokens, i) ?? (next?.kind === 'string' ? next : null);
    const isType = prev?.text === '::' || isCastTarget(tokens, i) || next?.kind === 'string'
      || (ddl && (prev?.kind === 'word' || prev?.kind === 'quoted'));
    if (!isType) return;
    if (literal) {
      const text = literal.kind === 'string' ? literal.text.slice(1, -1) : literal.text;
      exactNumeric(text);
    }
    edits.push({ start: t.start, end: t.end, text: UNCONSTRAINED_NUMERIC });
  });
  return edits.length ? applyEdits(sql, edits) : sql;
}

/** `CAST(x AS numeric)`: the word AS, inside a CAST's brackets, right before the type. */
function isCastTarget(tokens: readonly Token[], i: number): boolean {
  if (tokens[i - 1]?.kind !== 'word' || tokens[i - 1]!.text.toLowerCase() !== 'as') return false;
  for (let k = i - 2; k >= 1; k--) {
    if (tokens[k]!.text !== '(') continue;
    const b = bracketExtent(tokens, k);
    if (b && b.close > i) return /^(try_)?cast$/i.test(tokens[k - 1]?.text ?? '');
  }
  return false;
}

/** The number or string literal a cast to the type at i reads (`1.5::numeric`, `CAST('1.5' AS numeric)`), if any. */
function typeLiteralBefore(tokens: readonly Token[], i: number): Token | null {
  if (tokens[i - 1]?.text === '::') {
    const lit = tokens[i - 2];
    return lit && (lit.kind === 'number' || lit.kind === 'string') ? lit : null;
  }
  if (tokens[i - 1]?.kind === 'word' && tokens[i - 1]!.text.toLowerCase() === 'as' && tokens[i - 3]?.text === '(') {
    const lit = tokens[i - 2];
    return lit && (lit.kind === 'number' || lit.kind === 'string') ? lit : null;
  }
  return null;
}
