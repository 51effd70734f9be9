import { SqlError } from '../errors/sql-error.js';
import { isPgSetting } from './settings.js';
import { codeTokens, isWord, nameOf, type Token } from '../sqltext/lexer.js';
import { leadingWords, stripComments } from '../sqltext/statements.js';
import { parseCopy, type CopyCommand } from './copy-command.js';
import { parseSetSearchPath } from './search-path.js';
import { sequenceColumns, type SequenceColumns } from './serial-columns.js';
import { parseClose, parseDeclare, parseFetch, type DeclareCursor, type FetchCommand } from './cursor-statements.js';
import { instanceWideRefusal } from './instance-guard.js';
import { classifyDumpStatement, type DumpStatement } from './dump-statements.js';

/**
 * Statements the server answers itself instead of passing them to DuckDB: Postgres transaction
 * verbs, Postgres-only settings, COPY with STDIN/STDOUT, and what the security policy forbids.
 */
export type SpecialStatement =
  | { kind: 'begin'; readOnly: boolean | null; tag: 'BEGIN' | 'START TRANSACTION' }
  | { kind: 'commit' }
  | { kind: 'rollback' }
  | { kind: 'savepoint'; name: string }
  | { kind: 'release'; name: string }
  | { kind: 'rollback-to'; name: string }
  /** SET TRANSACTION (this block) or SET SESSION CHARACTERISTICS AS TRANSACTION (the default). */
  | { kind: 'transaction-mode'; scope: 'transaction' | 'session'; readOnly: boolean | null }
  /** SET search_path / SET SCHEMA (null: the default path). */
  | { kind: 'search-path'; schemas: string[] | null; tag: 'SET' | 'RESET' }
  /** DEALLOCATE of a statement prepared by Parse or PREPARE (null: ALL). */
  | { kind: 'deallocate'; name: string | null }
  | { kind: 'declare'; cursor: DeclareCursor }
  /** CREATE TABLE / ALTER TABLE ADD COLUMN with serial or identity columns. */
  | { kind: 'sequence-columns'; spec: SequenceColumns }
  | { kind: 'fetch'; fetch: FetchCommand }
  /** CLOSE of a cursor (null: ALL). */
  | { kind: 'close'; name: string | null }
  | { kind: 'listen'; channel: string }
  /** UNLISTEN channel, or * (null). */
  | { kind: 'unlisten'; channel: string | null }
  | { kind: 'notify'; channel: string; payload: string }
  | { kind: 'set'; name: string; value: string }
  | { kind: 'reset'; name: string }
  | { kind: 'show'; name: string }
  | { kind: 'show-duckdb'; name: string }
  | { kind: 'noop'; tag: string }
  | { kind: 'discard' }
  | { kind: 'copy'; copy: CopyCommand }
  /** What pg_dump scripts and pg_dump itself send that DuckDB cannot run as written (dump-statements.ts). */
  | { kind: 'dump'; dump: DumpStatement }
  | { kind: 'forbidden'; error: SqlError };

function unquote(v: string): string {
  const t = v.trim();
  if (t.startsWith("'") && t.endsWith("'") && t.length >= 2) return t.slice(1, -1).replace(/''/g, "'");
  if (t.startsWith('"') && t.endsWith('"') && t.length >= 2) return t.slice(1, -1);
  return t;
}

const syntaxError = (t: Token | undefined): SqlError =>
  new SqlError('42601', t ? `syntax error at or near "${t.text}"` : 'syntax error at end of input');

/**
 * The modes after BEGIN / START TRANSACTION / SET TRANSACTION, from token `at` (after the optional
 * `skip` words): ISOLATION LEVEL ..., READ WRITE | READ ONLY, [NOT] DEFERRABLE, comma-separated or
 * not. Returns the access mode asked for (null: none). Every isolation level runs as DuckDB's
 * snapshot isolation, which is at least as strict as the one asked for.
 */
