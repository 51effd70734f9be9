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
  /**
   * A DROP of several objects (drop-many.ts): the DROP IF EXISTS of each, in order, that it runs as
   * one; `prepared` is the first of them, which describes it.
   */
  drops?: string[];
  /** Column types a Describe of the statement promised; a later result of another shape is refused. */
  describedOids?: number[];
  /** Preparing it did nothing but prepare (no run recorded, no command): the same text may reuse it. */
  reusable?: boolean;
  /** Where the statement cache keeps it (its text and declared parameter types), and the version it was prepared under. */
  cacheKey?: string;
  cacheVersion?: string;
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
 * statements by text and declared parameter types: a SELECT or a statement with parameters that
 * comes again (a simple query, or the Parse node-postgres sends before every execution) skips the
 * rewrite pipeline and DuckDB's prepare. A cached statement is reused only under the catalog
 * version and registry generation it was prepared under (catalog-version.ts), so what was derived
 * from the catalog at prepare (parameter types, column origins, a Describe's types) still holds.
 */
export class StatementStore {
  private readonly statements = new Map<string, Statement>();
  private readonly portals = new Map<string, Portal>();
  private readonly cache = new Map<string, Statement>();
  /** Names of statements prepared by SQL PREPARE (DuckDB holds them; DuckDB's DEALLOCATE does not say when a name is unknown). */
  readonly sqlPrepared = new Set<string>();
  /** The version the cache was filled under. */
  private cacheVersion = '';

  constructor(
    private readonly onPortalClosed: (portal: Portal) => void,
    /** The catalog version and registry generation now. */
    private readonly version: () => string,
  ) {}

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

  /** A statement for this text and these declared parameter types: the cached one (taken out while in use), or a new one. */
  async reuseOrPrepare(sql: string, declaredOids: readonly number[], prepare: () => Promise<Statement>): Promise<Statement> {
    const version = this.version();
    if (version !== this.cacheVersion) {
      for (const old of this.cache.values()) old.prepared?.destroySync();
      this.cache.clear();
      this.cacheVersion = version;
    }
    const key = `${declaredOids.join(',')}\u0000${sql}`;
    const cached = this.cache.get(key);
    if (cached) {
      this.cache.delete(key);
      return cached;
    }
    const statement = await prepare();
    if (statement.reusable) {
      statement.cacheKey = key;
      statement.cacheVersion = version;
    }
    return statement;
  }

  /** Returns a statement no longer in use to the cache, or frees it. */
  release(statement: Statement): void {
    const p = statement.prepared;
    if (!p) return;
    delete statement.describedOids;
    const key = statement.cacheKey;
    if (!key || statement.special || statement.cacheVersion !== this.version() || this.cache.has(key) ||
      (p.statementType !== StatementType.SELECT && p.parameterCount === 0)) {
      p.destroySync();
      return;
    }
    this.cache.set(key, statement);
    if (this.cache.size > MAX_CACHED_STATEMENTS) {
      const [oldest, old] = this.cache.entries().next().value as [string, Statement];
      this.cache.delete(oldest);
      old.prepared?.destroySync();
    }
  }
}
