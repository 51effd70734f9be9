import type { DuckDBConnection } from '@duckdb/node-api';
import { SqlError } from '../errors/sql-error.js';
import type { SequenceColumns } from '../pg/serial-columns.js';
import { quoteIdent, quoteIdentIfNeeded, sqlString } from '../sqltext/quote.js';
import type { Transaction } from './transaction.js';

/** What making sequence-backed columns needs of the session. */
export interface SequenceHost {
  conn: DuckDBConnection;
  transaction: Transaction;
  parkOpenCursor(): Promise<void>;
  /** Prepares (with every check a client statement gets) and runs a statement. */
  runChecked(sql: string): Promise<void>;
  notice(message: string, code?: string): void;
}

/** The comment that marks a sequence as its column's, dropped when no column draws from it any more. */
const OWNED = 'owned by ';

/**
 * CREATE TABLE / ALTER TABLE ADD COLUMN with serial or identity columns (pg/serial-columns.ts): each
 * column's sequence is created first, named as Postgres names it (`table_column_seq`, or with a
 * number when that is taken), all in one transaction; returns the command tag.
 */
export async function runWithSequences(host: SequenceHost, spec: SequenceColumns): Promise<string> {
  const tag = spec.kind === 'create' ? 'CREATE TABLE' : 'ALTER TABLE';
  if (host.transaction.readOnly) throw new SqlError('25006', `cannot execute ${tag} in a read-only transaction`);
  await host.parkOpenCursor();
  const { conn } = host;
  const one = async (sql: string, params: unknown[] = []): Promise<unknown> => (await conn.runAndReadAll(sql, params as never)).getRows()[0]?.[0];
  const schema = spec.temporary ? 'main' : spec.schema ?? String(await one('SELECT current_schema()'));
  const database = spec.temporary ? 'temp' : String(await one('SELECT current_database()'));
  if (spec.ifNotExists) {
    const exists = spec.kind === 'create'
      ? await one('SELECT count(*) FROM duckdb_tables() WHERE database_name = $1 AND schema_name = $2 AND table_name = $3', [database, schema, spec.table])
      : await one('SELECT count(*) FROM duckdb_columns() WHERE database_name = $1 AND schema_name = $2 AND table_name = $3 AND column_name = $4',
        [database, schema, spec.table, spec.columns[0]!.column]);
    if (Number(exists) > 0) {
      host.notice(spec.kind === 'create' ? `relation "${spec.table}" already exists, skipping`
        : `column "${spec.columns[0]!.column}" of relation "${spec.table}" already exists, skipping`, spec.kind === 'create' ? '42P07' : '42701');
      return tag;
    }
  }
  const taken = new Set((await conn.runAndReadAll('SELECT sequence_name FROM duckdb_sequences() WHERE database_name = $1 AND schema_name = $2',
    [database, schema])).getRows().map((r) => String(r[0])));
  const qualified: string[] = [];
  const statements: string[] = [];
  for (const c of spec.columns) {
    const name = c.sequenceName ?? freeName(`${spec.table}_${c.column}_seq`, taken);
    taken.add(name);
    // Qualified, as Postgres stores the sequence itself: the default finds it whatever a session's search path.
    const q = `${spec.temporary ? 'temp.' : ''}${quoteIdentIfNeeded(schema)}.${quoteIdentIfNeeded(name)}`;
    qualified.push(q);
    statements.push(`CREATE ${spec.temporary ? 'TEMP ' : ''}SEQUENCE ${q} ${c.options}`.trim(),
      `COMMENT ON SEQUENCE ${q} IS ${sqlString(`${OWNED}${schema}.${spec.table}.${c.column}`)}`);
  }
  statements.push(...spec.statements(qualified));
  // DuckDB cannot make a column NOT NULL in the transaction that filled it: an added column's
  // NOT NULL comes in a transaction of its own, after the rest committed.
  const notNull = spec.kind === 'add-column' ? statements.pop()! : null;
  const own = !host.transaction.open;
  if (own) await conn.run('BEGIN TRANSACTION');
  try {
    for (const sql of statements) {
      await host.runChecked(sql);
      host.transaction.journal({ sql, params: [], paramFormats: [], paramOids: [] });
    }
    if (own) await conn.run('COMMIT');
  } catch (err) {
    if (own) await conn.run('ROLLBACK').catch(() => undefined);
    throw err;
  }
  if (notNull && own) await host.runChecked(notNull);
  else if (notNull) {
    host.notice(`column "${spec.columns[0]!.column}" is left nullable: DuckDB cannot add NOT NULL to a column filled in the same transaction; after COMMIT, run: ${notNull}`);
  }
  return tag;
}

/** Postgres' choice: the name cut to 63 bytes, then name1, name2, ... until one is free. */
function freeName(base: string, taken: ReadonlySet<string>): string {
  const cut = (s: string, room: number): string => Buffer.from(s).subarray(0, room).toString('utf8').replace(/\uFFFD$/, '');
  if (!taken.has(cut(base, 63))) return cut(base, 63);
  for (let n = 1; ; n++) {
    const name = cut(base, 63 - String(n).length) + n;
    if (!taken.has(name)) return name;
  }
}

/**
 * After a DROP: the sequences made for serial and identity columns that no column draws from any
 * more are dropped, as Postgres drops a column's owned sequence with it.
 */
export async function dropOrphanedSequences(conn: DuckDBConnection): Promise<void> {
  const r = await conn.runAndReadAll(`SELECT s.database_name, s.schema_name, s.sequence_name FROM duckdb_sequences() s
    WHERE starts_with(s.comment, '${OWNED}') AND NOT EXISTS (SELECT 1 FROM duckdb_columns() c
      WHERE c.database_name = s.database_name AND contains(c.column_default, 'nextval(') AND contains(c.column_default, s.sequence_name))`);
  for (const [db, schema, name] of r.getRows()) {
    await conn.run(`DROP SEQUENCE IF EXISTS ${quoteIdent(String(db))}.${quoteIdent(String(schema))}.${quoteIdent(String(name))}`);
  }
}