function transactionModes(tokens: readonly Token[], at: number, skip: readonly string[]): boolean | null {
  let i = at;
  while (skip.some((w) => isWord(tokens[i], w))) i++;
  let readOnly: boolean | null = null;
  const levels = [['serializable'], ['repeatable', 'read'], ['read', 'committed'], ['read', 'uncommitted']];
  while (i < tokens.length) {
    if (isWord(tokens[i], 'isolation') && isWord(tokens[i + 1], 'level')) {
      const level = levels.find((l) => l.every((w, k) => isWord(tokens[i + 2 + k], w)));
      if (!level) throw syntaxError(tokens[i + 2]);
      i += 2 + level.length;
    } else if (isWord(tokens[i], 'read') && (isWord(tokens[i + 1], 'only') || isWord(tokens[i + 1], 'write'))) {
      readOnly = isWord(tokens[i + 1], 'only');
      i += 2;
    } else if (isWord(tokens[i], 'deferrable')) {
      i++;
    } else if (isWord(tokens[i], 'not') && isWord(tokens[i + 1], 'deferrable')) {
      i += 2;
    } else {
      throw syntaxError(tokens[i]);
    }
    if (tokens[i]?.text === ',') i++;
  }
  return readOnly;
}

/**
 * The savepoint a statement names after its verb and the optional `skip` words; with `required`,
 * null unless that word was among them (ROLLBACK without TO is the plain ROLLBACK).
 */
function savepointName(tokens: readonly Token[], skip: readonly string[], required: string | null): string | null {
  let i = 1;
  let seen = false;
  while (skip.some((w) => isWord(tokens[i], w))) {
    if (isWord(tokens[i], required ?? '')) seen = true;
    i++;
  }
  if (required !== null && !seen) {
    if (i < tokens.length) throw syntaxError(tokens[i]);
    return null;
  }
  const name = tokens[i] ? nameOf(tokens[i]!) : null;
  if (name === null || tokens.length > i + 1) throw syntaxError(tokens[name === null ? i : i + 1]);
  return name;
}

