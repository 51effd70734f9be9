/** One parameter of a macro's declaration: `model VARCHAR`, `request`, `k := 10`, `scale INTEGER := 3`. */
export interface Parameter {
  name: string;
  /** The DuckDB type when the declaration fixes one. */
  type: string | null;
  /** The default's SQL text; null for a parameter that must be given. */
  defaultSql: string | null;
}

/** The top-level pieces of a list, split at commas outside brackets and quotes. */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quote: string | null = null;
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === quote) quote = null;
    } else if (c === "'" || c === '"') quote = c;
    else if ('([{'.includes(c)) depth++;
    else if (')]}'.includes(c)) depth--;
    else if (c === ',' && depth === 0) {
      parts.push(text.slice(from, i));
      from = i + 1;
    }
  }
  parts.push(text.slice(from));
  return parts.map((p) => p.trim()).filter((p) => p.length > 0);
}

/** The parameters of a macro declaration (what goes between the parentheses of CREATE MACRO f(...)). */
export function parseSignature(signature: string): Parameter[] {
  return splitTopLevel(signature).map((part) => {
    const at = part.indexOf(':=');
    const head = (at < 0 ? part : part.slice(0, at)).trim();
    const [name = '', ...type] = head.split(/\s+/);
    return { name, type: type.length ? type.join(' ') : null, defaultSql: at < 0 ? null : part.slice(at + 2).trim() };
  });
}

/** How a call is written, for messages: `ai_query(model, request, modelParameters =>, ...)`. */
export function usage(name: string, params: readonly Parameter[]): string {
  return `${name}(${params.map((p) => (p.defaultSql === null ? p.name : `${p.name} =>`)).join(', ')})`;
}

/**
 * The declaration DuckDB creates the macro with: names and defaults, no types (a persistent database
 * of an older storage version cannot hold typed macro parameters; the types are for \df and help).
 */
export const macroDeclaration = (params: readonly Parameter[]): string =>
  params.map((p) => (p.defaultSql === null ? p.name : `${p.name} := ${p.defaultSql}`)).join(', ');

/** Postgres' names of the DuckDB types parameters are declared with. */
const PG_TYPES: Readonly<Record<string, string>> = {
  VARCHAR: 'text', BOOLEAN: 'boolean', INTEGER: 'integer', BIGINT: 'bigint', DOUBLE: 'double precision', FLOAT: 'real',
};

function pgTypeName(duck: string | null): string {
  if (duck === null) return '"any"';
  const list = duck.endsWith('[]');
  const base = PG_TYPES[list ? duck.slice(0, -2) : duck];
  return base ? `${base}${list ? '[]' : ''}` : '"any"';
}

/** The arguments as Postgres' pg_get_function_arguments writes them: `model text, k bigint DEFAULT 10`. */
export const pgArguments = (params: readonly Parameter[]): string =>
  params.map((p) => `${p.name} ${pgTypeName(p.type)}${p.defaultSql === null ? '' : ` DEFAULT ${p.defaultSql}`}`).join(', ');
