import { StatementType, type DuckDBPreparedStatement } from '@duckdb/node-api';
import { SqlError } from '../errors/sql-error.js';
import type { ModelCommand } from '../functions/commands.js';
import type { ColumnOrigin } from '../pg/column-origins.js';
import type { SpecialStatement } from '../pg/special-statements.js';
import type { ResultCursor } from './result-cursor.js';

/** A statement from Parse (or from one statement of a simple query). */
export interface Statement {
  sql: string;
  special: SpecialStatement | null;
  prepared: DuckDBPreparedStatement | null;
  /** The text of the rewrite pipeline. */
  duckSql?: string;
  /** The table columns its result columns come from, where it reads one table (RowDescription reports them). */
  origins?: Array<ColumnOrigin | null>;
  /** It reads the Postgres catalog views (which a rollback may have taken away since). */
  usesCatalog?: boolean;
  /** ... and the part of it only pg_dump reads. */
  usesDumpCatalog?: boolean;
  /** The text DuckDB prepared: the pipeline's, with casts of the parameters it could not type. */
  preparedSql?: string;
  /** The query part the prefetch pass runs before the statement (null: no pass). */
  prefetchQuery?: string | null;
  /** The registry generation the rewrites were made under (ai_embed's FLOAT[n] depends on it). */
  generation?: number;
  paramOids: number[];
  /** A registry command: its arguments statement takes the parameters, `prepared` gives the answer. */
  command?: { def: ModelCommand; args: DuckDBPreparedStatement; resultSql: string };
  /** Column types a Describe of the statement promised; a later result of another shape is refused. */
  describedOids?: number[];
}

/** A bound statement (Bind), ready to run and, once running, holding its open result. */
export interface Portal {
  statement: Statement;
  params: Array<Buffer | null>;
  paramFormats: number[];
  resultFormats: number[];
  cursor: ResultCursor | null;
  /** Set once a special statement or a row-less DuckDB statement has run. */
  finishedTag: string | null;
}

const MAX_CACHED_STATEMENTS = 64;

/**
 * A session's named statements and portals (the unnamed ones under ''), and a cache of prepared
 * parameterless SELECTs by text: a simple query that comes again skips DuckDB's prepare. A cached
 * statement is described from its actual result, so metadata that DuckDB left stale after DDL does
 * no harm; Parse, whose Describe reads that metadata, always prepares afresh.
 */
export class StatementStore {
  private readonly statements = new Map<string, Statement>();
  private readonly portals = new Map<string, Portal>();
  private readonly cache = new Map<string, Statement>();
  /** Names of statements prepared by SQL PREPARE (DuckDB holds them; DuckDB's DEALLOCATE does not say when a name is unknown). */
  readonly sqlPrepared = new Set<string>();
  /** The registry generation the cache was filled under. */
  private cacheGeneration = 0;

  constructor(private readonly onPortalClosed: (portal: Portal) => void) {}

  statement(name: string): Statement {
    const s = this.statements.get(name);
    if (!s) throw new SqlError('26000', `prepared statement "${name}" does not exist`);
    return s;
  }

  portal(name: string): Portal {
    const p = this.portals.get(name);
    if (!p) throw new SqlError('34000', `portal "${name}" does not exist`);
    return p;
  }

  /** Fails before any work when a named statement exists (the unnamed one is replaced). */
  checkNewStatement(name: string): void {
    if (name && this.statements.has(name)) throw new SqlError('42P05', `prepared statement "${name}" already exists`);
  }

  addStatement(name: string, statement: Statement): void {
    this.checkNewStatement(name);
    this.dropStatement(name);
    this.statements.set(name, statement);
  }

  addPortal(name: string, portal: Portal): void {
    if (name && this.portals.has(name)) throw new SqlError('42P03', `cursor "${name}" already exists`);
    this.closePortal(name);
    this.portals.set(name, portal);
  }

  /** Close of a statement: its portals close too. */
  dropStatement(name: string): void {
    const s = this.statements.get(name);
    if (!s) return;
    this.statements.delete(name);
    for (const [pname, p] of this.portals) if (p.statement === s) this.closePortal(pname);
    this.release(s);
  }

  closePortal(name: string): void {
    const p = this.portals.get(name);
    if (!p) return;
    this.portals.delete(name);
    this.onPortalClosed(p);
  }

  has(name: string): boolean {
    return this.statements.has(name);
  }

  /** DEALLOCATE ALL: every named statement (and its portals). */
  dropAllStatements(): void {
    for (const name of [...this.statements.keys()]) this.dropStatement(name);
  }

  /** DISCARD ALL: every statement and portal. */
  dropAll(): void {
    this.dropAllStatements();
    for (const name of [...this.portals.keys()]) this.closePortal(name);
  }

  /** A cached statement for this text, taken out of the cache while it runs. */
  takeCached(sql: string, generation: number): Statement | undefined {
    // A cached statement may hold a registry-dependent rewrite (ai_embed's FLOAT[n]) that a new
    // version or a moved alias has made stale.
    if (generation !== this.cacheGeneration) {
      for (const old of this.cache.values()) old.prepared?.destroySync();
      this.cache.clear();
      this.cacheGeneration = generation;
    }
    const s = this.cache.get(sql);
    if (s) this.cache.delete(sql);
    return s;
  }

  /** Returns a statement no longer in use to the cache, or frees it. */
  release(statement: Statement): void {
    const p = statement.prepared;
    if (!p) return;
    delete statement.describedOids;
    if (statement.special || p.statementType !== StatementType.SELECT || p.parameterCount > 0 || this.cache.has(statement.sql)) {
      p.destroySync();
      return;
    }
    this.cache.set(statement.sql, statement);
    if (this.cache.size > MAX_CACHED_STATEMENTS) {
      const [oldest, old] = this.cache.entries().next().value as [string, Statement];
      this.cache.delete(oldest);
      old.prepared?.destroySync();
    }
  }
}
