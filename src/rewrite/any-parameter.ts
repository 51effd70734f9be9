import type { ParameterTypes } from './untyped-literals.js';
import { codeTokens, type Token } from '../sqltext/lexer.js';
import { applyEdits, type Edit } from '../sqltext/statements.js';

const COMPARISON = new Set(['=', '<>', '!=', '<', '>', '<=', '>=']);
const QUANTIFIER = /^(any|some|all)$/i;

/**
 * `id = ANY($1)` with an array parameter (node-postgres, postgres.js, pgJDBC and psycopg send a list
 * this way): DuckDB cannot tell the parameter's type from `ANY(...)` alone and refuses the statement.
 * DuckDB is asked what a list of the left operand is (`ANY(CASE WHEN false THEN [id] ELSE $1 END)`
 * types `$1`), and the parameter is cast to that: `id = ANY(CAST($1 AS INTEGER[]))`, which reads the
 * list the driver sends whatever its element type. Only a plain left operand — a column, a qualified
 * column, a parameter or a literal — is asked about; anything else is left as it was.
 */
export async function typeAnyParameters(sql: string, parameterTypes: ParameterTypes): Promise<string> {
  if (!/\b(any|some|all)\s*\(\s*\$\d/i.test(sql)) return sql;
  const tokens = codeTokens(sql);
  const found: Array<{ param: Token; lhs: string }> = [];
  tokens.forEach((t, i) => {
    if (t.kind !== 'word' || !QUANTIFIER.test(t.text) || tokens[i + 1]?.text !== '(' || tokens[i + 2]?.kind !== 'param' || tokens[i + 3]?.text !== ')') return;
    if (!COMPARISON.has(tokens[i - 1]?.text ?? '')) return;
    const lhs = plainOperandBefore(tokens, i - 1);
    if (lhs) found.push({ param: tokens[i + 2]!, lhs: sql.slice(lhs.start, lhs.end) });
  });
  if (!found.length) return sql;
  const probe = applyEdits(sql, found.map(({ param, lhs }) => ({ start: param.start, end: param.end, text: `CASE WHEN false THEN [${lhs}] ELSE ${param.text} END` })));
  const types = await parameterTypes(probe, 1);
  if (!types) return sql;
  const edits: Edit[] = [];
  for (const { param } of found) {
    const type = types[Number(param.text.slice(1)) - 1];
    if (type && /\[\]$/.test(type.toString())) edits.push({ start: param.start, end: param.end, text: `CAST(${param.text} AS ${type.toString()})` });
  }
  return applyEdits(sql, edits);
}

/** Whether the token before an operand leaves it plain: a keyword (WHERE, AND, ...), a bracket or a comma, or nothing. */
const startsOperand = (before: Token | undefined): boolean => !before || before.kind === 'word' || before.text === '(' || before.text === ',';

/** The text span of the operand ending just before tokens[op], if it is a (qualified) name, a parameter or a literal. */
function plainOperandBefore(tokens: readonly Token[], op: number): { start: number; end: number } | null {
  const last = tokens[op - 1];
  if (!last) return null;
  if (last.kind === 'param' || last.kind === 'number' || last.kind === 'string') {
    return startsOperand(tokens[op - 2]) ? { start: last.start, end: last.end } : null;
  }
  if (last.kind !== 'word' && last.kind !== 'quoted') return null;
  let first = op - 1;
  while (tokens[first - 1]?.text === '.' && (tokens[first - 2]?.kind === 'word' || tokens[first - 2]?.kind === 'quoted')) first -= 2;
  // `a + b`, `x::t` or `f(x).y` is not a plain operand.
  return startsOperand(tokens[first - 1]) ? { start: tokens[first]!.start, end: last.end } : null;
}
