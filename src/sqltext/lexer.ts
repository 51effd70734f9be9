/**
 * The one SQL lexer of the server: it cuts statement text into tokens with their positions, so
 * that every pass that reads or rewrites SQL agrees on what is code, what is a string, a quoted
 * name or a comment. It does not parse; it knows Postgres' and DuckDB's lexical forms:
 * `'it''s'`, `E'a\'b'`, `$tag$ ... $tag$`, `"Quoted ""name"""`, `$1`, line comments and nested block comments.
 */
export type TokenKind =
  | 'word' // a keyword or an unquoted name
  | 'quoted' // a "quoted name"
  | 'string' // '...', E'...' or $tag$...$tag$
  | 'number'
  | 'param' // $1
  | 'op' // operators: :: := => <= ~* ...
  | 'punct' // ( ) [ ] { } , ; . :
  | 'comment'
  | 'space';

export interface Token {
  kind: TokenKind;
  text: string;
  start: number;
  end: number;
}

const OPERATOR_CHARS = '+-*/<>=~!@#%^&|`?:';
const PUNCT_CHARS = '()[]{},;.';

// Character classes by code unit, as the regexes /\s/, /\d/, /[A-Za-z_\u0080-\uffff]/ and
// /[\w$\u0080-\uffff]/ read them (the lexer runs over every statement several times, so it
// tests code units, not one-character strings against regexes).
const isDigit = (c: number): boolean => c >= 48 && c <= 57;
const isAsciiLetter = (c: number): boolean => (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
const isSpace = (c: number): boolean => (c >= 9 && c <= 13) || c === 32 || (c >= 0x80 && /\s/.test(String.fromCharCode(c)));
const isWordStart = (c: number): boolean => isAsciiLetter(c) || c === 95 || c >= 0x80;
const isWordChar = (c: number): boolean => isAsciiLetter(c) || isDigit(c) || c === 95 || c === 36 || c >= 0x80;
const NUMBER = /(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/y;
const DOLLAR_TAG = /\$([A-Za-z_][A-Za-z0-9_]*)?\$/y;

/** Every token of `sql`, in order, spaces and comments included (their texts concatenate to `sql`). */
export function lex(sql: string): Token[] {
  const out: Token[] = [];
  const n = sql.length;
  let i = 0;
  const push = (kind: TokenKind, start: number, end: number): void => {
    out.push({ kind, text: sql.slice(start, end), start, end });
  };
  while (i < n) {
    const c = sql.charCodeAt(i);
    const start = i;
    const next = i + 1 < n ? sql.charCodeAt(i + 1) : -1;
    if (isSpace(c)) {
      while (i < n && isSpace(sql.charCodeAt(i))) i++;
      push('space', start, i);
    } else if (c === 45 /* - */ && next === 45) {
      const nl = sql.indexOf('\n', i);
      i = nl < 0 ? n : nl + 1;
      push('comment', start, i);
    } else if (c === 47 /* / */ && next === 42 /* * */) {
      let depth = 1;
      i += 2;
      while (i < n && depth > 0) {
        const d = sql.charCodeAt(i);
        if (d === 47 && sql.charCodeAt(i + 1) === 42) { depth++; i += 2; }
        else if (d === 42 && sql.charCodeAt(i + 1) === 47) { depth--; i += 2; }
        else i++;
      }
      push('comment', start, i);
    } else if ((c === 69 || c === 101) /* E e */ && next === 39) {
      i = quotedEnd(sql, i + 1, "'", true);
      push('string', start, i);
    } else if (c === 39 /* ' */ || c === 34 /* " */) {
      i = quotedEnd(sql, i, c === 39 ? "'" : '"', false);
      push(c === 39 ? 'string' : 'quoted', start, i);
    } else if (c === 36 /* $ */ && isDigit(next)) {
      i++;
      while (i < n && isDigit(sql.charCodeAt(i))) i++;
      push('param', start, i);
    } else if (c === 36) {
      DOLLAR_TAG.lastIndex = i;
      const tag = DOLLAR_TAG.exec(sql);
      if (tag && tag[0].length <= 64) {
        const close = sql.indexOf(tag[0], i + tag[0].length);
        i = close < 0 ? n : close + tag[0].length;
        push('string', start, i);
      } else {
        i++;
        push('op', start, i);
      }
    } else if (isDigit(c) || (c === 46 /* . */ && isDigit(next))) {
      NUMBER.lastIndex = i;
      NUMBER.exec(sql);
      i = NUMBER.lastIndex;
      push('number', start, i);
    } else if (isWordStart(c)) {
      while (i < n && isWordChar(sql.charCodeAt(i))) i++;
      push('word', start, i);
    } else if (PUNCT_CHARS.includes(sql[i]!) || (c === 58 /* : */ && next !== 58 && next !== 61 /* = */)) {
      i++;
      push('punct', start, i);
    } else if (OPERATOR_CHARS.includes(sql[i]!)) {
      i++;
      // An operator runs on while operator characters follow, but never into a comment.
      while (i < n && OPERATOR_CHARS.includes(sql[i]!) && !(sql[i] === '-' && sql[i + 1] === '-') && !(sql[i] === '/' && sql[i + 1] === '*')) i++;
      push('op', start, i);
    } else {
      i++;
      push('op', start, i);
    }
  }
  return out;
}

/** The end of a quoted run starting at `open` (the quote); doubled quotes stay inside, and backslashes escape in E''. */
function quotedEnd(sql: string, open: number, quote: string, backslashes: boolean): number {
  let i = open + 1;
  while (i < sql.length) {
    if (backslashes && sql[i] === '\\') {
      i += 2;
      continue;
    }
    if (sql[i] === quote) {
      if (sql[i + 1] === quote) {
        i += 2;
        continue;
      }
      return i + 1;
    }
    i++;
  }
  return sql.length;
}

/** The tokens that carry meaning: no spaces, no comments. */
export const codeTokens = (sql: string): Token[] => lex(sql).filter((t) => t.kind !== 'space' && t.kind !== 'comment');

/** A token is the word `w` (any case). */
export const isWord = (t: Token | undefined, w: string): boolean => t?.kind === 'word' && t.text.toLowerCase() === w;

/** A dotted name from token `at` (`a`, `s.t`, `c.s.t`): its parts as nameOf reads them, and the token after it. */
export function readQualifiedName(tokens: readonly Token[], at: number): { parts: string[]; next: number } | null {
  const parts: string[] = [];
  let i = at;
  for (;;) {
    const t = tokens[i];
    const n = t ? nameOf(t) : null;
    if (n === null) return parts.length ? { parts, next: i } : null;
    parts.push(n);
    if (tokens[i + 1]?.text !== '.') return { parts, next: i + 1 };
    i += 2;
  }
}

/** A name as written: an unquoted word lowercased as Postgres folds it, a quoted name as it is. */
export function nameOf(t: Token): string | null {
  if (t.kind === 'word') return t.text.toLowerCase();
  if (t.kind === 'quoted') return t.text.slice(1, -1).replace(/""/g, '"');
  return null;
}
