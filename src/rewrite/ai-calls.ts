import { SqlError } from '../errors/sql-error.js';
import { quoteIdent, sqlString } from '../sqltext/quote.js';
import { codeTokens } from '../sqltext/lexer.js';
import { structureOf } from '../../udfs/ai_query/response-format.js';

interface Token {
  text: string;
  start: number;
  end: number;
  kind: 'ident' | 'string' | 'punct';
}

/** The statement's code tokens, as this pass reads them: names, strings, and everything else as punctuation. */
function tokenize(sql: string): Token[] {
  return codeTokens(sql).map((t) => ({
    text: t.text, start: t.start, end: t.end,
    kind: t.kind === 'word' || t.kind === 'quoted' ? 'ident' : t.kind === 'string' ? 'string' : 'punct',
  }));
}

/** The index of the `)` closing the `(` at `open`, and the index of each top-level `,`. */
function callExtent(tokens: Token[], open: number): { close: number; commas: number[] } | null {
  let depth = 0;
  const commas: number[] = [];
  for (let i = open; i < tokens.length; i++) {
    const t = tokens[i]!.text;
    if (t === '(' || t === '[' || t === '{') depth++;
    else if (t === ')' || t === ']' || t === '}') {
      depth--;
      if (depth === 0) return { close: i, commas };
    } else if (t === ',' && depth === 1) commas.push(i);
  }
  return null;
}

/** Calls of a function in code (not in strings or comments): where each is and its argument text. */
export function findCalls(sql: string, name: string): Array<{ start: number; end: number; args: string }> {
  const tokens = tokenize(sql);
  const out: Array<{ start: number; end: number; args: string }> = [];
  tokens.forEach((t, i) => {
    if (t.kind !== 'ident' || t.text.toLowerCase() !== name || tokens[i + 1]?.text !== '(' || tokens[i - 1]?.text === '.') return;
    const ext = callExtent(tokens, i + 1);
    if (ext) out.push({ start: t.start, end: tokens[ext.close]!.end, args: sql.slice(tokens[i + 1]!.end, tokens[ext.close]!.start) });
  });
  return out;
}

const unquote = (s: string): string => s.slice(1, -1).replace(/''/g, "'");

const MENTIONS = /ai_embed|ai_query|named_struct/i;

/**
 * Rewrites of AI function calls that DuckDB macros cannot express, each applied only where the
 * argument is a literal:
 * - in `ai_query(...)`, `responseFormat => 'STRUCT<...>'` (or a JSON schema) becomes a from_json
 *   structure, and the structure of the whole answer (wrapped in {result, errorMessage} when
 *   `failOnError => false`) is passed as `__structure`, the constant from_json needs, so the
 *   answer is a typed STRUCT;
 * - `named_struct('k', v, ...)` (Databricks) becomes `struct_pack("k" := v, ...)`;
 * - `ai_embed('model', x)` is cast to FLOAT[dimension of that model], the fixed-size array type
 *   array_cosine_similarity takes.
 */
