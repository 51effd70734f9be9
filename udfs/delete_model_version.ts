import type { ModelCommand } from '../src/functions/commands.js';
import { setVariable } from '../src/functions/session-variables.js';
import type { SqlFunction } from '../src/functions/sql-function.js';
import { basename } from 'node:path';
import { deleteVersion } from '../src/registry/metadata.js';
import { collectStored } from '../src/registry/commands.js';
import { SqlError } from '../src/errors/sql-error.js';

/**
 * `delete_model_version(name, version)`: deletes a version no alias points to and no adapter or
 * classifier runs on; its files go once no other version or run holds them.
 */
const command: ModelCommand = {
  name: 'delete_model_version',
  signature: 'name, version',
  argsStruct: 'struct_pack(name := name::VARCHAR, version := version::INTEGER)',
  resultSql: `SELECT getvariable('aiduck_model')::VARCHAR AS name, getvariable('aiduck_version_n')::INTEGER AS version, true AS deleted`,
  async run(conn, ai, args, transaction) {
    const { name, version } = args as { name: string | null; version: number | null };
    if (name === null || version === null) throw new SqlError('22004', 'delete_model_version needs a model name and a version');
    let unreferenced: string | null = null;
    await transaction(async () => {
      unreferenced = await deleteVersion(conn, ai.store, name, version);
    });
    // Only once the deletion has committed (a rolled-back one keeps its files), and through the store,
    // which keeps a folder another registration of the same files holds meanwhile.
    if (unreferenced) await collectStored(ai, [basename(unreferenced)]);
    await setVariable(conn, 'aiduck_model', name);
    await setVariable(conn, 'aiduck_version_n', version);
  },
};

export const deleteModelVersion: SqlFunction = {
  name: 'delete_model_version',
  kind: 'model-command',
  description: 'deletes a model version that no alias points to; its files go once nothing references them',
  example: "CALL delete_model_version('embedder', 1);",
  command,
};
