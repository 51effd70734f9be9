import { StatementType, type DuckDBPreparedStatement } from '@duckdb/node-api';
import { SqlError } from '../errors/sql-error.js';
import type { FieldDescription } from '../protocol/backend.js';
import { hasCodeKeyword } from '../sqltext/statements.js';
import { describeColumns, formatOf } from './result-cursor.js';
import { textField } from './special.js';
import { dumpStatementFields } from './dump-runner.js';
import type { Statement } from './statements.js';

/**
 * The RowDescription of a statement before it runs (Describe of a statement), or null for NoData:
 * from DuckDB's prepared metadata, or for the statements the session answers itself, what they
 * send (SHOW a text column, FETCH its cursor's columns).
 */
export function statementFields(statement: Statement, cursorFields: (name: string) => FieldDescription[] | null): FieldDescription[] | null {
  const { special, prepared: p } = statement;
  if (special) {
    if (special.kind === 'show' || special.kind === 'show-duckdb') return [textField(special.name)];
    if (special.kind === 'dump') return dumpStatementFields(special.dump);
    return special.kind === 'fetch' && !special.fetch.move ? cursorFields(special.fetch.name) : null;
  }
  if (!p || !returnsRows(p, statement.sql)) return null;
  const fields: FieldDescription[] = [];
  for (let i = 0; i < p.columnCount; i++) {
    const name = p.columnName(i);
    try {
      fields.push(describeColumns([name], [p.columnType(i)], [formatOf([], i)], [statement.origins?.[i] ?? null])[0]!);
    } catch (err) {
      if (err instanceof SqlError) throw err;
      // DuckDB resolves some result types only once it sees the parameter values.
      fields.push(textField(name));
    }
  }
  return fields;
}

const dml = new Set([StatementType.INSERT, StatementType.UPDATE, StatementType.DELETE, StatementType.MERGE_INTO]);

/** A write without RETURNING (INSERT, UPDATE, DELETE, MERGE): it sends no rows, whatever it does. */
export function sendsNoRows(statement: Statement): boolean {
  const p = statement.prepared;
  return p !== null && !statement.special && !statement.command && dml.has(p.statementType) && !hasCodeKeyword(statement.sql, 'RETURNING');
}

/** Whether Execute will send rows: DML only with RETURNING (otherwise DuckDB's one "Count" column is the tag). */
function returnsRows(p: DuckDBPreparedStatement, sql: string): boolean {
  if (p.columnCount === 0) return false;
  if (dml.has(p.statementType)) return hasCodeKeyword(sql, 'RETURNING');
  return p.statementType !== StatementType.CREATE && p.statementType !== StatementType.DROP &&
    p.statementType !== StatementType.ALTER && p.statementType !== StatementType.TRANSACTION &&
    p.statementType !== StatementType.COPY;
}
