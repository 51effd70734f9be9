import { ResultReturnType, StatementType, type DuckDBConnection, type DuckDBPreparedStatement } from '@duckdb/node-api';
import { SqlError } from '../errors/sql-error.js';
import type { AiContext, Caller } from '../functions/context.js';
import { prefetch } from '../functions/prefetch.js';
import { commandTag } from '../pg/command-tag.js';
import { bindParameter } from '../pg/parameters.js';
import { readOnlyRefusal, type IsTemporary } from '../pg/read-only.js';
import { codeTokens, nameOf } from '../sqltext/lexer.js';
import { writeTargets } from '../sqltext/write-targets.js';
import { constraintError } from '../errors/pg-fields.js';
import { fromDuckDB } from '../errors/duckdb.js';
import { Oid } from '../pg/types/oids.js';
import * as msg from '../protocol/backend.js';
import { runCommand } from './command-runner.js';
import type { SessionOutput } from './output.js';
import type { CatalogWatch } from './catalog-version.js';
import type { Preparer } from './prepare.js';
import { ResultCursor } from './result-cursor.js';
import { dropOrphanedSequences } from './sequence-columns.js';
import { dropIfExistsNotices } from './drop-notices.js';
import { runDrops } from './drop-many.js';
import { runSpecial, type SpecialHost } from './special.js';
import type { StatementControl } from './statement-control.js';
import { sendsNoRows } from './describe.js';
import type { Portal, Statement } from './statements.js';
import type { Transaction } from './transaction.js';

/** What running a portal needs of its session. */
export interface PortalHost {
  conn: DuckDBConnection;
  ai: AiContext;
  sid: number;
  out: SessionOutput;
  caller: Caller;
  transaction: Transaction;
  control: StatementControl;
  preparer: Preparer;
  /** Told of what changes the catalog, so that cached statements are prepared again. */
  catalog: CatalogWatch;
  special: SpecialHost;
  /** Makes `cursor` the session's open result. */
  opened(cursor: ResultCursor): void;
  parkOpenCursor(): Promise<void>;
  run(sql: string): Promise<void>;
  notice(message: string): void;
  /** Whether a table a statement writes is one of the session's temporary tables (read-only transactions may write those). */
  isTemporary: IsTemporary;
}

/**
 * Runs a portal's statement: a statement the session answers itself, a registry command, or a
 * DuckDB statement (after its prefetch pass); a row-returning result is left open in portal.cursor,
 * anything else leaves its command tag in portal.finishedTag.
 */
export async function startPortal(host: PortalHost, portal: Portal, describe: boolean): Promise<void> {
  const { statement } = portal;
  const kind = statement.special?.kind;
  if (host.transaction.aborted && kind !== 'commit' && kind !== 'rollback' && kind !== 'rollback-to') {
    throw new SqlError('25P02', 'current transaction is aborted, commands ignored until end of transaction block');
  }
  if (statement.special?.kind === 'declare') {
    if (statement.usesCatalog) await host.preparer.ensureCatalog(statement.usesDumpCatalog);
    const journal = { params: portal.params, paramFormats: portal.paramFormats, paramOids: statement.paramOids };
    portal.finishedTag = await host.special.cursors.declare(statement.special.cursor, {
      prepared: statement.prepared!, sql: statement.preparedSql!, bind: (target) => bindPortal(target, portal), journal,
    });
    host.control.markCompleted();
    return;
  }
  if (statement.special) {
    portal.finishedTag = await runSpecial(host.special, statement.special, describe);
    if (CHANGES_CONTEXT.has(statement.special.kind)) host.catalog.changed(host.transaction.open);
    // A FETCH's rows are sent by then; a COPY FROM's rows are in.
    host.control.markCompleted();
    return;
  }
  await host.parkOpenCursor();
  if (statement.usesCatalog) await host.preparer.ensureCatalog(statement.usesDumpCatalog);
  await reprepareIfRegistryChanged(host, statement);
  let p = statement.prepared!;
  bindPortal(statement.command?.args ?? p, portal);
  if (host.transaction.readOnly) {
    const refusal = statement.command
      ? new SqlError('25006', `cannot execute ${statement.command.def.name} in a read-only transaction`)
      : await readOnlyRefusal(p.statementType, statement.preparedSql ?? statement.sql, host.isTemporary);
    if (refusal) throw refusal;
  }
  if (statement.drops) {
    portal.finishedTag = await runDrops(host, statement.sql, statement.drops);
    host.control.markCompleted();
    return;
  }
  if (statement.command) {
    await runCommand(host, statement.command.def, statement.command.args, statement.sql);
    host.catalog.changed(false);
    // The answer reads session variables the command just set: DuckDB fixes them at prepare.
    p = await host.conn.prepare(statement.command.resultSql);
  }
  if (statement.prefetchQuery) await prefetchFor(host, statement.prefetchQuery, portal);
  if (p.statementType === StatementType.DROP) for (const n of await dropIfExistsNotices(host.conn, statement.sql)) host.notice(n);
  // A write without RETURNING has nothing to stream but its count: one call to DuckDB, not two.
  const noRows = sendsNoRows(statement);
  const result = await (noRows ? p.run() : p.stream()).catch((err: unknown) => {
    throw withConstraintFields(err, statement.preparedSql ?? statement.sql);
  });
  host.catalog.ran(p.statementType, host.transaction.open);
  host.transaction.ranByDuckDB(p.statementType, statement.sql);
  if (p.statementType === StatementType.PREPARE) {
    const name = codeTokens(statement.sql)[1];
    if (name) host.special.statements.sqlPrepared.add(nameOf(name) ?? name.text);
  }
  if (!UNCHANGING.has(p.statementType)) {
    host.transaction.journal({ sql: statement.preparedSql ?? statement.sql, params: portal.params, paramFormats: portal.paramFormats, paramOids: statement.paramOids });
  }
  if (result.returnType === ResultReturnType.QUERY_RESULT) {
    const cursor = new ResultCursor(result, portal.resultFormats, statement.origins, host.out.timeZone);
    const described = statement.describedOids;
    if (described) {
      const actual = cursor.fields.map((f) => f.typeOid);
      if (actual.length !== described.length || actual.some((o, i) => o !== described[i] && described[i] !== Oid.text)) {
        throw new SqlError('0A000', 'cached plan must not change result type', 'prepare the statement again (its tables changed)');
      }
    }
    if (describe) msg.rowDescription(host.out.w, cursor.fields);
    portal.cursor = cursor;
    host.opened(cursor);
    return;
  }
  let changed = 0;
  if (noRows && result.returnType === ResultReturnType.CHANGED_ROWS) changed = Number(result.rowsChanged);
  else if (result.returnType === ResultReturnType.CHANGED_ROWS) {
    const chunk = await result.fetchChunk().catch((err: unknown) => {
      throw withConstraintFields(err, statement.preparedSql ?? statement.sql);
    });
    const v = chunk && chunk.rowCount > 0 ? chunk.getColumns()[0]?.[0] : 0;
    changed = Number(v ?? 0);
  }
  if (p.statementType === StatementType.DROP || p.statementType === StatementType.ALTER) await dropOrphanedSequences(host.conn);
  // CREATE TABLE ... AS reports its row count the way Postgres does: "SELECT n".
  portal.finishedTag = p.statementType === StatementType.CREATE && result.returnType === ResultReturnType.CHANGED_ROWS
    ? `SELECT ${changed}`
    : commandTag(p.statementType, statement.sql, changed);
  host.control.markCompleted();
}

