import type { DuckDBConnection } from '@duckdb/node-api';
import { SqlError } from '../errors/sql-error.js';
import type { FieldDescription } from '../protocol/backend.js';
import * as msg from '../protocol/backend.js';
import { qualifiedSql, type DumpStatement, type QualifiedName } from '../pg/dump-statements.js';
import { isPgSetting } from '../pg/settings.js';
import { setSearchPathSql } from '../pg/search-path.js';
import { Oid } from '../pg/types/oids.js';
import { rewriteDumpForms } from '../rewrite/dump-forms.js';
import { sqlString } from '../sqltext/quote.js';
import { addConstraint, resolveTable } from './add-constraint.js';
import { OWNED } from './sequence-columns.js';
import { textField, type SpecialHost } from './special.js';

/** More nextval calls than this and setval refuses: moving a DuckDB sequence costs one call per step. */
const MAX_SETVAL_STEPS = 50_000_000n;

/** The RowDescription of a dump statement that returns a row (set_config, setval), or null. */
export function dumpStatementFields(d: DumpStatement): FieldDescription[] | null {
  if (d.kind === 'set-config') return [textField('set_config')];
  if (d.kind === 'setval') return [{ name: 'setval', typeOid: Oid.int8, typeSize: 8, typeModifier: -1, format: 0 }];
  return null;
}

/** Runs a statement of a pg_dump script or of pg_dump's session (pg/dump-statements.ts); returns its command tag. */
export async function runDumpStatement(host: SpecialHost, d: DumpStatement, describe: boolean): Promise<string> {
  const row = (value: string): string => {
    const fields = dumpStatementFields(d);
    if (describe && fields) msg.rowDescription(host.out.w, fields);
    msg.textRow(host.out.w, [value]);
    return 'SELECT 1';
  };
  switch (d.kind) {
    case 'ignored':
      host.notice(d.notice);
      return d.tag;
    case 'lock':
      if (host.transaction.status !== 'T') throw new SqlError('25P01', 'LOCK TABLE can only be used in transaction blocks');
      return 'LOCK TABLE';
    case 'set-config':
      await setConfig(host, d.name, d.value);
      return row(d.value);
    case 'setval':
      await refuseWrite(host, 'setval()', null);
      await setval(host.conn, d.sequence, d.value, d.isCalled);
      host.transaction.journalLoss('setval(), which moves a sequence');
      return row(String(d.value));
    case 'add-constraint':
      await refuseWrite(host, 'ALTER TABLE', d.table);
      await host.parkOpenCursor();
      await addConstraint(host, await resolveTable(host.conn, d.table), d.constraint, d.primaryKey);
      return 'ALTER TABLE';
    case 'add-identity':
      await addIdentity(host, d);
      return 'ALTER TABLE';
    case 'sequence-owner':
      await refuseWrite(host, 'ALTER SEQUENCE', null);
      await setSequenceOwner(host, d.sequence, d.owner);
      return 'ALTER SEQUENCE';
    case 'comment-function':
      await commentOnMacro(host, d.function, d.comment);
      return 'COMMENT';
  }
}

/**
 * What the registry guard and a read-only transaction refuse of the SQL these statements stand
 * for: writing a table of the `ai` schema (42501), and any write in a read-only transaction (25006).
 */
async function refuseWrite(host: SpecialHost, what: string, table: QualifiedName | null): Promise<void> {
  if (table && (await resolveTable(host.conn, table)).schema === 'ai') {
    throw new SqlError('42501', `permission denied for table ai.${table.name}: the model registry and the runs are written only by their commands`,
      'use the registry commands (register_model, set_model_alias, set_model_tag, log_run, ...)');
  }
  if (host.transaction.readOnly) {
    throw new SqlError('25006', `cannot execute ${what} in a read-only transaction`,
      'the transaction is read only (BEGIN READ ONLY, SET TRANSACTION READ ONLY or default_transaction_read_only)');
  }
}

/** set_config(name, value, false): search_path goes to DuckDB (empty: no schema, as pg_dump wants it), other settings to the session's. */
async function setConfig(host: SpecialHost, name: string, value: string): Promise<void> {
  if (/^search_path$/i.test(name)) {
    const schemas = value.split(',').map((s) => s.trim().replace(/^"(.*)"$/, '$1')).filter(Boolean);
    await host.run(schemas.length ? setSearchPathSql(schemas) : "SET search_path = ''");
    return;
  }
  if (!isPgSetting(name)) throw new SqlError('42704', `unrecognized configuration parameter "${name}"`);
  const status = host.settings.set(name, value);
  if (status) msg.parameterStatus(host.out.w, status[0], status[1]);
}

interface SequenceState {
  name: string;
  start: bigint;
  increment: bigint;
  min: bigint;
  max: bigint;
  last: bigint | null;
}

/** The sequence a name (maybe qualified, maybe quoted) stands for: in its schema, or the session's current one. */
async function sequenceState(conn: DuckDBConnection, name: string): Promise<SequenceState> {
  const parts = name.split('.').map((p) => p.trim().replace(/^"(.*)"$/, '$1'));
  const [schema, seq] = parts.length === 2 ? parts : [null, parts[0]!];
  const reader = await conn.runAndReadAll(`SELECT schema_name, sequence_name, start_value, increment_by, min_value, max_value, last_value
    FROM duckdb_sequences() WHERE database_name = current_database() AND sequence_name = $1
      AND schema_name = coalesce($2, current_schema())`, [seq!, schema]);
  const r = reader.getRows()[0];
  if (!r) throw new SqlError('42P01', `relation "${name}" does not exist`);
  return {
    name: sequenceName({ schema: String(r[0]), name: String(r[1]) }),
    start: BigInt(String(r[2])), increment: BigInt(String(r[3])), min: BigInt(String(r[4])), max: BigInt(String(r[5])),
    last: r[6] === null ? null : BigInt(String(r[6])),
  };
}

