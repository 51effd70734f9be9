import type { QueryCommand, RecordedRun } from '../functions/commands.js';
import { findCalls, type Call } from '../sqltext/calls.js';
import { PARAMETERS, QUERY_COMMANDS } from '../../udfs/catalog.js';

const BY_NAME: ReadonlyMap<string, QueryCommand> = new Map(QUERY_COMMANDS.map((c) => [c.name, c]));
const MENTIONS = new RegExp(QUERY_COMMANDS.map((c) => c.name).join('|'), 'i');

/** Words that may follow a table function in FROM without being its alias. */
const CLAUSE_WORDS = new Set(['WHERE', 'ORDER', 'GROUP', 'LIMIT', 'OFFSET', 'JOIN', 'LEFT', 'RIGHT', 'INNER', 'FULL', 'CROSS', 'NATURAL',
  'POSITIONAL', 'ASOF', 'ANTI', 'SEMI', 'ON', 'USING', 'UNION', 'EXCEPT', 'INTERSECT', 'HAVING', 'QUALIFY', 'WINDOW']);

/** Evaluates a query command's argument text (named arguments, expressions) into its arguments. */
export type EvaluateArguments = (command: QueryCommand, argsText: string) => Promise<Record<string, unknown>>;

/** Runs a query command's query now, records the run, and returns SQL that gives the same rows. */
export type RunAndRecord = (sql: string, run: RecordedRun) => Promise<string>;

/**
 * The pass that turns each call of a query command (evaluate_retriever, vector_search, chunk_text)
 * into the query it stands for, written from its evaluated arguments; `finish` runs the passes that
 * the written query still needs. A call with no alias gets the command's name as its alias.
 */
export async function expandQueryCommands(sql: string, evaluate: EvaluateArguments, finish: (generated: string) => string,
  record: RunAndRecord): Promise<string> {
  if (!MENTIONS.test(sql)) return sql;
  // Only outermost calls: a call inside another one's arguments is part of what that one evaluates.
  const calls = findCalls(sql, new Set(BY_NAME.keys())).filter((c, i, all) => !all.slice(0, i).some((o) => o.start < c.start && c.end <= o.end));
  let out = sql;
  // From the last call back, so the positions of the earlier ones stay where they were.
  for (const call of calls.reverse()) {
    const def = BY_NAME.get(call.name)!;
    const { args, rows } = await argumentsOf(def, call, sql, evaluate);
    const rest = out.slice(call.end);
    const word = /^\s*([A-Za-z_]+|")/.exec(rest)?.[1]?.toUpperCase();
    const aliased = word !== undefined && !CLAUSE_WORDS.has(word);
    const recorded = def.recordedAs?.(args) ?? null;
    // Row arguments go in after the passes: their text went through them with the statement already.
    const placeholders = Object.fromEntries(Object.keys(rows).map((name) => [name, `__aiduck_row_argument_${name}`]));
    let query = finish(def.toSql(args, placeholders));
    for (const [name, text] of Object.entries(rows)) query = query.replaceAll(placeholders[name]!, `(${text})`);
    const replacement = recorded ? await record(query, recorded) : query;
    out = `${out.slice(0, call.start)}(${replacement})${aliased ? '' : ` AS ${def.name}`}${rest}`;
  }
  return out;
}

/**
 * A call's arguments, evaluated. When that fails because an argument refers to the query around the
 * call (DuckDB's binder cannot find `q` on its own), the command's row arguments are kept as SQL text
 * and the others evaluated without them.
 */
async function argumentsOf(def: QueryCommand, call: Call, sql: string, evaluate: EvaluateArguments):
  Promise<{ args: Record<string, unknown>; rows: Record<string, string> }> {
  try {
    return { args: await evaluate(def, sql.slice(call.argsStart, call.argsEnd)), rows: {} };
  } catch (err) {
    const params = PARAMETERS.get(def.name) ?? [];
    const nameOf = (i: number): string | undefined => call.args[i]!.name ?? params[i]?.name.toLowerCase();
    const rowArgs = new Set((def.rowArguments ?? []).map((n) => n.toLowerCase()));
    const outside = call.args.map((_, i) => rowArgs.has(nameOf(i) ?? ''));
    if (!outside.some(Boolean) || !/^Binder Error/.test(err instanceof Error ? err.message : '')) throw err;
    const rest = call.args.map((a, i) => (outside[i] ? (a.name ? `${a.name} := NULL` : 'NULL') : a.text)).join(', ');
    const rows = Object.fromEntries(call.args.flatMap((a, i) => (outside[i] ? [[nameOf(i)!, a.value.text]] : [])));
    return { args: await evaluate(def, rest), rows };
  }
}
