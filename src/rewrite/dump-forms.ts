import { SqlError } from '../errors/sql-error.js';
import { isWord, lex, type Token } from '../sqltext/lexer.js';
import { applyEdits, type Edit } from '../sqltext/statements.js';

/**
 * The Postgres forms of a pg_dump script (and of pg_dump's own queries) that DuckDB reads
 * differently or not at all, written as DuckDB reads the same thing:
 * - `ONLY` after TABLE, FROM, JOIN, UPDATE, TRUNCATE (DuckDB has no table inheritance, so every
 *   table is only itself);
 * - `nextval('seq'::regclass)`: DuckDB's nextval takes the name;
 * - CREATE SEQUENCE's `AS smallint | integer` (DuckDB's sequences are bigint: the type's largest
 *   value becomes MAXVALUE) and `CACHE n` (DuckDB hands out values one at a time);
 * - CREATE INDEX's `USING btree` (DuckDB's ART index serves the same lookups);
 * - `COLLATE pg_catalog."C"`: DuckDB names collations without a schema, and `"default"` is no collation;
 * - `PREPARE name(type, ...) AS`: DuckDB takes no types there, so each `$n` is cast to its type;
 * - a DuckDB macro as pg_dump writes it, a function in language sql with parameters and result of
 *   type "any" (pg_proc shows macros so): `CREATE FUNCTION f(a "any") RETURNS "any" LANGUAGE sql
 *   AS $$body$$` is the macro again (RETURNS TABLE: a table macro).
 */
export function rewriteDumpForms(sql: string): string {
  if (!TRIGGER.test(sql)) return sql;
  const tokens = lex(sql);
  const code = tokens.filter((t) => t.kind !== 'space' && t.kind !== 'comment');
  if (isWord(code[0], 'prepare') && code[2]?.text === '(') return typedPrepare(sql, code);
  if (isWord(code[0], 'create')) {
    const macro = macroOfFunction(code);
    if (macro !== null) return macro;
    refuseFunction(code);
  }
  const edits: Edit[] = [];
  const drop = (from: Token, to: Token): void => {
    edits.push({ start: from.start, end: to.end, text: ' ' });
  };
  const createSequence = isWord(code[0], 'create') && code.slice(1, 4).some((t) => isWord(t, 'sequence'));
  const createIndex = isWord(code[0], 'create') && code.slice(1, 4).some((t) => isWord(t, 'index'));
  for (let i = 0; i < code.length; i++) {
    const t = code[i]!;
    const prev = code[i - 1];
    if (isWord(t, 'only') && ONLY_AFTER.some((w) => isWord(prev, w)) && code[i + 1] && code[i + 1]!.text !== '(') {
      drop(t, t);
    } else if (isWord(t, 'nextval') && code[i + 1]?.text === '(' && code[i + 2]?.kind === 'string' && code[i + 3]?.text === '::') {
      const end = regclassEnd(code, i + 4);
      if (end !== null && code[end + 1]?.text === ')') drop(code[i + 3]!, code[end]!);
    } else if (createSequence && isWord(t, 'as') && code[i + 1]?.kind === 'word') {
      const max = SEQUENCE_TYPE_MAX[code[i + 1]!.text.toLowerCase()];
      if (max === undefined) continue;
      const noMaxValue = code.findIndex((c, k) => isWord(c, 'no') && isWord(code[k + 1], 'maxvalue'));
      const explicitMax = code.some((c, k) => isWord(c, 'maxvalue') && !isWord(code[k - 1], 'no'));
      const descending = code.some((c, k) => isWord(c, 'increment') && /^-/.test(code[k + (isWord(code[k + 1], 'by') ? 2 : 1)]?.text ?? ''));
      edits.push({ start: t.start, end: code[i + 1]!.end, text: explicitMax || descending || max === null ? ' ' : ` MAXVALUE ${max}` });
      if (noMaxValue >= 0 && !explicitMax && !descending && max !== null) drop(code[noMaxValue]!, code[noMaxValue + 1]!);
      i++;
    } else if (createSequence && isWord(t, 'cache') && code[i + 1]?.kind === 'number') {
      drop(t, code[i + 1]!);
      i++;
    } else if (createIndex && isWord(t, 'using') && isWord(code[i + 1], 'btree')) {
      drop(t, code[i + 1]!);
      i++;
    } else if (isWord(t, 'collate')) {
      const schema = isWord(code[i + 1], 'pg_catalog') && code[i + 2]?.text === '.' ? 2 : 0;
      const name = code[i + 1 + schema];
      if (name && /^"?default"?$/i.test(name.text)) drop(t, name);
      else if (schema) drop(code[i + 1]!, code[i + 2]!);
    }
  }
  return edits.length ? applyEdits(sql, edits) : sql;
}

