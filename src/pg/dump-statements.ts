import { SqlError } from '../errors/sql-error.js';
import { codeTokens, isWord, nameOf, type Token } from '../sqltext/lexer.js';

/**
 * The statements of a pg_dump script (and of pg_dump's own session) that DuckDB cannot run as
 * written, and what aiduck does with each:
 * - `set-config`: `SELECT pg_catalog.set_config('search_path', '', false)` sets the setting;
 * - `setval`: `SELECT pg_catalog.setval('seq', n, true)` moves the sequence to n (forward only);
 * - `add-constraint`: `ALTER TABLE ... ADD [CONSTRAINT c] UNIQUE | FOREIGN KEY | CHECK | PRIMARY KEY`,
 *   which DuckDB cannot add to an existing table but for a primary key: the table is rebuilt;
 * - `add-identity`: `ALTER TABLE ... ALTER COLUMN c ADD GENERATED ... AS IDENTITY (...)` becomes a
 *   sequence and the column's default;
 * - `sequence-owner`: `ALTER SEQUENCE s OWNED BY t.c` (aiduck marks a column's sequence in its comment);
 * - `lock`: pg_dump's `LOCK TABLE ... IN ACCESS SHARE MODE`, which a snapshot already gives;
 * - `comment-function`: `COMMENT ON FUNCTION f(...)` of a macro (a dump shows macros as functions);
 * - `ignored`: what has no meaning here (owners, privileges, schema comments, built-in
 *   extensions), answered with Postgres' tag and a NOTICE saying what was ignored.
 */
export type DumpStatement =
  | { kind: 'set-config'; name: string; value: string }
  | { kind: 'setval'; sequence: string; value: bigint; isCalled: boolean }
  | { kind: 'add-constraint'; table: QualifiedName; constraint: string; primaryKey: boolean }
  | { kind: 'add-identity'; table: QualifiedName; column: string; sequence: QualifiedName; options: string; always: boolean }
  | { kind: 'lock' }
  | { kind: 'sequence-owner'; sequence: QualifiedName; owner: { table: QualifiedName; column: string } | null }
  | { kind: 'comment-function'; function: QualifiedName; comment: string | null }
  | { kind: 'ignored'; tag: string; notice: string };

export interface QualifiedName {
  schema: string | null;
  name: string;
}

/** A name as SQL, each part quoted. */
export const qualifiedSql = (q: QualifiedName): string =>
  (q.schema === null ? '' : `"${q.schema.replace(/"/g, '""')}".`) + `"${q.name.replace(/"/g, '""')}"`;

const syntaxError = (t: Token | undefined): SqlError =>
  new SqlError('42601', t ? `syntax error at or near "${t.text}"` : 'syntax error at end of input');

/** Extensions whose CREATE EXTENSION is answered without doing anything: aiduck itself, and PL/pgSQL, which every Postgres has. */
const BUILT_IN_EXTENSIONS = new Set(['aiduck', 'plpgsql']);

/** What `ALTER <kind> ... OWNER TO` can name, as its tag says it. */
const OWNED_KINDS = ['TABLE', 'SCHEMA', 'SEQUENCE', 'VIEW', 'MATERIALIZED VIEW', 'FUNCTION', 'PROCEDURE', 'AGGREGATE',
  'TYPE', 'DOMAIN', 'INDEX', 'DATABASE', 'FOREIGN TABLE', 'LARGE OBJECT', 'OPERATOR', 'COLLATION', 'CONVERSION',
  'LANGUAGE', 'PUBLICATION', 'SUBSCRIPTION', 'EVENT TRIGGER', 'TEXT SEARCH CONFIGURATION', 'TEXT SEARCH DICTIONARY'];

/**
 * The dump statement `text` (comments stripped, no trailing semicolon) is, or null when it is none
 * of them. `words` are its leading keywords, uppercased: most statements are told apart by them
 * without being read further.
 */
