import type { QueryCommand } from '../functions/commands.js';
import { findCalls } from '../sqltext/calls.js';
import { QUERY_COMMANDS } from '../../udfs/catalog.js';

const BY_NAME: ReadonlyMap<string, QueryCommand> = new Map(QUERY_COMMANDS.map((c) => [c.name, c]));
const MENTIONS = new RegExp(QUERY_COMMANDS.map((c) => c.name).join('|'), 'i');

/** Words that may follow a table function in FROM without being its alias. */
const CLAUSE_WORDS = new Set(['WHERE', 'ORDER', 'GROUP', 'LIMIT', 'OFFSET', 'JOIN', 'LEFT', 'RIGHT', 'INNER', 'FULL', 'CROSS', 'NATURAL',
  'POSITIONAL', 'ASOF', 'ANTI', 'SEMI', 'ON', 'USING', 'UNION', 'EXCEPT', 'INTERSECT', 'HAVING', 'QUALIFY', 'WINDOW']);

/** Evaluates a query command's argument text (named arguments, expressions) into its arguments. */
export type EvaluateArguments = (command: QueryCommand, argsText: string) => Promise<Record<string, unknown>>;

/**
 * The pass that turns each call of a query command (evaluate_retriever, vector_search, chunk_text)
 * into the query it stands for, written from its evaluated arguments; `finish` runs the passes that
 * the written query still needs. A call with no alias gets the command's name as its alias.
 */
export async function expandQueryCommands(sql: string, evaluate: EvaluateArguments, finish: (generated: string) => string): Promise<string> {
  if (!MENTIONS.test(sql)) return sql;
  // Only outermost calls: a call inside another one's arguments is part of what that one evaluates.
  const calls = findCalls(sql, new Set(BY_NAME.keys())).filter((c, i, all) => !all.slice(0, i).some((o) => o.start < c.start && c.end <= o.end));
  let out = sql;
  // From the last call back, so the positions of the earlier ones stay where they were.
  for (const call of calls.reverse()) {
    const def = BY_NAME.get(call.name)!;
    const args = await evaluate(def, sql.slice(call.argsStart, call.argsEnd));
    const rest = out.slice(call.end);
    const word = /^\s*([A-Za-z_]+|")/.exec(rest)?.[1]?.toUpperCase();
    const aliased = word !== undefined && !CLAUSE_WORDS.has(word);
    out = `${out.slice(0, call.start)}(${finish(def.toSql(args))})${aliased ? '' : ` AS ${def.name}`}${rest}`;
  }
  return out;
}
