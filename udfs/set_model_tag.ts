import type { ModelCommand } from '../src/functions/commands.js';
import { setVariable } from '../src/functions/session-variables.js';
import type { SqlFunction } from '../src/functions/sql-function.js';
import { checkTagKey, setTag } from '../src/registry/metadata.js';
import { SqlError } from '../src/errors/sql-error.js';

const RESULT = `SELECT getvariable('aiduck_model')::VARCHAR AS name, getvariable('aiduck_version_n')::INTEGER AS version,
    getvariable('aiduck_tag_key')::VARCHAR AS key, getvariable('aiduck_tag_value')::VARCHAR AS value`;

/** `set_model_tag(name, version, key, value)`: sets a tag of a version, or of the model when version is NULL. */
const command: ModelCommand = {
  name: 'set_model_tag',
  signature: 'name, version, key, value',
  argsStruct: 'struct_pack(name := name::VARCHAR, version := version::INTEGER, key := key::VARCHAR, value := value::VARCHAR)',
  resultSql: RESULT,
  async run(conn, _ai, args, transaction) {
    const { name, version, key, value } = args as { name: string | null; version: number | null; key: string | null; value: string | null };
    if (name === null) throw new SqlError('22004', 'set_model_tag needs a model name');
    const k = checkTagKey(key);
    await transaction(() => setTag(conn, name, version, k, value));
    for (const [v, x] of [['aiduck_model', name], ['aiduck_version_n', version], ['aiduck_tag_key', k], ['aiduck_tag_value', value]] as const) await setVariable(conn, v, x);
  },
};

export const setModelTag: SqlFunction = {
  name: 'set_model_tag',
  kind: 'model-command',
  description: 'sets a tag (key, value) of a model version, or of the model itself when version is NULL',
  example: "SELECT * FROM set_model_tag('embedder', 2, 'stage', 'prod');",
  command,
};
