import { lex } from '../sqltext/lexer.js';

/**
 * Rewrites Postgres-specific SQL that clients send (catalog queries of psql, pgJDBC, psycopg) into
 * SQL DuckDB accepts. Statements that need no change come back unchanged.
 *
 * The catalog itself (pg_class, pg_attribute, pg_type, format_type, ...) is a set of temporary
 * views and macros made by sql/pg-catalog.sql; they shadow DuckDB's pg_catalog on the search path.
 * DuckDB refuses objects in pg_catalog, so this layer drops the `pg_catalog.` qualifier and turns
 * the syntax DuckDB lacks into calls of those macros:
 * - `OPERATOR(pg_catalog.~)` becomes `~`, and `COLLATE pg_catalog.default` goes away;
 * - `~`, `!~`, `~*`, `!~*` search (DuckDB's `~` must match the whole string);
 * - `'name'::regclass`, `::regtype`, `::regnamespace` look the OID up, `oid::regclass` etc. give the name;
 *   `::name` is text;
 * - pg_index's int2vectors take subscripts from 0 and cast to text as space-separated numbers;
 * - `information_schema._pg_expandarray` is the catalog's macro of that name.
 */
export function rewritePgCatalog(sql: string): string {
  if (!TRIGGER.test(sql)) return sql;
  return rewriteCatalogQuery(sql);
}