export function rewriteAiCalls(sql: string, dimensionOf: (model: string) => number | null): string {
  if (!MENTIONS.test(sql)) return sql;
  const tokens = tokenize(sql);
  const edits: Array<{ start: number; end: number; text: string }> = [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.kind !== 'ident') continue;
    const name = t.text.toLowerCase();
    const next = tokens[i + 1];
    if (name === 'ai_query' && next?.text === '(' && tokens[i - 1]?.text !== '.') {
      const ext = callExtent(tokens, i + 1);
      if (!ext) continue;
      // Named arguments at the call's top level: `name => value` right after `(` or a `,`.
      let structure: unknown = 'VARCHAR';
      let failOnError = true;
      let named = false;
      for (const at of [i + 1, ...ext.commas]) {
        const arg = tokens[at + 1];
        const op = tokens[at + 2]?.text;
        const value = tokens[at + 3];
        if (!arg || arg.kind !== 'ident' || (op !== '=>' && op !== ':=') || !value) continue;
        const argName = arg.text.toLowerCase();
        if (argName === 'responseformat' && value.kind === 'string') {
          structure = structureOf(unquote(value.text));
          edits.push({ start: value.start, end: value.end, text: sqlString(JSON.stringify(structure)) });
          named = true;
        } else if (argName === 'failonerror') {
          const next = tokens[at + 4]?.text;
          if (!/^(true|false)$/i.test(value.text) || (next !== ',' && next !== ')')) {
            throw new SqlError('22023', 'failOnError must be written as true or false', 'the shape of ai_query\'s answer depends on it, so it cannot come from an expression');
          }
          failOnError = value.text.toLowerCase() === 'true';
          named = true;
        }
      }
      if (named) {
        const shape = failOnError ? structure : { result: structure, errorMessage: 'VARCHAR' };
        const close = tokens[ext.close]!;
        edits.push({ start: close.start, end: close.start, text: `, __structure := ${sqlString(JSON.stringify(shape))}` });
      }
    } else if (name === 'named_struct' && next?.text === '(') {
      const ext = callExtent(tokens, i + 1);
      if (!ext) continue;
      const bounds = [i + 1, ...ext.commas, ext.close];
      const args: string[] = [];
      for (let a = 0; a + 1 < bounds.length; a++) args.push(sql.slice(tokens[bounds[a]!]!.end, tokens[bounds[a + 1]!]!.start).trim());
      if (args.length % 2 !== 0 || args.some((a, k) => k % 2 === 0 && !/^'(?:[^']|'')*'$/.test(a))) continue;
      const fields: string[] = [];
      // Values may hold further calls (a nested named_struct): they are rewritten on their own.
      for (let k = 0; k < args.length; k += 2) fields.push(`${quoteIdent(unquote(args[k]!))} := ${rewriteAiCalls(args[k + 1]!, dimensionOf)}`);
      edits.push({ start: t.start, end: tokens[ext.close]!.end, text: `struct_pack(${fields.join(', ')})` });
      i = ext.close;
    } else if (name === 'ai_embed' && next?.text === '(' && tokens[i + 2]?.kind === 'string' && tokens[i + 3]?.text === ',') {
      const prev = tokens[i - 1];
      if (prev && (prev.text === '.' || /^(macro|function)$/i.test(prev.text))) continue;
      const dim = dimensionOf(unquote(tokens[i + 2]!.text));
      const ext = callExtent(tokens, i + 1);
      if (!dim || !ext) continue;
      edits.push({ start: t.start, end: t.start, text: 'CAST(' });
      edits.push({ start: tokens[ext.close]!.end, end: tokens[ext.close]!.end, text: ` AS FLOAT[${dim}])` });
    }
  }
  if (!edits.length) return sql;
  let out = sql;
  for (const e of edits.sort((a, b) => b.start - a.start || b.end - a.end)) out = out.slice(0, e.start) + e.text + out.slice(e.end);
  return out;
}

const QUERY_START = /^(select|with|from|values)$/i;

const AI_FUNCTIONS = new Set(['ai_query', 'ai_embed', 'ai_classify', 'ai_classify_scores', 'ai_similarity', 'ai_summarize',
  'ai_translate', 'ai_analyze_sentiment', 'ai_extract', 'ai_judge']);
/**
 * Functions that change state, or give another value each time, or each transaction: a statement
 * with them must not run twice, and a second run would not find the first run's answers.
 */
const SIDE_EFFECTS = new Set(['nextval', 'setval', 'random', 'setseed', 'gen_random_uuid', 'uuid', 'uuidv4', 'uuidv7',
  'now', 'current_timestamp', 'current_date', 'current_time', 'localtime', 'localtimestamp', 'get_current_timestamp',
  'get_current_time', 'transaction_timestamp', 'today', 'current_localtimestamp']);

/**
 * Whether the prefetch pass may run a statement's query part ahead of it: it calls AI functions
 * (in code, not in strings or comments) and nothing that changes state when evaluated.
 */
export function worthPrefetching(sql: string): boolean {
  let ai = false;
  const tokens = tokenize(sql);
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.kind !== 'ident') continue;
    const name = t.text.toLowerCase();
    if (SIDE_EFFECTS.has(name)) return false; // current_timestamp and friends need no parentheses
    if (AI_FUNCTIONS.has(name) && tokens[i + 1]?.text === '(') ai = true;
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
  const ext = callExtent(tokens, 0);
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
