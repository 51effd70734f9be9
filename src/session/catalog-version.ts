import { StatementType } from '@duckdb/node-api';

/*
 * The version of what a prepared statement was made against: the DuckDB catalog every session of
 * this engine thread shares (tables, views, types, schemas, sequences) and the session settings
 * that change how a name or a constant is read (search_path, TimeZone, ...). A session's cached
 * statements (statements.ts, insert-templates.ts) are reused only while it is unchanged: DuckDB
 * rebinds a prepared statement after DDL, but what aiduck derived from it at prepare (parameter
 * types, the rewrite of literals by their column's type, the registry write check, RowDescription's
 * column origins) would be stale.
 *
 * One counter for every session: all of them run on the engine thread, and a change in one (a
 * DROP TABLE, a committed CREATE) can make another's cached statements stale.
 */
let version = 0;

/** The current version; compare it with the one a cached statement was prepared under. */
export const catalogVersion = (): number => version;

/** Statements after which the catalog is as it was: they read or write rows only. */
const KEEP_CATALOG: ReadonlySet<StatementType> = new Set([
  StatementType.SELECT, StatementType.INSERT, StatementType.UPDATE, StatementType.DELETE, StatementType.MERGE_INTO,
  StatementType.EXPLAIN, StatementType.COPY, StatementType.RELATION, StatementType.LOGICAL_PLAN,
]);

/**
 * One session's side: it moves the version on every change it makes, and once more when the
 * transaction that made one ends (committed, the change becomes visible to the other sessions;
 * rolled back, it is undone).
 */
export class CatalogWatch {
  private changedInTransaction = false;

  /** A statement DuckDB ran for the session, of this kind. */
  ran(type: StatementType, inTransaction: boolean): void {
    if (!KEEP_CATALOG.has(type)) this.changed(inTransaction);
  }

  /** The session changed the catalog or a setting its statements depend on. */
  changed(inTransaction: boolean): void {
    version++;
    if (inTransaction) this.changedInTransaction = true;
  }

  /** The session's transaction committed or rolled back. */
  transactionEnded(): void {
    if (!this.changedInTransaction) return;
    this.changedInTransaction = false;
    version++;
  }
}
