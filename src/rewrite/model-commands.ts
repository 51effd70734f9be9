import type { ModelCommand } from '../functions/commands.js';
import { findCalls } from '../sqltext/calls.js';
import { applyEdits, stripComments } from '../sqltext/statements.js';
import { MODEL_COMMANDS, PARAMETERS } from '../../udfs/catalog.js';
import { checkCallArguments } from './call-arguments.js';

const SHAPE = /^\s*(?:SELECT\s+([\s\S]+?)\s+FROM|CALL)\s+([A-Za-z_]+)\s*\(([\s\S]*)\)\s*(?:AS\s+[A-Za-z_][A-Za-z0-9_]*)?\s*;?\s*$/i;
const MENTION = new RegExp(MODEL_COMMANDS.map((c) => c.name).join('|'), 'i');

/** A registry command called as a statement of its own: the command, its argument text, and the columns to answer with. */
export interface ModelCommandCall {
  def: ModelCommand;
  args: string;
  columns: string;
}

/**
 * `SELECT <columns> FROM register_model(...)` or `CALL register_model(...)` (any command of the
 * catalog), else null. Its arguments are checked against the command's parameters here, so that a
 * wrong name is reported as the user wrote it, and those given by position past the required ones
 * are named.
 */
export function parseModelCommand(sql: string): ModelCommandCall | null {
  if (!MENTION.test(sql)) return null;
  const text = stripComments(sql);
  const m = SHAPE.exec(text);
  if (!m) return null;
  const def = MODEL_COMMANDS.find((c) => c.name === m[2]!.toLowerCase());
  if (!def) return null;
  const call = findCalls(text, new Set([def.name]))[0];
  if (!call) return { def, args: m[3]!, columns: m[1] ?? '*' };
  // Arguments with defaults given by position get their names (DuckDB's macros take those by name only).
  const { edits } = checkCallArguments(call, PARAMETERS.get(def.name)!);
  const args = applyEdits(text, edits).slice(call.argsStart, call.argsEnd + edits.reduce((n, e) => n + e.text.length, 0));
  return { def, args, columns: m[1] ?? '*' };
}
