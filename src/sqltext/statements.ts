import { lex, type Token } from './lexer.js';

/**
 * Splits a simple-query string into statements at top-level semicolons. Statements holding only
 * whitespace or comments are dropped.
 */
export function splitStatements(sql: string): string[] {
  const out: string[] = [];
  let start = 0;
  let meaningful = false;
  for (const t of lex(sql)) {
    if (t.kind === 'punct' && t.text === ';') {
      if (meaningful) out.push(sql.slice(start, t.start).trim());
      start = t.end;
      meaningful = false;
    } else if (t.kind !== 'space' && t.kind !== 'comment') meaningful = true;
  }
  if (meaningful) out.push(sql.slice(start).trim());
  return out;
}

/** Rewrites each `$n` parameter reference in code (not in strings or comments). */
export function rewriteParameters(sql: string, replace: (index: number, token: string) => string): string {
  return lex(sql).map((t) => (t.kind === 'param' ? replace(Number(t.text.slice(1)), t.text) : t.text)).join('');
}

/** The text with comments removed (each replaced by a space), for keyword matching. */
export function stripComments(sql: string): string {
  return lex(sql).map((t) => (t.kind === 'comment' ? ' ' : t.text)).join('').trim();
}

/** The leading keywords of a statement, uppercased (opening parentheses skipped). */
export function leadingWords(sql: string, count: number): string[] {
  const out: string[] = [];
  for (const t of lex(sql)) {
    if (t.kind === 'space' || t.kind === 'comment' || (t.kind === 'punct' && t.text === '(' && out.length === 0)) continue;
    if (t.kind !== 'word' || out.length >= count) break;
    out.push(t.text.toUpperCase());
  }
  return out;
}

/** Whether a keyword occurs in the code of a statement (not inside strings, quoted names or comments). */
export function hasCodeKeyword(sql: string, keyword: string): boolean {
  const k = keyword.toLowerCase();
  return lex(sql).some((t) => t.kind === 'word' && t.text.toLowerCase() === k);
}

/** A text edit of a statement: replace [start, end) with `text`. */
export interface Edit {
  start: number;
  end: number;
  text: string;
}

/** Applies non-overlapping edits (in any order) to `sql`. */
export function applyEdits(sql: string, edits: readonly Edit[]): string {
  if (edits.length === 0) return sql;
  // One pass over the text (a 1,000-row INSERT has thousands of edits: splicing each in turn was quadratic).
  const parts: string[] = [];
  let at = 0;
  for (const e of [...edits].sort((a, b) => a.start - b.start || a.end - b.end)) {
    parts.push(sql.slice(at, e.start), e.text);
    at = Math.max(at, e.end);
  }
  parts.push(sql.slice(at));
  return parts.join('');
}

/** The text of `sql` with the content of strings masked by `mask(token)`: for regexes over code only. */
export function maskStrings(sql: string, mask: (t: Token) => string): string {
  return lex(sql).map((t) => (t.kind === 'string' ? mask(t) : t.text)).join('');
}
