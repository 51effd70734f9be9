/** Lexical helpers over SQL text: only as much lexing as the server needs (no parsing). */

/** A string as a SQL string literal. */
export const sqlString = (text: string): string => `'${text.replace(/'/g, "''")}'`;

/** A name as a quoted SQL identifier. */
export const quoteIdent = (name: string): string => `"${name.replace(/"/g, '""')}"`;

export interface Segment {
  kind: 'code' | 'quoted' | 'comment';
  start: number;
  end: number;
}

/** Cuts SQL text into code, quoted text (strings, identifiers, dollar quotes) and comments. */
export function scanSql(sql: string): Segment[] {
  const out: Segment[] = [];
  const n = sql.length;
  let codeStart = 0;
  let i = 0;
  const emit = (kind: Segment['kind'], start: number, end: number): void => {
    if (codeStart < start) out.push({ kind: 'code', start: codeStart, end: start });
    out.push({ kind, start, end });
    codeStart = end;
  };
  while (i < n) {
    const c = sql[i]!;
    const start = i;
    if (c === '-' && sql[i + 1] === '-') {
      const nl = sql.indexOf('\n', i);
      i = nl < 0 ? n : nl + 1;
      emit('comment', start, i);
    } else if (c === '/' && sql[i + 1] === '*') {
      let depth = 1;
      i += 2;
      while (i < n && depth > 0) {
        if (sql[i] === '/' && sql[i + 1] === '*') { depth++; i += 2; }
        else if (sql[i] === '*' && sql[i + 1] === '/') { depth--; i += 2; }
        else i++;
      }
      emit('comment', start, i);
    } else if (c === "'" || c === '"') {
      const backslashes = c === "'" && /[eE]/.test(sql[i - 1] ?? '') && !/\w/.test(sql[i - 2] ?? ' ');
      i++;
      while (i < n) {
        if (backslashes && sql[i] === '\\') { i += 2; continue; }
        if (sql[i] === c) {
          if (sql[i + 1] === c) { i += 2; continue; }
          break;
        }
        i++;
      }
      i = Math.min(i + 1, n);
      emit('quoted', start, i);
    } else if (c === '$' && !/\w/.test(sql[i - 1] ?? ' ')) {
      const m = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i, i + 64));
      if (m) {
        const close = sql.indexOf(m[0], i + m[0].length);
        i = close < 0 ? n : close + m[0].length;
        emit('quoted', start, i);
      } else i++;
    } else i++;
  }
  if (codeStart < n) out.push({ kind: 'code', start: codeStart, end: n });
  return out;
}

/**
 * Splits a simple-query string into statements at top-level semicolons. Statements holding only
 * whitespace or comments are dropped.
 */
export function splitStatements(sql: string): string[] {
  const out: string[] = [];
  let start = 0;
  let meaningful = false;
  const push = (end: number): void => {
    if (meaningful) out.push(sql.slice(start, end).trim());
    meaningful = false;
  };
  for (const seg of scanSql(sql)) {
    if (seg.kind === 'comment') continue;
    if (seg.kind === 'quoted') { meaningful = true; continue; }
    for (let i = seg.start; i < seg.end; i++) {
      const c = sql[i]!;
      if (c === ';') { push(i); start = i + 1; }
      else if (!meaningful && !/\s/.test(c)) meaningful = true;
    }
  }
  push(sql.length);
  return out;
}

/** Rewrites each `$n` parameter reference in code (not in strings or comments). */
export function rewriteParameters(sql: string, replace: (index: number, token: string) => string): string {
  let out = '';
  for (const seg of scanSql(sql)) {
    const text = sql.slice(seg.start, seg.end);
    out += seg.kind === 'code' ? text.replace(/\$(\d+)/g, (tok, d: string) => replace(Number(d), tok)) : text;
  }
  return out;
}

/** The text with comments removed, for keyword matching. */
export function stripComments(sql: string): string {
  return scanSql(sql).filter((s) => s.kind !== 'comment').map((s) => sql.slice(s.start, s.end)).join(' ').trim();
}

/** The leading keywords of a statement, uppercased. */
export function leadingWords(sql: string, count: number): string[] {
  const words = stripComments(sql).replace(/^\(+/, '').match(/^[A-Za-z_]+(\s+[A-Za-z_]+){0,8}/);
  return words ? words[0].split(/\s+/).slice(0, count).map((w) => w.toUpperCase()) : [];
}

/** Whether a keyword occurs in the code of a statement (not inside strings or comments). */
export function hasCodeKeyword(sql: string, keyword: string): boolean {
  const re = new RegExp(`\\b${keyword}\\b`, 'i');
  return scanSql(sql).some((s) => s.kind === 'code' && re.test(sql.slice(s.start, s.end)));
}