export function classifyDumpStatement(text: string, words: readonly string[]): DumpStatement | null {
  const first = words[0];
  switch (first) {
    case 'SELECT':
      return /^SELECT\s+(?:pg_catalog\s*\.\s*)?(?:set_config|setval)\s*\(/i.test(text) ? selectFunction(codeTokens(text)) : null;
    case 'ALTER':
      return alterStatement(codeTokens(text), text);
    case 'GRANT':
    case 'REVOKE':
      return { kind: 'ignored', tag: first, notice: `${first} was ignored: aiduck has no privileges on objects (whoever logs in may use every object)` };
    case 'COMMENT':
      return commentStatement(codeTokens(text));
    case 'CREATE':
      if (words[1] === 'TRIGGER' || (words[1] === 'CONSTRAINT' && words[2] === 'TRIGGER') || (words[1] === 'OR' && /^CREATE\s+OR\s+REPLACE\s+(?:CONSTRAINT\s+)?TRIGGER\b/i.test(text))) {
        throw new SqlError('0A000', 'CREATE TRIGGER is not supported: DuckDB has no triggers', 'do in the statements that change the table what the trigger did');
      }
      return words[1] === 'EXTENSION' ? createExtension(codeTokens(text)) : null;
    case 'LOCK':
      return lockStatement(codeTokens(text));
    default:
      return null;
  }
}

/** `SELECT [pg_catalog.]set_config('name', 'value', bool)` and `SELECT [pg_catalog.]setval('seq', n [, bool])`, alone. */
function selectFunction(tokens: Token[]): DumpStatement | null {
  let i = 1;
  if (isWord(tokens[i], 'pg_catalog') && tokens[i + 1]?.text === '.') i += 2;
  const fn = tokens[i]?.text.toLowerCase();
  if ((fn !== 'set_config' && fn !== 'setval') || tokens[i + 1]?.text !== '(' || tokens[tokens.length - 1]?.text !== ')') return null;
  const args = tokens.slice(i + 2, -1).filter((t) => t.text !== ',');
  if (fn === 'set_config') {
    const [name, value, local] = args;
    if (args.length !== 3 || name?.kind !== 'string' || value?.kind !== 'string' || local?.kind !== 'word') return null;
    if (isWord(local, 'true')) {
      throw new SqlError('0A000', 'set_config with is_local true is not supported', 'use SET LOCAL name = value');
    }
    return { kind: 'set-config', name: stringValue(name), value: stringValue(value) };
  }
  const [sequence, value, called] = args;
  if (args.length < 2 || args.length > 3 || sequence?.kind !== 'string' || value?.kind !== 'number' || !/^\d+$/.test(value.text)) return null;
  if (called && called.kind !== 'word') return null;
  return { kind: 'setval', sequence: stringValue(sequence), value: BigInt(value.text), isCalled: called === undefined || isWord(called, 'true') };
}

function stringValue(t: Token): string {
  if (/^[Ee]'/.test(t.text)) throw new SqlError('0A000', 'an E\'\' string is not supported here', 'write the value as a plain string');
  return t.text.slice(1, -1).replace(/''/g, "'");
}

/** A possibly qualified name at tokens[i]; `next` is the index after it. */
function qualifiedName(tokens: Token[], i: number): { name: QualifiedName; next: number } | null {
  const first = tokens[i] ? nameOf(tokens[i]!) : null;
  if (first === null) return null;
  if (tokens[i + 1]?.text === '.') {
    const second = tokens[i + 2] ? nameOf(tokens[i + 2]!) : null;
    if (second === null) throw syntaxError(tokens[i + 2]);
    return { name: { schema: first, name: second }, next: i + 3 };
  }
  return { name: { schema: null, name: first }, next: i + 1 };
}

function alterStatement(tokens: Token[], text: string): DumpStatement | null {
  const n = tokens.length;
  if (isWord(tokens[n - 3], 'owner') && isWord(tokens[n - 2], 'to')) {
    const kind = OWNED_KINDS.find((k) => k.split(' ').every((w, j) => isWord(tokens[1 + j], w.toLowerCase())));
    if (kind) return { kind: 'ignored', tag: `ALTER ${kind}`, notice: `${describe(tokens, n - 3)} OWNER TO was ignored: aiduck keeps no owners (every object belongs to the server's user)` };
  }
  if (isWord(tokens[1], 'default') && isWord(tokens[2], 'privileges')) {
    return { kind: 'ignored', tag: 'ALTER DEFAULT PRIVILEGES', notice: 'ALTER DEFAULT PRIVILEGES was ignored: aiduck has no privileges on objects' };
  }
  const owned = tokens.findIndex((t, k) => isWord(t, 'owned') && isWord(tokens[k + 1], 'by'));
  // Only OWNED BY alone: other options with it are DuckDB's to refuse.
  if (isWord(tokens[1], 'sequence') && owned === (isWord(tokens[3], 'owned') ? 3 : 5)) return sequenceOwner(tokens, owned);
  if (isWord(tokens[1], 'table')) return alterTable(tokens, text);
  return null;
}

/** `ALTER SEQUENCE s OWNED BY [schema.]table.column | NONE`, OWNED at tokens[owned]. */
function sequenceOwner(tokens: Token[], owned: number): DumpStatement {
  const sequence = qualifiedName(tokens, 2)!.name;
  const path = tokens.slice(owned + 2);
  if (path.length === 1 && isWord(path[0], 'none')) return { kind: 'sequence-owner', sequence, owner: null };
  const names = path.filter((_, k) => k % 2 === 0).map(nameOf);
  if ((path.length !== 3 && path.length !== 5) || path.some((t, k) => k % 2 === 1 && t.text !== '.') || names.some((n) => n === null)) {
    throw syntaxError(path[0]);
  }
  const [a, b, c] = names as string[];
  const table = c === undefined ? { schema: null, name: a! } : { schema: a!, name: b! };
  return { kind: 'sequence-owner', sequence, owner: { table, column: (c ?? b)! } };
}

/** The statement's words before token `end`, for a notice (`ALTER TABLE public.t`). */
const describe = (tokens: Token[], end: number): string => tokens.slice(0, end).map((t) => t.text).join(' ').replace(/ \. /g, '.');

/** `ALTER TABLE [ONLY] [IF EXISTS] name ADD ...` forms DuckDB lacks. */
function alterTable(tokens: Token[], text: string): DumpStatement | null {
  let i = 2;
  if (isWord(tokens[i], 'if') && isWord(tokens[i + 1], 'exists')) i += 2;
  if (isWord(tokens[i], 'only')) i++;
  const table = qualifiedName(tokens, i);
  if (!table) return null;
  i = table.next;
  if (isWord(tokens[i], 'add') && !isWord(tokens[i + 1], 'column')) {
    const at = i + 1;
    let k = at;
    if (isWord(tokens[k], 'constraint')) k += 2;
    const primaryKey = isWord(tokens[k], 'primary');
    if (!primaryKey && !isWord(tokens[k], 'unique') && !isWord(tokens[k], 'foreign') && !isWord(tokens[k], 'check')) return null;
    return { kind: 'add-constraint', table: table.name, constraint: text.slice(tokens[at]!.start), primaryKey };
  }
  if (isWord(tokens[i], 'alter') && isWord(tokens[i + 1], 'column') && isWord(tokens[i + 3], 'add') && isWord(tokens[i + 4], 'generated')) {
    return addIdentity(tokens, i + 2, table.name, text);
  }
  return null;
}

/**
 * `ALTER COLUMN c ADD GENERATED {ALWAYS | BY DEFAULT} AS IDENTITY [(SEQUENCE NAME s <sequence options>)]`,
 * from the column's token on.
 */
function addIdentity(tokens: Token[], at: number, table: QualifiedName, text: string): DumpStatement {
  const column = nameOf(tokens[at]!);
  if (column === null) throw syntaxError(tokens[at]);
  let i = at + 3;
  const always = isWord(tokens[i], 'always');
  i += always ? 1 : 2;
  if (!isWord(tokens[i], 'as') || !isWord(tokens[i + 1], 'identity')) throw syntaxError(tokens[i]);
  i += 2;
  let sequence: QualifiedName = { schema: table.schema, name: `${table.name}_${column}_seq` };
  let options = '';
  if (tokens[i]?.text === '(' && tokens[tokens.length - 1]?.text === ')') {
    let k = i + 1;
    if (isWord(tokens[k], 'sequence') && isWord(tokens[k + 1], 'name')) {
      const named = qualifiedName(tokens, k + 2);
      if (!named) throw syntaxError(tokens[k + 2]);
      sequence = named.name;
      k = named.next;
    }
    options = tokens[k] && k < tokens.length - 1 ? text.slice(tokens[k]!.start, tokens[tokens.length - 1]!.start).trim() : '';
  } else if (i < tokens.length) {
    throw syntaxError(tokens[i]);
  }
  return { kind: 'add-identity', table, column, sequence, options, always };
}

function commentStatement(tokens: Token[]): DumpStatement | null {
  if (!isWord(tokens[1], 'on')) return null;
  if (isWord(tokens[2], 'schema')) {
    return { kind: 'ignored', tag: 'COMMENT', notice: `${describe(tokens, 4)} was ignored: DuckDB keeps no comments on schemas` };
  }
  if (isWord(tokens[2], 'extension')) {
    return { kind: 'ignored', tag: 'COMMENT', notice: `${describe(tokens, 4)} was ignored: extensions are built into aiduck` };
  }
  if (isWord(tokens[2], 'function')) {
    const fn = qualifiedName(tokens, 3);
    const is = tokens.findIndex((t, k) => isWord(t, 'is') && tokens[k - 1]?.text === ')');
    const text = tokens[is + 1];
    if (!fn || tokens[fn.next]?.text !== '(' || is < 0 || tokens.length !== is + 2 || !text) throw syntaxError(tokens[fn?.next ?? 3]);
    if (text.kind !== 'string' && !isWord(text, 'null')) throw syntaxError(text);
    return { kind: 'comment-function', function: fn.name, comment: text.kind === 'string' ? stringValue(text) : null };
  }
  return null;
}

/** CREATE EXTENSION of one that aiduck has built in (or has no use for) is a no-op; any other is not available. */
function createExtension(tokens: Token[]): DumpStatement | null {
  if (!isWord(tokens[1], 'extension')) return null;
  let i = 2;
  if (isWord(tokens[i], 'if') && isWord(tokens[i + 1], 'not') && isWord(tokens[i + 2], 'exists')) i += 3;
  const name = tokens[i] ? nameOf(tokens[i]!) : null;
  if (name === null) throw syntaxError(tokens[i]);
  if (!BUILT_IN_EXTENSIONS.has(name)) {
    throw new SqlError('0A000', `extension "${name}" is not available`,
      'aiduck has no Postgres extensions; what DuckDB has built in (e.g. gen_random_uuid, json) needs none');
  }
  const why = name === 'plpgsql' ? 'aiduck runs no PL/pgSQL, so functions in it cannot be created' : 'aiduck\'s objects are always there';
  return { kind: 'ignored', tag: 'CREATE EXTENSION', notice: `CREATE EXTENSION ${name} was ignored: ${why}` };
}

/**
 * LOCK TABLE ... IN ACCESS SHARE MODE (pg_dump's): DuckDB has no table locks, and a transaction's
 * snapshot already keeps what it reads. A stronger mode would promise exclusion aiduck cannot give.
 */
function lockStatement(tokens: Token[]): DumpStatement {
  const mode = tokens.findIndex((t) => isWord(t, 'in'));
  const accessShare = mode > 0 && isWord(tokens[mode + 1], 'access') && isWord(tokens[mode + 2], 'share') && isWord(tokens[mode + 3], 'mode');
  if (!accessShare) {
    throw new SqlError('0A000', 'LOCK TABLE is supported only IN ACCESS SHARE MODE: DuckDB has no table locks',
      'concurrent transactions that write the same rows conflict at commit instead');
  }
  return { kind: 'lock' };
}

/** Settings pg_dump scripts set that aiduck keeps but does nothing with: a NOTICE when a value asks for something else. */
export function ignoredSettingNotice(name: string, value: string): string | null {
  switch (name.toLowerCase()) {
    case 'default_tablespace':
      return value === '' ? null : `default_tablespace = '${value}' was ignored: aiduck has no tablespaces`;
    case 'default_table_access_method':
      return value.toLowerCase() === 'heap' ? null : `default_table_access_method = ${value} was ignored: tables are stored by DuckDB`;
    default:
      return null;
  }
}

/**
 * The sequence of `SELECT last_value, is_called FROM seq` (pg_dump reads a sequence's state so;
 * DuckDB's sequences are no tables), or null for any other statement.
 */
export function sequenceStateRead(sql: string): QualifiedName | null {
  if (!/^\s*SELECT\s+last_value\s*,\s*is_called\s+FROM\s/i.test(sql)) return null;
  const tokens = codeTokens(sql).filter((t) => t.text !== ';');
  const name = qualifiedName(tokens, 5);
  return name && name.next === tokens.length ? name.name : null;
}
