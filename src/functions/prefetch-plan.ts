import { bracketExtent } from '../sqltext/calls.js';
import { codeTokens, type Token as LexToken } from '../sqltext/lexer.js';

/**
 * What the prefetch pass (prefetch.ts) runs of a statement: whether the statement is worth it, and
 * its query part.
 */

interface Token {
  text: string;
  start: number;
  end: number;
  kind: 'ident' | 'string' | 'punct';
}

/** The statement's code tokens, names and strings told apart from everything else. */
function tokenize(sql: string): Token[] {
  return codeTokens(sql).map((t: LexToken) => ({
    text: t.text, start: t.start, end: t.end,
    kind: t.kind === 'word' || t.kind === 'quoted' ? 'ident' : t.kind === 'string' ? 'string' : 'punct',
  }));
}

/** The query a statement's collect pass runs, or null when it has none: worked out once, when the statement is prepared. */
export const prefetchQuery = (sql: string, modelCalling: ReadonlySet<string>): string | null =>
  (worthPrefetching(sql, modelCalling) ? selectPart(sql) : null);

const QUERY_START = /^(select|with|from|values)$/i;

/**
 * Functions that change state, or give another value each time, or each transaction: a statement
 * with them must not run twice, and a second run would not find the first run's answers.
 */
const SIDE_EFFECTS = new Set(['nextval', 'setval', 'random', 'setseed', 'gen_random_uuid', 'uuid', 'uuidv4', 'uuidv7',
  'now', 'current_timestamp', 'current_date', 'current_time', 'localtime', 'localtimestamp', 'get_current_timestamp',
  'get_current_time', 'transaction_timestamp', 'today', 'current_localtimestamp']);

/**
 * Whether the prefetch pass may run a statement's query part ahead of it: it calls a function that
 * sends rows to a model (in code, not in strings or comments) and nothing that changes state when
 * evaluated.
 */
export function worthPrefetching(sql: string, modelCalling: ReadonlySet<string>): boolean {
  let ai = false;
  const tokens = tokenize(sql);
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.kind !== 'ident') continue;
    const name = t.text.toLowerCase();
    if (SIDE_EFFECTS.has(name)) return false; // current_timestamp and friends need no parentheses
    if (modelCalling.has(name) && tokens[i + 1]?.text === '(') ai = true;
  }
  return ai;
}

/**
 * The query part of a statement, which the prefetch pass runs on its own: the statement itself for
 * SELECT/WITH/FROM, the query after `AS` for CREATE TABLE ... AS, the query of INSERT ... SELECT,
 * and for `UPDATE t SET c = e, ... [FROM ...] [WHERE ...]` the SELECT of the new values; null for
 * anything else.
 */
export function selectPart(sql: string): string | null {
  const tokens = tokenize(sql);
  const top = topLevel(tokens);
  const first = tokens[0]?.text.toLowerCase();
  if (!first) return null;
  if (first === '(') return unwrap(sql, tokens);
  if (first === 'select' || first === 'from') return sql;
  // WITH ... SELECT is a query; WITH ... INSERT/UPDATE/DELETE is not, and is left alone.
  if (first === 'with') return top.some(({ t }) => t.kind === 'ident' && /^(insert|update|delete)$/i.test(t.text)) ? null : sql;
  if (first === 'update') return updateAsSelect(sql, tokens);
  if (first !== 'create' && first !== 'insert') return null;
  // CREATE [OR REPLACE] [TEMP|TEMPORARY] TABLE ... AS: not views or macros, which compute nothing now.
  if (first === 'create' && !tokens.slice(1, 5).some((t) => t.text.toLowerCase() === 'table')) return null;
  if (first === 'create') {
    // CREATE TABLE t AS (query)
    const as = top.find(({ t }) => t.kind === 'ident' && t.text.toLowerCase() === 'as');
    const open = as ? tokens[as.i + 1] : undefined;
    if (open?.text === '(') return unwrap(sql.slice(open.start), tokenize(sql.slice(open.start)));
  }
  const start = top.find(({ t, i }) => i > 0 && t.kind === 'ident' && QUERY_START.test(t.text)
    && (first === 'insert' || tokens[i - 1]?.text.toLowerCase() === 'as'));
  if (!start) return null;
  // INSERT ... SELECT ... ON CONFLICT ... / RETURNING ...: the tails are not part of the query.
  const tail = top.find(({ t, i }) => i > start.i && t.kind === 'ident'
    && (/^returning$/i.test(t.text) || (/^on$/i.test(t.text) && /^conflict$/i.test(tokens[i + 1]?.text ?? ''))));
  return sql.slice(start.t.start, tail ? tail.t.start : sql.length).replace(/;\s*$/, '').trimEnd();
}

/** `( query )` as a whole statement: the query inside. */
function unwrap(sql: string, tokens: Token[]): string | null {
  const ext = bracketExtent(tokens, 0);
  if (!ext) return null;
  const rest = tokens.slice(ext.close + 1).filter((t) => t.text !== ';');
  return rest.length ? null : sql.slice(tokens[0]!.end, tokens[ext.close]!.start).trim();
}

/** Top-level tokens (outside parentheses) of a statement, with their indices. */
function topLevel(tokens: Token[]): Array<{ t: Token; i: number }> {
  const out: Array<{ t: Token; i: number }> = [];
  let depth = 0;
  tokens.forEach((t, i) => {
    if (t.text === '(' || t.text === '[') depth++;
    else if (t.text === ')' || t.text === ']') depth--;
    else if (depth === 0) out.push({ t, i });
  });
  return out;
}

function updateAsSelect(sql: string, tokens: Token[]): string | null {
  const top = topLevel(tokens);
  const word = (w: string, after = 0): Token | undefined => top.find(({ t, i }) => i > after && t.kind === 'ident' && t.text.toLowerCase() === w)?.t;
  const set = word('set');
  if (!set) return null;
  const setIndex = tokens.indexOf(set);
  const end = top.find(({ t, i }) => i > setIndex && t.kind === 'ident' && /^(from|where|returning)$/i.test(t.text))?.t;
  const assignments = sql.slice(set.end, end ? end.start : sql.length).replace(/;\s*$/, '');
  const commas = top.filter(({ t, i }) => i > setIndex && t.text === ',' && (!end || t.start < end.start)).map(({ t }) => t.start);
  const parts: string[] = [];
  let from = set.end;
  for (const c of [...commas, set.end + assignments.length]) {
    const part = sql.slice(from, c);
    const eq = part.indexOf('=');
    if (eq < 0) return null;
    parts.push(part.slice(eq + 1).trim());
    from = c + 1;
  }
  const table = sql.slice(tokens[0]!.end, set.start).trim();
  const returning = word('returning');
  const rest = end && !/^returning$/i.test(end.text) ? sql.slice(end.start, returning ? returning.start : sql.length).replace(/;\s*$/, '').trimEnd() : '';
  const fromExtra = /^from\b/i.test(rest) ? rest.replace(/^from\b/i, ',') : rest ? ` ${rest}` : '';
  return `SELECT ${parts.join(', ')} FROM ${table}${fromExtra}`;
}
