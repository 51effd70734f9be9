import { deleteAlias } from '../src/registry/commands.js';
import type { ModelCommand } from '../src/functions/commands.js';
import type { SqlFunction } from '../src/functions/sql-function.js';
import { setVariable } from '../src/functions/session-variables.js';
import { SqlError } from '../src/errors/sql-error.js';

/** `delete_model_alias(name, alias)`: drops an alias; the versions stay. */
const command: ModelCommand = {
  name: 'delete_model_alias',
  signature: 'name, alias',
  argsStruct: 'struct_pack(name := name::VARCHAR, alias := alias::VARCHAR)',
  resultSql: `SELECT getvariable('aiduck_model')::VARCHAR AS name, getvariable('aiduck_alias')::VARCHAR AS alias, true AS deleted`,
  async run(conn, _ai, args, transaction) {
    const { name, alias } = args as { name: string | null; alias: string | null };
    if (name === null || alias === null) throw new SqlError('22004', 'delete_model_alias needs a model name and an alias');
    await transaction(() => deleteAlias(conn, name, alias));
    await setVariable(conn, 'aiduck_model', name);
    await setVariable(conn, 'aiduck_alias', alias);
  },
};

export const deleteModelAlias: SqlFunction = {
  name: 'delete_model_alias',
  kind: 'model-command',
  description: "drops an alias; the versions stay",
  example: "CALL delete_model_alias('embedder', 'challenger');",
  command,
};
