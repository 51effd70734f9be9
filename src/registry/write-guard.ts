import { StatementType } from '@duckdb/node-api';
import { SqlError } from '../errors/sql-error.js';
import { codeTokens, nameOf } from '../sqltext/lexer.js';
import { writeTargets } from '../sqltext/write-targets.js';

/**
 * The registry and the runs are written only by their commands: a session's own INSERT, UPDATE,
 * DELETE, MERGE, TRUNCATE, COPY FROM, ALTER, DROP or CREATE of anything in the `ai` schema is refused
 * with 42501, naming the command to use. (Reading them, and copying them into tables of one's own, is
 * what they are for.) The statement's kind comes from DuckDB's parser; its target from the text.
 */

/** What to use instead of writing each registry object. */
const COMMAND_FOR: Readonly<Record<string, string>> = {
  model_versions: 'register_model, set_model_tag, set_model_description or delete_model_version',
  model_aliases: 'set_model_alias or delete_model_alias',
  model_tags: 'set_model_tag or delete_model_tag',
  model_descriptions: 'set_model_description',
  experiments: 'log_run',
  run_records: 'log_run',
  run_params: 'log_run',
  run_metrics: 'log_metric or log_run',
};
const ANY_COMMAND = 'the registry commands (register_model, set_model_alias, set_model_tag, log_run, ...)';

const WRITES: ReadonlySet<StatementType> = new Set([
  StatementType.INSERT, StatementType.UPDATE, StatementType.DELETE, StatementType.MERGE_INTO, StatementType.ALTER,
  StatementType.DROP, StatementType.CREATE, StatementType.COPY,
]);

/**
 * The schema an unqualified name stands for in the session: the first schema of its search path that
 * holds such an object, or (for one being created, or found nowhere) its current schema.
 */
export type ResolveSchema = (name: string, creating: boolean) => Promise<string>;

/** The refusal of a statement that would write the registry or the runs, or null. */
export async function registryWriteRefusal(type: StatementType, sql: string, resolve: ResolveSchema): Promise<SqlError | null> {
  if (!WRITES.has(type)) return null;
  const tokens = codeTokens(sql);
  // Cheap first: a statement that names neither the ai schema nor a registry table cannot write one,
  // unless it creates something (which goes to the current schema, and that may be ai).
  const named = new Set(tokens.map(nameOf));
  if (type !== StatementType.CREATE && !named.has('ai') && !Object.keys(COMMAND_FOR).some((n) => named.has(n))) return null;
  const targets = writeTargets(tokens);
  const refuse = (what: string, use: string): SqlError => new SqlError('42501', `permission denied for ${what}: the model registry and the runs are written only by their commands`, `use ${use}`);
  if (targets === null) {
    // A shape not known here: refused if it names the ai schema at all, to be safe.
    return tokens.some((t, i) => nameOf(t) === 'ai' && tokens[i + 1]?.text === '.') ? refuse('schema ai', ANY_COMMAND) : null;
  }
  for (const t of targets) {
    if (t.isSchema) {
      if (t.name === 'ai') return refuse('schema ai', ANY_COMMAND);
      continue;
    }
    const schema = t.schema ?? (t.name in COMMAND_FOR || t.creating ? await resolve(t.name, t.creating) : null);
    if (schema === 'ai') return refuse(`table ai.${t.name}`, COMMAND_FOR[t.name] ?? ANY_COMMAND);
  }
  return null;
}