// Only statements that mention the Postgres catalog or its types are touched; user SQL is not.
const TRIGGER = /pg_catalog|\bpg_[a-z]|::\s*(?:"?reg|name\b)|OPERATOR\s*\(/i;
const CATALOG_FUNCTION = /\b(?:format_type|current_schemas|array_upper|array_lower|quote_ident|session_user|txid_current)\s*\(/i;

/** Whether a statement needs the Postgres catalog views and macros of sql/pg-catalog.sql. */
export function needsPgCatalog(sql: string): boolean {
  return TRIGGER.test(sql) || CATALOG_FUNCTION.test(sql);
}

// Quoted text and comments are swapped for markers while the code around them is rewritten.
const MARK = '\u0001';
const MARKED = `${MARK}(\\d+)${MARK}`;

function rewriteCatalogQuery(sql: string): string {
  const quoted: string[] = [];
  let code = '';
  for (const t of lex(sql)) {
    if (t.kind !== 'string' && t.kind !== 'quoted' && t.kind !== 'comment') code += t.text;
    else if (t.text === '"pg_catalog"') code += 'pg_catalog';
    else {
      quoted.push(t.text);
      code += `${MARK}${quoted.length - 1}${MARK}`;
    }
  }
  const textOf = (marker: string): string => quoted[Number(marker.slice(1, -1))] ?? '';

  code = code.replace(/OPERATOR\s*\(\s*(?:pg_catalog\s*\.\s*)?([^\s)]+)\s*\)/gi, ' $1 ');
  code = code.replace(new RegExp(`\\s+COLLATE\\s+(?:pg_catalog\\s*\\.\\s*)?(default\\b|${MARKED})`, 'gi'), (all, name: string) =>
    /^default$/i.test(name) || /^"(default|C|POSIX)"$/.test(textOf(name)) ? '' : all);
  code = rewriteCasts(code, quoted);
  // Postgres' oid is unsigned 32-bit; DuckDB reads `::oid` as BIGINT, which drivers get as int8.
  code = code.replace(/::\s*(?:pg_catalog\s*\.\s*)?oid\b/gi, '::INTEGER');
  // `x = ANY (column)` over an outer query's array is a correlated UNNEST, which DuckDB cannot run;
  // `x = ANY ($1)` with an array parameter (pgcli) is an UNNEST DuckDB refuses in WHERE.
  code = code.replace(new RegExp(`(${MARKED}|\\b[A-Za-z_][\\w$]*(?:\\.[A-Za-z_][\\w$]*)?)\\s*=\\s*ANY\\s*\\(\\s*([A-Za-z_][\\w$]*(?:\\.[A-Za-z_][\\w$]*)*|\\$\\d+)\\s*\\)`, 'gi'),
    (_all, lhs: string, _mark: string, list: string) => `list_contains(${list}, ${lhs})`);
  code = rewriteInt2Vectors(code);
  code = code.replace(/\bpg_catalog\s*\.\s*/gi, '');
  // DuckDB's information_schema is its own; pgJDBC's key queries call this Postgres helper from it.
  code = code.replace(/\binformation_schema\s*\.\s*(_pg_expandarray)\b/gi, '$1');
  code = rewriteRegexOperators(code, quoted);
  code = nameSeriesColumns(code);
  code = unnestSeriesInSelectLists(code);
  code = selectFromPartitionAncestors(code);
  return code.replace(new RegExp(MARKED, 'g'), (m) => textOf(m));
}

// An operand directly before `::`: a quoted literal (maybe E'...'), a parameter, or a column path.
const OPERAND = `((?:\\b[Ee])?${MARKED}|\\$\\d+|\\b\\d+\\b|\\b[A-Za-z_][\\w$]*(?:\\s*\\.\\s*[A-Za-z_][\\w$]*)*)`;
const TEXT_CAST = '(?:\\s*::\\s*(?:pg_catalog\\s*\\.\\s*)?(?:text|varchar|name)\\b)?';

function rewriteCasts(code: string, quoted: string[]): string {
  // Postgres array literals, '{a,b}'::text[], in DuckDB's list syntax.
  code = code.replace(new RegExp(`${MARKED}(\\s*::\\s*[A-Za-z_][\\w.]*\\s*\\[\\])`, 'g'), (match, index: string) => {
    const text = quoted[Number(index)] ?? '';
    if (/^'\{.*\}'$/s.test(text)) quoted[Number(index)] = `'[${text.slice(2, -2)}]'`;
    return match;
  });
  code = castCallsToRegclass(code);
  code = compareRegtypes(code);
  code = castArraysToRegtypes(code);
  const cast = new RegExp(`${OPERAND}\\s*::\\s*(?:pg_catalog\\s*\\.\\s*)?(regclass|regtype|regproc|regprocedure|regnamespace|regrole|name)\\b${TEXT_CAST}`, 'gi');
  return code.replace(cast, (all: string, operand: string, _mark: string, type: string, offset: number) => {
    const isLiteral = operand.includes(MARK) || operand.startsWith('$');
    switch (type.toLowerCase()) {
      case 'regclass':
        return isLiteral ? `aiduck_regclass(${operand})` : `aiduck_regclass_name(${operand})`;
      case 'regtype':
        return isLiteral ? `aiduck_regtype(${operand})` : `format_type(${operand}, NULL)`;
      case 'regnamespace':
        return isLiteral ? `aiduck_regnamespace(${operand})` : `aiduck_regnamespace_name(${operand})`;
      case 'regrole':
        return isLiteral ? '10' : `pg_get_userbyid(${operand})`;
      case 'regproc':
      case 'regprocedure':
        // A function's OID ('name'::regproc::oid, psql's \sf); otherwise pg_type.typinput and friends hold bare names.
        if (isLiteral && /^\s*::\s*(?:pg_catalog\s*\.\s*)?oid\b/i.test(code.slice(offset + all.length))) return `aiduck_regproc(${operand})`;
        if (operand.includes(MARK)) {
          const index = Number(new RegExp(MARKED).exec(operand)![1]);
          quoted[index] = quoted[index]!.replace(/^'pg_catalog\./, "'");
        }
        return operand;
      default:
        return `CAST(${operand} AS VARCHAR)`;
    }
  });
}

/**
 * Postgres' regex operators find the pattern anywhere in the string; DuckDB's `~` must match all
 * of it, and DuckDB has no `~*`. Wrapping the pattern as `.*(?:p).*` gives the Postgres meaning.
 */
function rewriteRegexOperators(code: string, quoted: string[]): string {
  const op = new RegExp(`(^|[^~!])(!?)~(\\*?)(?![~*])(\\s*)((?:\\b[Ee])?${MARKED}|\\$\\d+|[A-Za-z_][\\w$]*(?:\\.[A-Za-z_][\\w$]*)*)`, 'g');
  return code.replace(op, (_all, before: string, not: string, star: string, space: string, rhs: string) => {
    const flags = star ? '(?is)' : '(?s)';
    const m = new RegExp(MARKED).exec(rhs);
    const literal = m ? quoted[Number(m[1])] : undefined;
    if (literal !== undefined && literal.startsWith("'")) {
      quoted[Number(m![1])] = `'${flags}.*(?:${literal.slice(1, -1)}).*'`;
      return `${before}${not}~${space}${rhs}`;
    }
    return `${before}${not}~${space}('${flags}.*(?:' || ${rhs} || ').*')`;
  });
}

/**
 * `FROM generate_series(...) s` names a column `s` in Postgres (a function returning a scalar);
 * in DuckDB `s` is the row. Adding the column alias, `s(s)`, gives Postgres' meaning.
 */
function nameSeriesColumns(code: string): string {
  const call = /\bgenerate_series\s*\(/gi;
  let out = '';
  let last = 0;
  for (let m = call.exec(code); m; m = call.exec(code)) {
    if (clauseBefore(code, m.index) === 'SELECT') continue;
    let depth = 1;
    let i = m.index + m[0].length;
    for (; i < code.length && depth > 0; i++) {
      if (code[i] === '(') depth++;
      else if (code[i] === ')') depth--;
    }
    const alias = /^(\s+(?:AS\s+)?)([A-Za-z_][\w$]*)(?![\w$]|\s*\()/i.exec(code.slice(i));
    if (!alias || /^(as|where|on|join|left|right|inner|cross|order|group|limit|union|with)$/i.test(alias[2]!)) continue;
    const end = i + alias[0].length;
    out += code.slice(last, end) + `(${alias[2]})`;
    last = end;
    call.lastIndex = end;
  }
  return out + code.slice(last);
}

// pg_index's int2vector columns (in sql/pg-catalog.sql they are lists, whose subscripts start at 1).
const INT2VECTOR = String.raw`\b((?:[A-Za-z_][\w$]*\s*\.\s*)?(?:indkey|indoption|indclass|indcollation))`;

/**
 * Postgres' int2vector subscripts start at 0 (psqlODBC's `i.indkey[ia.attnum-1]`) and its text form
 * is the numbers separated by spaces (SQLAlchemy's `ix.indkey::varchar`); pg_index holds lists.
 */
function rewriteInt2Vectors(code: string): string {
  // Selected as is, an int2vector must go out typed int2vector (psqlODBC parses only that type and
  // misreads anything else, up to a crash): wrapped in the marker the column codec sends as OID 22.
  code = code.replace(new RegExp(String.raw`((?:\bSELECT\b|,)\s*)((?:[A-Za-z_][\w$]*\s*\.\s*)?(indkey|indoption))(?=\s*(?:,|\bFROM\b))`, 'gi'),
    (_all, before: string, column: string, name: string) => `${before}aiduck_int2vector_out(${column}) AS ${name.toLowerCase()}`);
  code = code.replace(new RegExp(`${INT2VECTOR}\\s*::\\s*(?:pg_catalog\\s*\\.\\s*)?(?:varchar|text)\\b`, 'gi'),
    (_all, column: string) => `array_to_string(${column}, ' ')`);
  const subscript = new RegExp(`${INT2VECTOR}\\s*\\[`, 'gi');
  let out = '';
  let last = 0;
  for (let m = subscript.exec(code); m; m = subscript.exec(code)) {
    let depth = 1;
    let i = m.index + m[0].length;
    for (; i < code.length && depth > 0; i++) {
      if (code[i] === '[') depth++;
      else if (code[i] === ']') depth--;
    }
    if (depth > 0) break;
    const index = code.slice(m.index + m[0].length, i - 1);
    out += `${code.slice(last, m.index)}${m[1]}[(${index}) + 1]`;
    last = i;
    subscript.lastIndex = i;
  }
  return out + code.slice(last);
}

/**
 * psql's "Referenced by" calls the set-returning pg_partition_ancestors in a select list
 * (`SELECT pg_partition_ancestors('16385')`); it is a table macro here, so it moves to FROM.
 */
function selectFromPartitionAncestors(code: string): string {
  return code.replace(/\bSELECT\s+pg_partition_ancestors\s*\(([^()]*)\)/gi, 'SELECT relid FROM pg_partition_ancestors($1)');
}

/**
 * A function's result cast to regclass is a relation's name, looked up like a literal
 * (SQLAlchemy's `pg_get_serial_sequence(...)::regclass`).
 */
function castCallsToRegclass(code: string): string {
  const cast = /\)\s*::\s*(?:pg_catalog\s*\.\s*)?regclass\b/gi;
  for (let m = cast.exec(code); m; m = cast.exec(code)) {
    let depth = 1;
    let i = m.index - 1;
    for (; i >= 0 && depth > 0; i--) {
      if (code[i] === ')') depth++;
      else if (code[i] === '(') depth--;
    }
    const name = /([A-Za-z_][\w$]*(?:\s*\.\s*[A-Za-z_][\w$]*)?)\s*$/.exec(code.slice(0, i + 1));
    if (depth > 0 || !name) continue;
    const start = i + 1 - name[0].length;
    const replacement = `aiduck_regclass(${code.slice(start, m.index + 1)})`;
    code = code.slice(0, start) + replacement + code.slice(m.index + m[0].length);
    cast.lastIndex = start + replacement.length;
  }
  return code;
}

/**
 * In a select list Postgres' generate_series returns rows (psqlODBC's SQLForeignKeys numbers key
 * columns so); DuckDB's scalar generate_series returns one list. The clause a call is in is the
 * nearest SELECT, FROM, JOIN, ... before it at the same parenthesis depth.
 */
function unnestSeriesInSelectLists(code: string): string {
  const call = /\bgenerate_series\s*\(/gi;
  const starts: number[] = [];
  for (let m = call.exec(code); m; m = call.exec(code)) {
    if (clauseBefore(code, m.index) === 'SELECT') starts.push(m.index);
  }
  for (const start of starts.reverse()) {
    let depth = 0;
    let end = code.indexOf('(', start);
    for (; end < code.length; end++) {
      if (code[end] === '(') depth++;
      else if (code[end] === ')' && --depth === 0) break;
    }
    if (depth !== 0) continue;
    code = `${code.slice(0, start)}unnest(${code.slice(start, end + 1)})${code.slice(end + 1)}`;
  }
  return code;
}

const CLAUSE = /^(SELECT|FROM|JOIN|WHERE|ON|GROUP|ORDER|HAVING|LIMIT|USING)$/i;

function clauseBefore(code: string, at: number): string | undefined {
  let depth = 0;
  for (let i = at - 1; i >= 0; i--) {
    const ch = code[i]!;
    if (ch === ')') depth++;
    else if (ch === '(') {
      if (depth === 0) return undefined;
      depth--;
    } else if (depth === 0 && /[A-Za-z]/.test(ch) && !/[\w$]/.test(code[i - 1] ?? ' ')) {
      const word = /^[A-Za-z_]+/.exec(code.slice(i))![0];
      if (CLAUSE.test(word)) return word.toUpperCase();
    }
  }
  return undefined;
}

/**
 * `col::regtype != 'trigger'::regtype` compares types (pgcli's function list): both sides become
 * OIDs, where a lone `col::regtype` is the type's name.
 */
function compareRegtypes(code: string): string {
  const regtype = String.raw`\s*::\s*(?:pg_catalog\s*\.\s*)?regtype\b`;
  const compare = new RegExp(String.raw`(\b[A-Za-z_][\w$]*(?:\s*\.\s*[A-Za-z_][\w$]*)?)${regtype}\s*(=|!=|<>)\s*(${MARKED})${regtype}`, 'gi');
  return code.replace(compare, (_all, column: string, op: string, literal: string) => `${column} ${op} aiduck_regtype(${literal})`);
}

/** `col::regtype[]`, a list of type OIDs as type names (pgcli's `proargtypes::regtype[]`). */
function castArraysToRegtypes(code: string): string {
  return code.replace(/(\b[A-Za-z_][\w$]*(?:\s*\.\s*[A-Za-z_][\w$]*)?)\s*::\s*(?:pg_catalog\s*\.\s*)?regtype\s*\[\s*\]/gi,
    (_all, column: string) => `list_transform(${column}, type_oid_ -> aiduck_builtin_type_name(type_oid_))`);
}
