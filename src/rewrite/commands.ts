import { MODEL_COMMANDS, QUERY_COMMANDS } from '../../udfs/index.js';
import type { ModelCommand, QueryCommand } from '../functions/commands.js';
import { stripComments } from '../sqltext/statements.js';
import { findCalls } from './ai-calls.js';

const SHAPE = /^\s*(?:SELECT\s+([\s\S]+?)\s+FROM|CALL)\s+([A-Za-z_]+)\s*\(([\s\S]*)\)\s*(?:AS\s+[A-Za-z_][A-Za-z0-9_]*)?\s*;?\s*$/i;

/**
 * A registry command call (`SELECT <columns> FROM register_model(...)` or `CALL ...`): the
 * command, its argument text, and the columns to answer with.
 */
export function parseModelCommand(sql: string): { def: ModelCommand; args: string; columns: string } | null {
  return parseCall(sql, MENTION, MODEL_COMMANDS);
}

const MENTION = new RegExp(MODEL_COMMANDS.map((c) => c.name).join('|'), 'i');

/** Calls of query commands (evaluate_retriever), wherever they stand in a statement. */
export function findQueryCommands(sql: string): Array<{ def: QueryCommand; start: number; end: number; args: string }> {
  if (!/evaluate_retriever|vector_search|chunk_text/i.test(sql)) return [];
  return QUERY_COMMANDS.flatMap((def) => findCalls(sql, def.name).map((call) => ({ def, ...call })));
}

function parseCall<T extends { name: string }>(sql: string, mention: RegExp, defs: readonly T[]): { def: T; args: string; columns: string } | null {
  if (!mention.test(sql)) return null;
  const m = SHAPE.exec(stripComments(sql));
  if (!m) return null;
  const def = defs.find((c) => c.name === m[2]!.toLowerCase());
  return def ? { def, args: m[3]!, columns: m[1] ?? '*' } : null;
}

/** Table macros under the commands' names: any other use of them gets this error. */
export const commandGuards = (): string[] => [...MODEL_COMMANDS, ...QUERY_COMMANDS].map((c) =>
  `CREATE OR REPLACE MACRO ${c.name}(${c.signature}) AS TABLE SELECT error('${c.name} runs as a statement of its own: ` +
  `SELECT * FROM ${c.name}(...) or CALL ${c.name}(...)') AS error FROM range(1) WHERE error('${c.name} runs as a statement of its own') IS NULL`);
