import { setAlias } from '../src/registry/commands.js';
import type { ModelCommand } from '../src/functions/commands.js';
import type { SqlFunction } from '../src/functions/sql-function.js';
import { setVariable } from '../src/functions/session-variables.js';
import { SqlError } from '../src/errors/sql-error.js';

/** `set_model_alias(name, alias, version)`: creates or moves an alias such as `champion`. */
const command: ModelCommand = {
  name: 'set_model_alias',
  signature: 'name, alias, version',
  argsStruct: 'struct_pack(name := name::VARCHAR, alias := alias::VARCHAR, version := version::INTEGER)',
  resultSql: `SELECT name, alias, version, updated_at FROM ai.model_aliases
    WHERE name = getvariable('aiduck_model') AND alias = getvariable('aiduck_alias')`,
  async run(conn, _ai, args, transaction) {
    const { name, alias, version } = args as { name: string | null; alias: string | null; version: number | null };
    if (name === null || alias === null || version === null) throw new SqlError('22004', 'set_model_alias needs a model name, an alias and a version');
    await transaction(() => setAlias(conn, name, alias, version));
    await setVariable(conn, 'aiduck_model', name);
    await setVariable(conn, 'aiduck_alias', alias);
  },
};

export const setModelAlias: SqlFunction = {
  name: 'set_model_alias',
  kind: 'model-command',
  description: "creates or moves an alias (champion, challenger, ...) to a version",
  example: "SELECT * FROM set_model_alias('embedder', 'champion', 2);",
  command,
};
