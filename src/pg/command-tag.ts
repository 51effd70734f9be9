import { StatementType } from '@duckdb/node-api';
import { leadingWords } from '../sqltext/statements.js';

/** The CommandComplete tag Postgres clients expect ("SELECT 3", "INSERT 0 5", "CREATE TABLE"). */
export function commandTag(statementType: StatementType, sql: string, rows: number): string {
  switch (statementType) {
    case StatementType.SELECT:
    case StatementType.RELATION:
      return `SELECT ${rows}`;
    case StatementType.INSERT:
      return `INSERT 0 ${rows}`;
    case StatementType.UPDATE:
      return `UPDATE ${rows}`;
    case StatementType.DELETE:
      // DuckDB runs TRUNCATE as a DELETE; Postgres answers it with its own tag.
      return leadingWords(sql, 1)[0] === 'TRUNCATE' ? 'TRUNCATE TABLE' : `DELETE ${rows}`;
    case StatementType.MERGE_INTO:
      return `MERGE ${rows}`;
    case StatementType.COPY:
      return `COPY ${rows}`;
    case StatementType.EXPLAIN:
      return 'EXPLAIN';
    case StatementType.CREATE:
    case StatementType.CREATE_FUNC:
    case StatementType.DROP:
    case StatementType.ALTER:
      return objectTag(sql);
    case StatementType.VARIABLE_SET:
    case StatementType.SET:
      return leadingWords(sql, 1)[0] === 'RESET' ? 'RESET' : 'SET';
    default: {
      const w = leadingWords(sql, 1)[0];
      return w ?? 'OK';
    }
  }
}

const objectKinds = new Set([
  'TABLE', 'VIEW', 'SCHEMA', 'SEQUENCE', 'INDEX', 'MACRO', 'FUNCTION', 'TYPE', 'SECRET', 'DATABASE',
]);

/** "CREATE TABLE", "DROP VIEW", "ALTER TABLE": the verb and the kind of object, skipping modifiers. */
function objectTag(sql: string): string {
  const words = leadingWords(sql, 8);
  const verb = words[0] ?? 'CREATE';
  // COMMENT ON TABLE, COLUMN, ...: Postgres' tag is the verb alone.
  if (verb === 'COMMENT') return verb;
  const kind = words.slice(1).find((w) => objectKinds.has(w));
  if (!kind) return verb;
  return `${verb} ${kind === 'MACRO' ? 'FUNCTION' : kind}`;
}