/**
 * A statement prepared before a registry change may cast ai_embed to another model version's
 * FLOAT[n]: it is prepared again (a result of a new shape then fails the Describe check, as a
 * stale plan does in Postgres).
 */
async function reprepareIfRegistryChanged(host: PortalHost, statement: Statement): Promise<void> {
  const generation = host.ai.registry.generation;
  if (statement.generation === undefined || statement.generation === generation || !statement.duckSql?.includes('ai_embed')) return;
  const fresh = await host.preparer.prepare(statement.sql, statement.paramOids);
  statement.generation = generation;
  if (fresh.duckSql === statement.duckSql) return fresh.prepared?.destroySync();
  statement.prepared?.destroySync();
  statement.prepared = fresh.prepared;
  statement.duckSql = fresh.duckSql!;
  statement.preparedSql = fresh.preparedSql!;
  statement.prefetchQuery = fresh.prefetchQuery ?? null;
}

/**
 * Statements the session answers itself after which cached statements may read names or constants
 * otherwise (search_path, TimeZone, ...), or the catalog may be another (a rolled-back savepoint).
 */
const CHANGES_CONTEXT: ReadonlySet<string> = new Set(['search-path', 'set', 'reset', 'discard', 'rollback-to']);

/** A DuckDB constraint error in Postgres' words, with the table and constraint it is about (errors/pg-fields.ts). */
export function withConstraintFields(err: unknown, sql: string): unknown {
  const raw = err instanceof Error ? err.message : '';
  if (!raw.startsWith('Constraint Error: ')) return err;
  const target = writeTargets(codeTokens(sql))?.[0];
  const c = constraintError(raw.slice('Constraint Error: '.length), target?.name ?? null);
  if (!c) return err;
  const schema = target?.schema ? { schema: target.schema } : {};
  return new SqlError(c.code ?? fromDuckDB(err).code, c.message, undefined, { ...schema, ...c.fields });
}

/** Statements that leave a transaction as it was: a ROLLBACK TO SAVEPOINT need not run them again. */
const UNCHANGING: ReadonlySet<StatementType> = new Set([
  StatementType.SELECT, StatementType.EXPLAIN, StatementType.TRANSACTION, StatementType.PREPARE, StatementType.PRAGMA,
  StatementType.RELATION, StatementType.CALL, StatementType.LOGICAL_PLAN,
]);

function bindPortal(target: DuckDBPreparedStatement, portal: Portal): void {
  bindParameters(target, portal.params, portal.paramFormats, portal.statement.paramOids);
}

/** Binds a Bind message's parameters to a DuckDB statement. */
export function bindParameters(target: DuckDBPreparedStatement, params: ReadonlyArray<Buffer | null>, formats: readonly number[], oids: readonly number[]): void {
  target.clearBindings();
  for (let i = 0; i < params.length; i++) {
    const format = formats.length === 1 ? formats[0]! : (formats[i] ?? 0);
    bindParameter(target, i + 1, oids[i] ?? 0, format, params[i] ?? null);
  }
}

/** Computes the statement's model calls before it runs, without holding the engine thread (functions/prefetch.ts). */
async function prefetchFor(host: PortalHost, query: string, portal: Portal): Promise<void> {
  // Inside a transaction a failing pass would abort it: the functions compute during the statement.
  if (host.transaction.open) return;
  const bind = portal.params.length === 0 ? null : (query: DuckDBPreparedStatement): boolean => {
    if (query.parameterCount !== portal.params.length) return false;
    bindPortal(query, portal);
    return true;
  };
  try {
    await prefetch(host.conn, host.ai, host.caller, query, () => host.control.stopping, bind);
  } catch {
    // The statement itself reports whatever made the prefetch fail.
  }
  host.control.throwIfStopped();
}