/**
 * setval(seq, value, is_called): DuckDB cannot set a sequence, so it is moved forward by nextval
 * to the value (a restore does this on a fresh sequence). Back, or off the sequence's steps, is refused.
 */
async function setval(conn: DuckDBConnection, name: string, value: bigint, isCalled: boolean): Promise<void> {
  const s = await sequenceState(conn, name);
  if (value < s.min || value > s.max) {
    throw new SqlError('22003', `setval: value ${value} is out of bounds for sequence "${name}" (${s.min}..${s.max})`);
  }
  const next = s.last === null ? s.start : s.last + s.increment;
  const target = isCalled ? value + s.increment : value;
  const steps = (target - next) / s.increment;
  if (steps < 0n || steps * s.increment !== target - next) {
    throw new SqlError('0A000', `setval cannot move sequence "${name}" to ${value}: a DuckDB sequence only moves forward, by its increment`,
      `its next value is ${next}; to start elsewhere, create the sequence again with START WITH`);
  }
  if (steps > MAX_SETVAL_STEPS) {
    throw new SqlError('0A000', `setval would have to draw ${steps} values from sequence "${name}" (DuckDB cannot set a sequence)`,
      `create the sequence with START WITH ${target} instead`);
  }
  if (steps > 0n) await conn.run(`SELECT max(nextval(${sqlString(s.name)})) FROM range(${steps})`);
}

/**
 * ADD GENERATED ... AS IDENTITY: a sequence with the options given, owned by the column, and the
 * column's default drawing from it, as a serial column is made here (sequence-columns.ts). DuckDB
 * has no identity columns, so ALWAYS cannot refuse a value given explicitly: the NOTICE says so.
 */
async function addIdentity(host: SpecialHost, d: DumpStatement & { kind: 'add-identity' }): Promise<void> {
  const table = await resolveTable(host.conn, d.table);
  const seq = { schema: d.sequence.schema ?? table.schema, name: d.sequence.name };
  const sequence = sequenceName(seq);
  await host.runChecked(rewriteDumpForms(`CREATE SEQUENCE ${qualifiedSql(seq)} ${d.options}`));
  await host.runChecked(`ALTER TABLE ${qualifiedSql(table)} ALTER COLUMN ${qualifiedSql({ schema: null, name: d.column })} SET DEFAULT nextval(${sqlString(sequence)})`);
  await setSequenceOwner(host, seq, { table, column: d.column });
  if (d.always) {
    host.notice(`column "${d.column}" of ${qualifiedSql(table)} draws its values from ${sequence} by default; GENERATED ALWAYS cannot refuse explicit values in aiduck`);
  }
}

/** A sequence's name as nextval takes it (and pg_get_expr shows it): quoted only where it must be. */
const sequenceName = (q: QualifiedName): string =>
  [q.schema, q.name].filter((p): p is string => p !== null).map((p) => (/^[a-z_][a-z0-9_$]*$/.test(p) ? p : `"${p.replace(/"/g, '""')}"`)).join('.');

/** COMMENT ON FUNCTION of a macro: DuckDB's COMMENT ON MACRO, or MACRO TABLE for a table macro. */
async function commentOnMacro(host: SpecialHost, fn: QualifiedName, comment: string | null): Promise<void> {
  const found = await host.conn.runAndReadAll(`SELECT any_value(function_type) FROM duckdb_functions()
    WHERE database_name = current_database() AND function_name = $1 AND schema_name = coalesce($2, current_schema())
      AND function_type IN ('macro', 'table_macro')`, [fn.name, fn.schema]);
  const type = found.getRows()[0]?.[0];
  if (type == null) throw new SqlError('42883', `function ${fn.schema ? `${fn.schema}.` : ''}${fn.name} does not exist`);
  await host.run(`COMMENT ON MACRO ${type === 'table_macro' ? 'TABLE ' : ''}${qualifiedSql(fn)} IS ${comment === null ? 'NULL' : sqlString(comment)}`);
}

/** OWNED BY: the comment that marks a sequence as a column's (sequence-columns.ts), or none. */
async function setSequenceOwner(host: SpecialHost, seq: QualifiedName, owner: { table: QualifiedName; column: string } | null): Promise<void> {
  const s = await sequenceState(host.conn, sequenceName(seq));
  let comment = 'NULL';
  if (owner) {
    const table = await resolveTable(host.conn, owner.table);
    const found = await host.conn.runAndReadAll(`SELECT 1 FROM duckdb_columns() WHERE database_name = current_database()
      AND schema_name = $1 AND table_name = $2 AND column_name = $3`, [table.schema, table.name, owner.column]);
    if (found.currentRowCount === 0) throw new SqlError('42703', `column "${owner.column}" of relation "${table.name}" does not exist`);
    comment = sqlString(`${OWNED}${table.schema}.${table.name}.${owner.column}`);
  }
  await host.run(`COMMENT ON SEQUENCE ${s.name} IS ${comment}`);
}
