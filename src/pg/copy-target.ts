import { realpathSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve, sep } from 'node:path';
import { StatementType } from '@duckdb/node-api';
import { SqlError } from '../errors/sql-error.js';
import { codeTokens, type Token } from '../sqltext/lexer.js';

/** The kinds of statement (as DuckDB parses them) whose text may hold a `COPY ... TO '<file>'`. */
export const MAY_COPY_TO: ReadonlySet<StatementType> = new Set([StatementType.COPY, StatementType.EXPLAIN, StatementType.PREPARE]);

/**
 * Where `COPY ... TO '<file>'` may write: only inside the given directories (files/ and the import
 * directories), checked here before DuckDB runs the statement.
 *
 * DuckDB's own fence (allowed_directories with external access off) always lets SQL read and write
 * the database file, its .wal, .wal.recovery and .wal.checkpoint, and the spill directory: DuckDB
 * adds them to its allowed paths itself, and its storage then writes through that same check, so
 * they cannot be taken out. `COPY (SELECT 1) TO '<data>/aiduck.duckdb' (USE_TMP_FILE false)`
 * truncates the database. COPY TO is SQL's only way to write a file named by the statement, so a
 * target written as a literal and resolved here (.., //, symbolic links) is a complete fence for
 * writes. A target computed at run time (an expression, a parameter, a variable) cannot be
 * checked and is refused.
 */
export function refusalOfCopyTarget(sql: string, writableDirs: readonly string[]): SqlError | null {
  const target = copyTarget(sql);
  if (target === null) return null;
  if (target.literal === null) {
    return new SqlError('42501', 'COPY ... TO takes its file name as a string literal on this server',
      "write the path itself, e.g. COPY t TO '/srv/aiduck-data/files/t.csv'; a file name computed when the statement runs cannot be checked before it writes");
  }
  const path = target.literal.replace(/^file:\/\//, '');
  if (!isAbsolute(path)) {
    return new SqlError('42501', `COPY ... TO '${target.literal}': the file name must be an absolute path`, `e.g. '${join(writableDirs[0] ?? '/', basename(path) || 'out.csv')}'`);
  }
  const real = realOfWhatExists(resolve(path));
  const roots = writableDirs.map((d) => realOfWhatExists(resolve(d)));
  if (roots.some((r) => real.startsWith(r.endsWith(sep) ? r : r + sep))) return null;
  return new SqlError('42501', `COPY ... TO '${target.literal}' is not allowed on this server: SQL writes files only under ${writableDirs.join(', ')}`,
    real !== resolve(path) ? `the path leads to ${real}` : 'the database, its write-ahead log and DuckDB\'s temporary files live outside these, and must not be written by SQL');
}

/** The target of a `COPY ... TO` statement: the literal file name, or null for a target that is not one; null altogether when there is none. */
function copyTarget(sql: string): { literal: string | null } | null {
  const tokens = codeTokens(sql);
  const at = copyTargetAt(tokens);
  return at === null ? null : { literal: fileName(tokens[at]!) };
}

/**
 * Where the target of a `COPY ... TO` statement (also under EXPLAIN or PREPARE ... AS) is among its
 * code tokens; null for any other statement, for COPY ... FROM and for COPY ... TO STDOUT.
 */
export function copyTargetAt(tokens: readonly Token[]): number | null {
  let i = 0;
  const word = (k: number): string => (tokens[k]?.kind === 'word' ? tokens[k]!.text.toUpperCase() : '');
  if (word(i) === 'EXPLAIN') {
    i++;
    if (word(i) === 'ANALYZE' || word(i) === 'ANALYSE') i++;
  }
  if (word(i) === 'PREPARE') {
    while (i < tokens.length && word(i) !== 'AS') i++;
    i++;
  }
  if (word(i) !== 'COPY') return null;
  let depth = 0;
  for (i++; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.text === '(') depth++;
    else if (t.text === ')') depth--;
    else if (depth === 0 && t.kind === 'word') {
      const w = t.text.toUpperCase();
      if (w === 'FROM') return null;
      if (w === 'TO') break;
    }
  }
  const next = tokens[i + 1];
  if (!next) return null;
  if (next.kind === 'word' && /^(STDOUT|STDIN)$/i.test(next.text)) return null;
  return i + 1;
}

/**
 * The file name a token spells: 'x' is a string, "x" an identifier that DuckDB takes as a file name
 * here ('' and "" undone); $$x$$, E'x' and anything else are not file names aiduck reads.
 */
export function fileName(t: Token): string | null {
  const q = t.text[0];
  const closed = t.text.length > 1 && t.text.endsWith(q ?? '');
  if (t.kind === 'string' && q === "'" && closed) return t.text.slice(1, -1).replaceAll("''", "'");
  if (t.kind === 'quoted' && closed) return t.text.slice(1, -1).replaceAll('""', '"');
  return null;
}

/** A path with its symbolic links resolved as far as it exists (a file to be written does not exist yet). */
function realOfWhatExists(path: string): string {
  const rest: string[] = [];
  let p = path;
  for (;;) {
    try {
      return join(realpathSync(p), ...rest.reverse());
    } catch {
      const parent = dirname(p);
      if (parent === p) return path;
      rest.push(basename(p));
      p = parent;
    }
  }
}
