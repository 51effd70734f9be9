import { MODEL_COMMANDS } from '../../udfs/index.js';
import type { ModelCommand } from './model-command.js';
import { stripComments } from './sql-text.js';

const SHAPE = /^\s*(?:SELECT\s+\*\s+FROM|CALL)\s+([A-Za-z_]+)\s*\(([\s\S]*)\)\s*;?\s*$/i;

/** A registry command call (`SELECT * FROM register_model(...)` or `CALL ...`), with its argument text. */
export function parseModelCommand(sql: string): { def: ModelCommand; args: string } | null {
  if (!/register_model|model_alias/i.test(sql)) return null;
  const m = SHAPE.exec(stripComments(sql));
  if (!m) return null;
  const def = MODEL_COMMANDS.find((c) => c.name === m[1]!.toLowerCase());
  return def ? { def, args: m[2]! } : null;
}
