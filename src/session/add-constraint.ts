import type { DuckDBConnection } from '@duckdb/node-api';
import { SqlError } from '../errors/sql-error.js';
import { qualifiedSql, type QualifiedName } from '../pg/dump-statements.js';
import { rewriteDumpForms } from '../rewrite/dump-forms.js';
import { sqlString } from '../sqltext/quote.js';
import { schemaResolver } from './prepare.js';
import type { Transaction } from './transaction.js';

/** What adding a constraint needs of the session. */
export interface AddConstraintHost {
  conn: DuckDBConnection;
  transaction: Transaction;
}

/** A table named in a statement, in the schema the session's search path finds it in (42P01 if none). */
export async function resolveTable(conn: DuckDBConnection, q: QualifiedName): Promise<{ schema: string; name: string }> {
  const schema = q.schema ?? await schemaResolver(conn)(q.name, false);
  const found = await conn.runAndReadAll(`SELECT 1 FROM duckdb_tables() WHERE database_name = current_database()
    AND schema_name = $1 AND table_name = $2`, [schema, q.name]);
  if (found.currentRowCount === 0) throw new SqlError('42P01', `relation "${q.schema ? `${q.schema}.` : ''}${q.name}" does not exist`);
  return { schema, name: q.name };
}

/** One table as it is rebuilt: what recreates it, its rows kept meanwhile, and what goes back on it. */
interface TablePlan {
  table: { schema: string; name: string };
  columns: string[];
  constraints: string[];
  /** Tables (by key) its foreign keys reference. */
  references: string[];
  indexes: string[];
  comments: string[];
  copy: string;
}

const key = (t: { schema: string; name: string }): string => `${t.schema}.${t.name}`;

/**
 * `ALTER TABLE t ADD [CONSTRAINT c] ...`. DuckDB adds a primary key to a table without indexes, and
 * nothing else: the table is rebuilt with the constraint (its rows copied aside, the table created
 * again, the rows put back, which checks them against it), with the tables whose foreign keys
 * reference it (DuckDB drops none of them while they do), and their indexes and comments. All of it
 * in one transaction: the session's, or one of its own.
 */