export function classifySpecial(sql: string): SpecialStatement | null {
  const refusal = instanceWideRefusal(sql);
  if (refusal) return { kind: 'forbidden', error: refusal };
  const words = leadingWords(sql, 3);
  const first = words[0];
  const text = stripComments(sql).replace(/;\s*$/, '');
  const dump = classifyDumpStatement(text, words);
  if (dump) return { kind: 'dump', dump };
  if (first === 'CREATE' || first === 'ALTER') {
    const spec = sequenceColumns(text);
    if (spec) return { kind: 'sequence-columns', spec };
  }
  switch (first) {
    case 'BEGIN':
    case 'START':
      if (first === 'START' && words[1] !== 'TRANSACTION') return null;
      return {
        kind: 'begin', readOnly: transactionModes(codeTokens(text), 1, ['work', 'transaction']),
        tag: first === 'START' ? 'START TRANSACTION' : 'BEGIN',
      };
    case 'COMMIT':
    case 'END':
      return words[1] === 'PREPARED' ? null : { kind: 'commit' };
    case 'ROLLBACK':
    case 'ABORT': {
      if (words[1] === 'PREPARED') {
        return { kind: 'forbidden', error: new SqlError('0A000', 'prepared transactions are not supported', 'use COMMIT or ROLLBACK') };
      }
      const to = savepointName(codeTokens(text), ['work', 'transaction', 'to', 'savepoint'], 'to');
      return to === null ? { kind: 'rollback' } : { kind: 'rollback-to', name: to };
    }
    case 'SAVEPOINT':
      return { kind: 'savepoint', name: savepointName(codeTokens(text), [], null)! };
    case 'RELEASE':
      return { kind: 'release', name: savepointName(codeTokens(text), ['savepoint'], null)! };
    case 'DECLARE':
      return { kind: 'declare', cursor: parseDeclare(text) };
    case 'FETCH':
    case 'MOVE':
      return { kind: 'fetch', fetch: parseFetch(text) };
    case 'CLOSE':
      return { kind: 'close', name: parseClose(text) };
    case 'LISTEN':
    case 'UNLISTEN':
    case 'NOTIFY': {
      const tokens = codeTokens(text);
      if (first === 'UNLISTEN' && tokens[1]?.text === '*' && tokens.length === 2) return { kind: 'unlisten', channel: null };
      const channel = tokens[1] ? nameOf(tokens[1]) : null;
      if (channel === null) throw syntaxError(tokens[1]);
      if (first !== 'NOTIFY') {
        if (tokens.length > 2) throw syntaxError(tokens[2]);
        return first === 'LISTEN' ? { kind: 'listen', channel } : { kind: 'unlisten', channel };
      }
      if (tokens.length === 2) return { kind: 'notify', channel, payload: '' };
      if (tokens[2]?.text !== ',' || tokens[3]?.kind !== 'string' || tokens.length !== 4) throw syntaxError(tokens[2]);
      return { kind: 'notify', channel, payload: tokens[3].text.slice(1, -1).replace(/''/g, "'") };
    }
    case 'DEALLOCATE': {
      const tokens = codeTokens(text);
      let i = 1;
      if (isWord(tokens[i], 'prepare')) i++;
      if (isWord(tokens[i], 'all') && tokens.length === i + 1) return { kind: 'deallocate', name: null };
      const name = tokens[i] && tokens.length === i + 1 ? nameOf(tokens[i]!) : null;
      if (name === null) throw syntaxError(tokens[i]);
      return { kind: 'deallocate', name };
    }
    case 'INSTALL':
    case 'LOAD':
    case 'FORCE':
    case 'UPDATE':
      if (first === 'UPDATE' && words[1] !== 'EXTENSIONS') return null;
      return {
        kind: 'forbidden',
        error: new SqlError('42501', 'installing and loading DuckDB extensions is disabled on this server',
          'the extensions aiduck needs are built in'),
      };
    case 'SET': {
      if (words[1] === 'TRANSACTION') {
        return { kind: 'transaction-mode', scope: 'transaction', readOnly: transactionModes(codeTokens(text), 2, []) };
      }
      if (words[1] === 'SESSION' && words[2] === 'CHARACTERISTICS') {
        const tokens = codeTokens(text);
        if (!isWord(tokens[3], 'as') || !isWord(tokens[4], 'transaction')) throw syntaxError(tokens[3]);
        return { kind: 'transaction-mode', scope: 'session', readOnly: transactionModes(tokens, 5, []) };
      }
      const path = parseSetSearchPath(text);
      if (path !== undefined) return { kind: 'search-path', schemas: path, tag: 'SET' };
      const m = /^SET\s+(?:SESSION\s+|LOCAL\s+)?([A-Za-z_][\w.]*)\s*(?:=|\s+TO\s+|\s+)\s*([\s\S]+)$/i.exec(text);
      if (m && isPgSetting(m[1]!)) return { kind: 'set', name: m[1]!, value: unquote(m[2]!) };
      const tz = /^SET\s+(?:SESSION\s+|LOCAL\s+)?TIME\s+ZONE\s+([\s\S]+)$/i.exec(text);
      if (tz) return { kind: 'set', name: 'timezone', value: unquote(tz[1]!) };
      const names = /^SET\s+(?:SESSION\s+|LOCAL\s+)?NAMES\s+([\s\S]+)$/i.exec(text);
      if (names) return { kind: 'set', name: 'client_encoding', value: unquote(names[1]!) };
      return null;
    }
    case 'RESET': {
      const m = /^RESET\s+([A-Za-z_][\w.]*)$/i.exec(text);
      if (m && /^(search_path|schema)$/i.test(m[1]!)) return { kind: 'search-path', schemas: null, tag: 'RESET' };
      if (m && (m[1]!.toUpperCase() === 'ALL' || isPgSetting(m[1]!))) return { kind: 'reset', name: m[1]! };
      return null;
    }
    case 'SHOW': {
      if (/^SHOW\s+TRANSACTION\s+ISOLATION\s+LEVEL$/i.test(text)) return { kind: 'show', name: 'transaction_isolation' };
      const m = /^SHOW\s+([A-Za-z_][\w.]*)$/i.exec(text);
      if (m && (isPgSetting(m[1]!) || /^aiduck\.statement_prepares$/i.test(m[1]!))) return { kind: 'show', name: m[1]! };
      // Settings both systems have; a bare SHOW of them would make DuckDB look for a table.
      if (m && /^(search_path|threads|memory_limit)$/i.test(m[1]!)) return { kind: 'show-duckdb', name: m[1]!.toLowerCase() };
      return null;
    }
    case 'DISCARD':
      return { kind: 'discard' };
    case 'COPY': {
      const copy = parseCopy(text);
      return copy ? { kind: 'copy', copy } : null;
    }
    default:
      return null;
  }
}
