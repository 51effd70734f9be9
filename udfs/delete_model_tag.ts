import type { ModelCommand } from '../src/functions/commands.js';
import { setVariable } from '../src/functions/session-variables.js';
import type { SqlFunction } from '../src/functions/sql-function.js';
import { checkTagKey, deleteTag } from '../src/registry/metadata.js';
import { SqlError } from '../src/errors/sql-error.js';

/** `delete_model_tag(name, version, key)`: deletes a tag of a version, or of the model when version is NULL. */
const command: ModelCommand = {
  name: 'delete_model_tag',
  signature: 'name, version, key',
  argsStruct: 'struct_pack(name := name::VARCHAR, version := version::INTEGER, key := key::VARCHAR)',
  resultSql: `SELECT getvariable('aiduck_model')::VARCHAR AS name, getvariable('aiduck_version_n')::INTEGER AS version,
    getvariable('aiduck_tag_key')::VARCHAR AS key, true AS deleted`,
  async run(conn, _ai, args, transaction) {
    const { name, version, key } = args as { name: string | null; version: number | null; key: string | null };
    if (name === null) throw new SqlError('22004', 'delete_model_tag needs a model name');
    const k = checkTagKey(key);
    await transaction(() => deleteTag(conn, name, version, k));
    for (const [v, x] of [['aiduck_model', name], ['aiduck_version_n', version], ['aiduck_tag_key', k]] as const) await setVariable(conn, v, x);
  },
};

export const deleteModelTag: SqlFunction = {
  name: 'delete_model_tag',
  kind: 'model-command',
  description: 'deletes a tag of a model version, or of the model itself when version is NULL',
  example: "CALL delete_model_tag('embedder', NULL, 'owner');",
  command,
};
