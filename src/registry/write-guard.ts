import { StatementType } from '@duckdb/node-api';
import { SqlError } from '../errors/sql-error.js';
import { bracketExtent } from '../sqltext/calls.js';
import { codeTokens, isWord, nameOf, type Token } from '../sqltext/lexer.js';

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

/** A name a statement writes: `[catalog.]schema.name`, `name`, or a schema itself. */
interface Target {
  schema: string | null;
  name: string;
  isSchema: boolean;
  /** CREATE: an unqualified name goes to the current schema, whatever the search path holds. */
  creating: boolean;
}

function readName(tokens: readonly Token[], at: number): { parts: string[]; next: number } | null {
  const parts: string[] = [];
  let i = at;
  for (;;) {
    const t = tokens[i];
    const n = t ? nameOf(t) : null;
    if (n === null) return parts.length ? { parts, next: i } : null;
    parts.push(n);
    if (tokens[i + 1]?.text !== '.') return { parts, next: i + 1 };
    i += 2;
  }
}

const targetOf = (parts: string[], creating = false): Target => ({ schema: parts.length >= 2 ? parts[parts.length - 2]! : null, name: parts[parts.length - 1]!, isSchema: false, creating });

/** Skips `WITH name AS (...), ...` in front of a DML statement. */
function afterWith(tokens: readonly Token[]): number {
  if (!isWord(tokens[0], 'with')) return 0;
  let i = isWord(tokens[1], 'recursive') ? 2 : 1;
  for (;;) {
    while (i < tokens.length && tokens[i]!.text !== '(') i++;
    // a column list before AS: name (a, b) AS (...)
    if (!isWord(tokens[i - 1], 'as') && !isWord(tokens[i - 1], 'materialized')) {
      const cols = bracketExtent(tokens, i);
      if (!cols) return tokens.length;
      i = cols.close + 1;
      continue;
    }
    const body = bracketExtent(tokens, i);
    if (!body) return tokens.length;
    i = body.close + 1;
    if (tokens[i]?.text !== ',') return i;
    i++;
  }
}

/** The objects a write statement changes, from its text; null when the text's shape is not one known here. */
function targetsOf(tokens: readonly Token[]): Target[] | null {
  let i = afterWith(tokens);
  const w = (k: number): string => (tokens[k]?.kind === 'word' ? tokens[k]!.text.toLowerCase() : '');
  const skip = (...words: string[]): void => {
    while (words.includes(w(i))) i++;
  };
  const one = (): Target[] | null => {
    const n = readName(tokens, i);
    return n ? [targetOf(n.parts)] : null;
  };
  switch (w(i++)) {
    case 'insert':
      skip('or', 'replace', 'ignore');
      if (w(i++) !== 'into') return null;
      return one();
    case 'update':
      return one();
    case 'delete':
      if (w(i++) !== 'from') return null;
      return one();
    case 'truncate':
      skip('table');
      return one();
    case 'merge':
      if (w(i++) !== 'into') return null;
      return one();
    case 'copy': {
      const n = readName(tokens, i);
      if (!n) return [];
      let k = n.next;
      if (tokens[k]?.text === '(') k = (bracketExtent(tokens, k)?.close ?? tokens.length) + 1;
      // COPY t TO 'file' reads the table; COPY t FROM writes it.
      return w(k) === 'from' ? [targetOf(n.parts)] : [];
    }
    case 'comment':
      skip('on', 'table', 'view', 'column', 'index', 'sequence', 'macro', 'function', 'type', 'schema');
      return one();
    case 'alter':
    case 'drop':
    case 'create': {
      const verb = w(i - 1);
      skip('or', 'replace', 'temp', 'temporary', 'persistent', 'unique', 'materialized');
      const kind = w(i++);
      skip('if', 'not', 'exists');
      if (kind === 'schema') {
        const n = readName(tokens, i);
        return n ? [{ schema: null, name: n.parts[n.parts.length - 1]!, isSchema: true, creating: false }] : null;
      }
      const creating = verb === 'create';
      if (kind === 'index' && w(i - 1) !== 'index') return null;
      if (kind === 'index') {
        // CREATE INDEX [name] ON table
        while (i < tokens.length && w(i) !== 'on') i++;
        if (w(i++) !== 'on') return one(); // DROP INDEX name
        return one();
      }
      const out: Target[] = [];
      for (;;) {
        const n = readName(tokens, i);
        if (!n) return out.length ? out : null;
        out.push(targetOf(n.parts, creating));
        if (tokens[n.next]?.text !== ',') return out;
        i = n.next + 1;
      }
    }
    default:
      return null;
  }
}

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
  const targets = targetsOf(tokens);
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
