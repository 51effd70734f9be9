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
const isWordStart = (c: string): boolean => /[A-Za-z_\u0080-\uffff]/.test(c);
const isWordChar = (c: string): boolean => /[\w$\u0080-\uffff]/.test(c);

/** Every token of `sql`, in order, spaces and comments included (their texts concatenate to `sql`). */
export function lex(sql: string): Token[] {
  const out: Token[] = [];
  const n = sql.length;
  let i = 0;
  const push = (kind: TokenKind, start: number, end: number): void => {
    out.push({ kind, text: sql.slice(start, end), start, end });
  };
  while (i < n) {
    const c = sql[i]!;
    const start = i;
    const next = sql[i + 1];
    if (/\s/.test(c)) {
      while (i < n && /\s/.test(sql[i]!)) i++;
      push('space', start, i);
    } else if (c === '-' && next === '-') {
      const nl = sql.indexOf('\n', i);
      i = nl < 0 ? n : nl + 1;
      push('comment', start, i);
    } else if (c === '/' && next === '*') {
      let depth = 1;
      i += 2;
      while (i < n && depth > 0) {
        if (sql[i] === '/' && sql[i + 1] === '*') { depth++; i += 2; }
        else if (sql[i] === '*' && sql[i + 1] === '/') { depth--; i += 2; }
        else i++;
      }
      push('comment', start, i);
    } else if ((c === 'E' || c === 'e') && next === "'") {
      i = quotedEnd(sql, i + 1, "'", true);
      push('string', start, i);
    } else if (c === "'" || c === '"') {
      i = quotedEnd(sql, i, c, false);
      push(c === "'" ? 'string' : 'quoted', start, i);
    } else if (c === '$' && next !== undefined && /\d/.test(next)) {
      i++;
      while (i < n && /\d/.test(sql[i]!)) i++;
      push('param', start, i);
    } else if (c === '$') {
      const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i, i + 64));
      if (tag) {
        const close = sql.indexOf(tag[0], i + tag[0].length);
        i = close < 0 ? n : close + tag[0].length;
        push('string', start, i);
      } else {
        i++;
        push('op', start, i);
      }
    } else if (/\d/.test(c) || (c === '.' && next !== undefined && /\d/.test(next))) {
      const m = /^(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/.exec(sql.slice(i))!;
      i += m[0].length;
      push('number', start, i);
    } else if (isWordStart(c)) {
      while (i < n && isWordChar(sql[i]!)) i++;
      push('word', start, i);
    } else if ('()[]{},;.'.includes(c) || (c === ':' && next !== ':' && next !== '=')) {
      i++;
      push('punct', start, i);
    } else if (OPERATOR_CHARS.includes(c)) {
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
