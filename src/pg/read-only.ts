import { StatementType } from '@duckdb/node-api';
import { SqlError } from '../errors/sql-error.js';
import { codeTokens } from '../sqltext/lexer.js';
import { writeTargets, type WriteTarget } from '../sqltext/write-targets.js';
import { commandTag } from './command-tag.js';

/** Statements that change the data in tables: allowed in a read-only transaction on temporary tables, as in Postgres. */
const DML: ReadonlySet<StatementType> = new Set([StatementType.INSERT, StatementType.UPDATE, StatementType.DELETE, StatementType.MERGE_INTO]);

/** Statements that change the database or its files whatever their target. */
const ALWAYS_WRITES: ReadonlySet<StatementType> = new Set([
  StatementType.CREATE, StatementType.CREATE_FUNC, StatementType.ALTER, StatementType.DROP, StatementType.EXPORT,
  StatementType.COPY_DATABASE, StatementType.VACUUM, StatementType.ANALYZE,
]);

/** Whether a table a statement writes is a temporary one of the session. */
export type IsTemporary = (target: WriteTarget) => Promise<boolean>;

/**
 * The refusal (25006) of a statement a read-only transaction may not run: what Postgres refuses
 * there — writes to anything but temporary tables, and every CREATE, ALTER and DROP.
 */
export async function readOnlyRefusal(type: StatementType, sql: string, isTemporary: IsTemporary): Promise<SqlError | null> {
  const refuse = (what: string): SqlError => new SqlError('25006', `cannot execute ${what} in a read-only transaction`,
    'the transaction is read only (BEGIN READ ONLY, SET TRANSACTION READ ONLY or default_transaction_read_only)');
  if (ALWAYS_WRITES.has(type)) return refuse(commandTag(type, sql, 0));
  const copyFrom = type === StatementType.COPY;
  if (!DML.has(type) && !copyFrom) return null;
  const targets = writeTargets(codeTokens(sql));
  if (copyFrom && targets?.length === 0) return null; // COPY ... TO reads
  const what = copyFrom ? 'COPY FROM' : commandTag(type, sql, 0).replace(/( \d+)+$/, '');
  if (targets === null || targets.length === 0) return refuse(what);
  for (const t of targets) if (!(await isTemporary(t))) return refuse(what);
  return null;
}
