import { insertRegistration, prepareRegistration, releaseArtifacts, type RegisterArgs } from '../src/registry/commands.js';
import type { ModelCommand } from '../src/functions/commands.js';
import type { SqlFunction } from '../src/functions/sql-function.js';
import { setVariable } from '../src/functions/session-variables.js';
import { probeModel } from '../src/functions/model-probe.js';
import { registrationFromRun, runIdOf } from '../src/registry/run-source.js';

/**
 * `register_model(name, source, task => ..., alias => ..., tags => ..., description => ..., base_model => ...)`;
 * base_model names the model a PEFT adapter folder runs on.
 */
const command: ModelCommand = {
  name: 'register_model',
  signature: 'name, source, task := NULL, alias := NULL, tags := NULL, description := NULL, endpoint_model := NULL, api_key_env := NULL, options := NULL, base_model := NULL',
  argsStruct: `struct_pack(name := name::VARCHAR, source := source::VARCHAR, task := task::VARCHAR, alias := alias::VARCHAR,
      tags := CAST(tags AS MAP(VARCHAR, VARCHAR)), description := description::VARCHAR,
      endpoint_model := endpoint_model::VARCHAR, api_key_env := api_key_env::VARCHAR,
      options := CAST(options AS MAP(VARCHAR, VARCHAR)), base_model := base_model::VARCHAR)`,
  resultSql: `SELECT name, version, uri, task, provider, source, location, dimension, base_model, aliases, tags, description, created_at
    FROM ai.model_versions_with_aliases WHERE name = getvariable('aiduck_model') AND version = getvariable('aiduck_version_n')`,
  async run(conn, ai, raw, transaction) {
    const args = raw as unknown as RegisterArgs;
    const runId = runIdOf(args.source);
    const registration = runId
      ? await registrationFromRun(conn, ai.registry, args, runId)
      : await prepareRegistration(ai, args, (spec) => probeModel(ai, spec));
    let version = 0;
    try {
      await transaction(async () => {
        version = await insertRegistration(conn, registration);
      });
    } finally {
      await releaseArtifacts(ai, registration.held ?? []);
    }
    await setVariable(conn, 'aiduck_model', args.name!);
    await setVariable(conn, 'aiduck_version_n', version);
  },
};

export const registerModel: SqlFunction = {
  name: 'register_model',
  kind: 'model-command',
  description: "registers a model (a folder, hf:, openai:, builtin: or runs:/ source) as the next version of a name; one row: name, version, uri, task, provider, ...",
  example: "SELECT name, version FROM register_model('llm', 'openai:http://127.0.0.1:11434/v1', endpoint_model => 'llama3.2');",
  command,
};