export async function addConstraint(host: AddConstraintHost, table: { schema: string; name: string }, constraint: string, primaryKey: boolean): Promise<void> {
  const { conn } = host;
  const text = rewriteDumpForms(constraint);
  // DuckDB's own ADD PRIMARY KEY, in a transaction that made the table, leaves the key half made:
  // a foreign key referencing it then fails inside DuckDB and takes the database down. Only a
  // committed table takes it; in a transaction the table is rebuilt.
  if (primaryKey && !host.transaction.open) {
    const direct = await conn.run(`ALTER TABLE ${qualifiedSql(table)} ADD ${text}`).then(() => true, (err: unknown) => {
      if (err instanceof Error && /Dependency Error/.test(err.message)) return false;
      throw err;
    });
    if (direct) return;
  }
  const plans = await planRebuild(conn, table, text);
  const own = !host.transaction.open;
  if (own) await conn.run('BEGIN TRANSACTION');
  else host.transaction.journalLoss('a table rebuilt to add a constraint');
  try {
    for (const p of plans) await conn.run(`CREATE TABLE ${p.copy} AS SELECT * FROM ${qualifiedSql(p.table)}`);
    for (const p of [...plans].reverse()) await conn.run(`DROP TABLE ${qualifiedSql(p.table)}`);
    for (const p of plans) await conn.run(`CREATE TABLE ${qualifiedSql(p.table)} (${[...p.columns, ...p.constraints].join(', ')})`);
    for (const p of plans) await conn.run(`INSERT INTO ${qualifiedSql(p.table)} SELECT * FROM ${p.copy}`);
    for (const p of plans) {
      await conn.run(`DROP TABLE ${p.copy}`);
      for (const sql of [...p.indexes, ...p.comments]) await conn.run(sql);
    }
    if (own) await conn.run('COMMIT');
  } catch (err) {
    if (own) await conn.run('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

/**
 * The tables to rebuild, in the order they are created (a table after those it references): the
 * table, and every table whose foreign keys reference one of them.
 */
async function planRebuild(conn: DuckDBConnection, target: { schema: string; name: string }, constraint: string): Promise<TablePlan[]> {
  const fks = (await conn.runAndReadAll(`SELECT schema_name, table_name, constraint_text FROM duckdb_constraints()
    WHERE database_name = current_database() AND constraint_type = 'FOREIGN KEY'`)).getRows()
    .map((r) => ({ from: { schema: String(r[0]), name: String(r[1]) }, to: referencedBy(String(r[2]), String(r[0])) }));
  const tables = new Map<string, { schema: string; name: string }>([[key(target), target]]);
  for (let grew = true; grew;) {
    grew = false;
    for (const fk of fks) {
      if (fk.to && tables.has(key(fk.to)) && !tables.has(key(fk.from))) {
        tables.set(key(fk.from), fk.from);
        grew = true;
      }
    }
  }
  const plans = new Map<string, TablePlan>();
  let n = 0;
  for (const t of tables.values()) plans.set(key(t), await planTable(conn, t, `__aiduck_rebuild_${Date.now()}_${n++}`));
  if (/\bON\s+(?:DELETE|UPDATE)\s+(?:CASCADE|SET\s+NULL|SET\s+DEFAULT)\b/i.test(constraint)) {
    throw new SqlError('0A000', 'DuckDB\'s foreign keys cannot CASCADE, SET NULL or SET DEFAULT', 'add the foreign key without its ON DELETE / ON UPDATE action');
  }
  const added = referencedBy(constraint, target.schema);
  if (added && added.schema !== target.schema) {
    throw new SqlError('0A000', `DuckDB cannot hold a foreign key from ${key(target)} to a table in another schema (${key(added)})`,
      'keep the tables of a foreign key in one schema');
  }
  const plan = plans.get(key(target))!;
  plan.constraints.push(constraint);
  if (added) plan.references.push(key(added));
  return ordered(plans);
}

/** The table a foreign key's text references (`FOREIGN KEY (a) REFERENCES [s.]t(b)`), or null. */
function referencedBy(constraintText: string, schema: string): { schema: string; name: string } | null {
  const m = /\bREFERENCES\s+(?:("(?:[^"]|"")+"|[A-Za-z_][\w$]*)\s*\.\s*)?("(?:[^"]|"")+"|[A-Za-z_][\w$]*)/i.exec(constraintText);
  if (!m) return null;
  const unquote = (s: string): string => (s.startsWith('"') ? s.slice(1, -1).replace(/""/g, '"') : s.toLowerCase());
  return { schema: m[1] ? unquote(m[1]) : schema, name: unquote(m[2]!) };
}

async function planTable(conn: DuckDBConnection, table: { schema: string; name: string }, copyName: string): Promise<TablePlan> {
  const params = [table.schema, table.name];
  const where = 'database_name = current_database() AND schema_name = $1 AND table_name = $2';
  const [info] = (await conn.runAndReadAll(`SELECT sql, comment FROM duckdb_tables() WHERE ${where}`, params)).getRows();
  if (/\bGENERATED\s+ALWAYS\s+AS\b/i.test(String(info?.[0] ?? ''))) {
    throw new SqlError('0A000', `cannot add a constraint to ${key(table)}: DuckDB adds one only by rebuilding the table, which cannot keep its generated columns`,
      'create the table again with the constraint in CREATE TABLE');
  }
  const columns = (await conn.runAndReadAll(`SELECT column_name, data_type, column_default, is_nullable, comment FROM duckdb_columns()
    WHERE ${where} ORDER BY column_index`, params)).getRows();
  const constraints = (await conn.runAndReadAll(`SELECT constraint_text FROM duckdb_constraints()
    WHERE ${where} AND constraint_type IN ('PRIMARY KEY', 'UNIQUE', 'FOREIGN KEY', 'CHECK') ORDER BY constraint_index`, params)).getRows().map((r) => String(r[0]));
  const indexes = (await conn.runAndReadAll(`SELECT sql, comment, index_name FROM duckdb_indexes() WHERE ${where} AND sql IS NOT NULL`, params)).getRows();
  const name = qualifiedSql(table);
  const comments: string[] = [];
  if (info?.[1] != null) comments.push(`COMMENT ON TABLE ${name} IS ${sqlString(String(info[1]))}`);
  for (const c of columns) {
    if (c[4] != null) comments.push(`COMMENT ON COLUMN ${name}.${qualifiedSql({ schema: null, name: String(c[0]) })} IS ${sqlString(String(c[4]))}`);
  }
  for (const i of indexes) {
    if (i[1] != null) comments.push(`COMMENT ON INDEX ${qualifiedSql({ schema: table.schema, name: String(i[2]) })} IS ${sqlString(String(i[1]))}`);
  }
  return {
    table,
    columns: columns.map((c) => `${qualifiedSql({ schema: null, name: String(c[0]) })} ${String(c[1])}`
      + (c[2] === null ? '' : ` DEFAULT (${String(c[2])})`) + (c[3] ? '' : ' NOT NULL')),
    constraints,
    references: constraints.map((c) => referencedBy(c, table.schema)).filter((r) => r !== null).map(key),
    indexes: indexes.map((i) => String(i[0])),
    comments,
    copy: qualifiedSql({ schema: table.schema, name: copyName }),
  };
}

/** The plans with each table after the tables of the plan it references (foreign keys in a cycle are refused). */
function ordered(plans: Map<string, TablePlan>): TablePlan[] {
  const out: TablePlan[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (k: string): void => {
    const p = plans.get(k);
    if (!p || state.get(k) === 'done') return;
    if (state.get(k) === 'visiting') {
      throw new SqlError('0A000', `foreign keys of ${k} reference each other in a cycle, which DuckDB cannot hold`,
        'drop one of the foreign keys of the cycle');
    }
    state.set(k, 'visiting');
    for (const r of p.references) if (r !== k) visit(r);
    state.set(k, 'done');
    out.push(p);
  };
  for (const k of plans.keys()) visit(k);
  return out;
}