const TRIGGER = /\bonly\b|nextval|\bsequence\b|\bbtree\b|\bcollate\b|\bprepare\b|\bfunction\b/i;
const ONLY_AFTER = ['table', 'from', 'join', 'update', 'truncate'];
/** The largest value of the types a Postgres sequence may be (null: bigint, DuckDB's own). */
const SEQUENCE_TYPE_MAX: Readonly<Record<string, string | null>> = {
  smallint: '32767', int2: '32767', integer: '2147483647', int: '2147483647', int4: '2147483647', bigint: null, int8: null,
};

/** The last token of `[pg_catalog.]regclass` starting at code[i], or null. */
function regclassEnd(code: readonly Token[], i: number): number | null {
  if (isWord(code[i], 'pg_catalog') && code[i + 1]?.text === '.') i += 2;
  return isWord(code[i], 'regclass') ? i : null;
}


/** `PREPARE name(t1, t2) AS query` as `PREPARE name AS query` with `$1` read as `CAST($1 AS t1)`. */
function typedPrepare(sql: string, code: readonly Token[]): string {
  const close = code.findIndex((t, i) => i > 2 && t.text === ')');
  if (close < 0 || !isWord(code[close + 1], 'as')) return sql;
  const types: string[] = [];
  let current: Token[] = [];
  for (const t of [...code.slice(3, close), { text: ',' } as Token]) {
    if (t.text !== ',') {
      current.push(t);
      continue;
    }
    const text = current.map((c) => c.text).join(' ').replace(/^pg_catalog\s*\.\s*/i, '');
    types.push(/^oid$/i.test(text) ? 'INTEGER' : text);
    current = [];
  }
  const body = lex(sql.slice(code[close + 1]!.end)).map((t) => {
    const type = t.kind === 'param' ? types[Number(t.text.slice(1)) - 1] : undefined;
    return type ? `CAST(${t.text} AS ${type})` : t.text;
  }).join('');
  return `PREPARE ${code[1]!.text} AS${body}`;
}

/** CREATE [OR REPLACE] FUNCTION of a macro as pg_dump writes it (see rewriteDumpForms), as CREATE MACRO; otherwise null. */
function macroOfFunction(code: readonly Token[]): string | null {
  let i = 1;
  const replace = isWord(code[i], 'or') && isWord(code[i + 1], 'replace');
  if (replace) i += 2;
  if (!isWord(code[i], 'function')) return null;
  const open = code.findIndex((t) => t.text === '(');
  const close = code.findIndex((t, k) => k > open && t.text === ')');
  if (open < 0 || close < 0 || !isWord(code[close + 1], 'returns')) return null;
  const name = code.slice(i + 1, open).map((t) => t.text).join('');
  const params: string[] = [];
  for (let k = open + 1; k < close; k += 3) {
    if (code[k + 1]?.text !== '"any"' || (code[k + 2]?.text !== ',' && k + 2 !== close)) return null;
    params.push(code[k]!.text);
  }
  const table = isWord(code[close + 2], 'table');
  if (!table && code[close + 2]?.text !== '"any"') return null;
  const body = code[code.length - 1];
  if (!isWord(code[code.length - 2], 'as') || body?.kind !== 'string' || !code.some((t, k) => isWord(t, 'language') && isWord(code[k + 1], 'sql'))) return null;
  const text = body.text.startsWith("'") ? body.text.slice(1, -1).replace(/''/g, "'") : body.text.replace(/^\$[^$]*\$|\$[^$]*\$$/g, '');
  return `CREATE ${replace ? 'OR REPLACE ' : ''}MACRO ${name}(${params.join(', ')}) AS ${table ? 'TABLE ' : ''}${text}`;
}

/**
 * A function in Postgres' form (`RETURNS`, `LANGUAGE`) that is not a macro: aiduck's functions are
 * DuckDB macros, expressions without types, which no Postgres function body becomes as it is.
 * (DuckDB's own `CREATE FUNCTION f(a) AS expr`, a macro, has neither word.)
 */
function refuseFunction(code: readonly Token[]): void {
  const at = isWord(code[1], 'or') && isWord(code[2], 'replace') ? 3 : 1;
  if (!isWord(code[at], 'function') && !isWord(code[at], 'procedure')) return;
  if (!code.some((t) => isWord(t, 'returns') || isWord(t, 'language'))) return;
  throw new SqlError('0A000', `CREATE ${code[at]!.text.toUpperCase()} in Postgres' form is not supported: aiduck's functions are DuckDB macros`,
    'write it as CREATE MACRO name(a, b) AS expression, or AS TABLE query');
}
