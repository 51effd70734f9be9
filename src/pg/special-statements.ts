import { SqlError } from '../errors/sql-error.js';
import { isPgSetting } from './settings.js';
import { leadingWords, stripComments } from '../sqltext/statements.js';
import { parseCopy, type CopyCommand } from './copy-command.js';
import { instanceWideRefusal } from './instance-guard.js';

/**
 * Statements the server answers itself instead of passing them to DuckDB: Postgres transaction
 * verbs, Postgres-only settings, COPY with STDIN/STDOUT, and what the security policy forbids.
 */
export type SpecialStatement =
  | { kind: 'begin' }
  | { kind: 'commit' }
  | { kind: 'rollback' }
  | { kind: 'set'; name: string; value: string }
  | { kind: 'reset'; name: string }
  | { kind: 'show'; name: string }
  | { kind: 'show-duckdb'; name: string }
  | { kind: 'noop'; tag: string }
  | { kind: 'discard' }
  | { kind: 'copy'; copy: CopyCommand }
  | { kind: 'forbidden'; error: SqlError };

function unquote(v: string): string {
  const t = v.trim();
  if (t.startsWith("'") && t.endsWith("'") && t.length >= 2) return t.slice(1, -1).replace(/''/g, "'");
  if (t.startsWith('"') && t.endsWith('"') && t.length >= 2) return t.slice(1, -1);
  return t;
}

export function classifySpecial(sql: string): SpecialStatement | null {
  const refusal = instanceWideRefusal(sql);
  if (refusal) return { kind: 'forbidden', error: refusal };
  const words = leadingWords(sql, 3);
  const first = words[0];
  const text = stripComments(sql).replace(/;\s*$/, '');
  switch (first) {
    case 'BEGIN':
    case 'START':
      return first === 'START' && words[1] !== 'TRANSACTION' ? null : { kind: 'begin' };
    case 'COMMIT':
    case 'END':
      return words[1] === 'PREPARED' ? null : { kind: 'commit' };
    case 'ROLLBACK':
    case 'ABORT':
      if (words[1] === 'TO' || words[1] === 'PREPARED') {
        return { kind: 'forbidden', error: new SqlError('0A000', 'savepoints and prepared transactions are not supported') };
      }
      return { kind: 'rollback' };
    case 'SAVEPOINT':
    case 'RELEASE':
      return { kind: 'forbidden', error: new SqlError('0A000', 'savepoints are not supported') };
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
      if (words[1] === 'TRANSACTION' || (words[1] === 'SESSION' && words[2] === 'CHARACTERISTICS')) {
        return { kind: 'noop', tag: 'SET' };
      }
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
      if (m && (m[1]!.toUpperCase() === 'ALL' || isPgSetting(m[1]!))) return { kind: 'reset', name: m[1]! };
      return null;
    }
    case 'SHOW': {
      if (/^SHOW\s+TRANSACTION\s+ISOLATION\s+LEVEL$/i.test(text)) return { kind: 'show', name: 'transaction_isolation' };
      const m = /^SHOW\s+([A-Za-z_][\w.]*)$/i.exec(text);
      if (m && isPgSetting(m[1]!)) return { kind: 'show', name: m[1]! };
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
