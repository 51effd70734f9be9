import { lex } from '../sqltext/lexer.js';

/**
 * Rewrites Postgres-specific SQL that clients send (catalog queries of psql, pgJDBC, psycopg) into
 * SQL DuckDB accepts. Statements that need no change come back unchanged.
 *
 * The catalog itself (pg_class, pg_attribute, pg_type, format_type, ...) is a set of temporary
 * views and macros made by sql/session.sql; they shadow DuckDB's pg_catalog on the search path.
 * DuckDB refuses objects in pg_catalog, so this layer drops the `pg_catalog.` qualifier and turns
 * the syntax DuckDB lacks into calls of those macros:
 * - `OPERATOR(pg_catalog.~)` becomes `~`, and `COLLATE pg_catalog.default` goes away;
 * - `~`, `!~`, `~*`, `!~*` search (DuckDB's `~` must match the whole string);
 * - `'name'::regclass`, `::regtype`, `::regnamespace` look the OID up, `oid::regclass` etc. give the name;
 *   `::name` is text.
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
  // `x = ANY (column)` over an outer query's array is a correlated UNNEST, which DuckDB cannot run.
  code = code.replace(new RegExp(`(${MARKED}|\\b[A-Za-z_][\\w$]*(?:\\.[A-Za-z_][\\w$]*)?)\\s*=\\s*ANY\\s*\\(\\s*([A-Za-z_][\\w$]*(?:\\.[A-Za-z_][\\w$]*)*)\\s*\\)`, 'gi'),
    (_all, lhs: string, _mark: string, list: string) => `list_contains(${list}, ${lhs})`);
  code = code.replace(/\bpg_catalog\s*\.\s*/gi, '');
  code = rewriteRegexOperators(code, quoted);
  code = nameSeriesColumns(code);
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
  const cast = new RegExp(`${OPERAND}\\s*::\\s*(?:pg_catalog\\s*\\.\\s*)?(regclass|regtype|regproc|regprocedure|regnamespace|regrole|name)\\b${TEXT_CAST}`, 'gi');
  return code.replace(cast, (_all, operand: string, _mark: string, type: string) => {
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
        // pg_type.typinput and friends hold bare function names.
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
    let depth = 1;
    let i = m.index + m[0].length;
    for (; i < code.length && depth > 0; i++) {
      if (code[i] === '(') depth++;
      else if (code[i] === ')') depth--;
    }
    const alias = /^(\s+(?:AS\s+)?)([A-Za-z_][\w$]*)(?!\s*\()/i.exec(code.slice(i));
    if (!alias || /^(as|where|on|join|left|right|inner|cross|order|group|limit|union|with)$/i.test(alias[2]!)) continue;
    const end = i + alias[0].length;
    out += code.slice(last, end) + `(${alias[2]})`;
    last = end;
    call.lastIndex = end;
  }
  return out + code.slice(last);
}
