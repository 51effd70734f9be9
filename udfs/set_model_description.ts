import type { ModelCommand } from '../src/functions/commands.js';
import { setVariable } from '../src/functions/session-variables.js';
import type { SqlFunction } from '../src/functions/sql-function.js';
import { setDescription } from '../src/registry/metadata.js';
import { SqlError } from '../src/errors/sql-error.js';

/** `set_model_description(name, version, description)`: the description of a version, or of the model when version is NULL. */
const command: ModelCommand = {
  name: 'set_model_description',
  signature: 'name, version, description',
  argsStruct: 'struct_pack(name := name::VARCHAR, version := version::INTEGER, description := description::VARCHAR)',
  resultSql: `SELECT getvariable('aiduck_model')::VARCHAR AS name, getvariable('aiduck_version_n')::INTEGER AS version,
    getvariable('aiduck_description')::VARCHAR AS description`,
  async run(conn, _ai, args, transaction) {
    const { name, version, description } = args as { name: string | null; version: number | null; description: string | null };
    if (name === null) throw new SqlError('22004', 'set_model_description needs a model name');
    await transaction(() => setDescription(conn, name, version, description));
    for (const [v, x] of [['aiduck_model', name], ['aiduck_version_n', version], ['aiduck_description', description]] as const) await setVariable(conn, v, x);
  },
};

export const setModelDescription: SqlFunction = {
  name: 'set_model_description',
  kind: 'model-command',
  description: 'sets the description of a model version, or of the model itself when version is NULL',
  example: "SELECT * FROM set_model_description('embedder', NULL, 'embedders the search team compares');",
  command,
};
