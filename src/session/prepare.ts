import { StatementType, type DuckDBConnection, type DuckDBPreparedStatement } from '@duckdb/node-api';
import { SqlError } from '../errors/sql-error.js';
import { fromDuckDB, sqlstateOf } from '../errors/duckdb.js';
import { caretPosition } from '../errors/pg-fields.js';
import type { AiContext } from '../functions/context.js';
import { prefetchQuery } from '../functions/prefetch-plan.js';
import { runAndRecord } from '../functions/recorded-query.js';
import { loadPgCatalog, loadPgDumpCatalog, needsPgDumpCatalog } from '../pg/bootstrap.js';
import { refusalOfStatement } from '../pg/instance-guard.js';
import { MAY_COPY_TO, refusalOfCopyTarget } from '../pg/copy-target.js';
import { duckdbTypeForOid, parameterType } from '../pg/parameters.js';
import { classifySpecial } from '../pg/special-statements.js';
import { columnCodec } from '../pg/types/column-codec.js';
import { Oid } from '../pg/types/oids.js';
import { parseModelCommand } from '../rewrite/model-commands.js';
import { needsPgCatalog } from '../rewrite/pg-catalog.js';
import { rewrite } from '../rewrite/pipeline.js';
import { rewriteParameters } from '../sqltext/statements.js';
import { dropList } from '../sqltext/drop-list.js';
import { registryWriteRefusal, type ResolveSchema } from '../registry/write-guard.js';
import { explainQueryCommandError, MODEL_CALLING } from '../../udfs/catalog.js';
import { columnOrigins } from './connection-ops.js';
import { CatalogWatch, catalogVersion } from './catalog-version.js';
import type { Statement } from './statements.js';
import { sequenceStateQuery } from './sequence-state.js';
import { withLeadingColumns } from './short-inserts.js';

/** What preparing needs of its session. */
export interface PrepareHost {
  conn: DuckDBConnection;
  ai: AiContext;
  /** Reads the rest of an open result into memory: DuckDB allows one streaming result per connection. */
  parkOpenCursor(): Promise<void>;
  /** Whether a transaction is open (what is created in it goes if it rolls back). */
  inTransaction(): boolean;
  /** Where `COPY ... TO '<file>'` may write (pg/copy-target.ts). */
  writableDirs: readonly string[];
  /** The server's <data>/files, which data_file() names. */
  filesDir: string;
}

/**
 * How a statement a client sent becomes one DuckDB runs: a statement the session answers itself
 * (SET, BEGIN, COPY, ...; pg/special-statements.ts), a registry command, or SQL that goes through
 * the rewrite pipeline (rewrite/pipeline.ts) and is prepared by DuckDB, checked by the kind DuckDB
 * parsed it as, and its parameters typed.
 */
export class Preparer {
  /**
   * The Postgres catalog views are created on a session's first catalog query. Created inside a
   * transaction, they are `pending` until it commits; a rollback takes them away with it (SQLAlchemy
   * opens every connection with BEGIN; SELECT version(); ROLLBACK).
   */
  private catalog: 'absent' | 'pending' | 'loaded' = 'absent';
  /** The part of the catalog only pg_dump reads (pg/bootstrap.ts), the same way. */
  private dumpCatalog: 'absent' | 'pending' | 'loaded' = 'absent';

  /** How many statements DuckDB has prepared for the session (SHOW aiduck.statement_prepares). */
  prepares = 0;
  /** Told of what changes the catalog, so that cached statements are prepared again. */
  readonly catalogWatch = new CatalogWatch();

  constructor(private readonly host: PrepareHost) {}

  /** DuckDB's prepare of a text as it is, counted. */
  prepareDuckDB(sql: string): Promise<DuckDBPreparedStatement> {
    this.prepares++;
    return this.host.conn.prepare(sql);
  }

  /**
   * A DuckDB parse or binding error with Postgres' position field: where DuckDB's caret points in the
   * text the client sent (psql prints `LINE n:` and a caret from it). When the rewrites changed the
   * text, the client's own text is parsed again to place the error in it.
   */
  private async located(err: unknown, sql: string, duckSql: string): Promise<unknown> {
    const message = err instanceof Error ? err.message : '';
    if (!/\nLINE \d+:/.test(message)) return err;
    let position = duckSql === sql ? caretPosition(message, sql) : undefined;
    if (position === undefined && duckSql !== sql) {
      const again = await this.host.conn.prepare(sql).then((p) => {
        p.destroySync();
        return null;
      }, (e: unknown) => (e instanceof Error ? e.message : null));
      if (again && again.split('\n')[0] === message.split('\n')[0]) position = caretPosition(again, sql);
    }
    if (position === undefined) return err;
    const e = fromDuckDB(err);
    return new SqlError(e.code, e.message, e.hint, { ...e.fields, position });
  }

  /** Prepares a statement the session makes itself with every check a client's gets, and runs it. */
  async runChecked(sql: string): Promise<void> {
    const statement = await this.prepare(sql, []);
    try {
      if (!statement.prepared || statement.special) throw new Error(`runChecked: not a DuckDB statement: ${sql}`);
      await statement.prepared.run();
    } finally {
      statement.prepared?.destroySync();
    }
  }

  /** Creates the catalog (with pg_dump's part) if the session has none now (a statement prepared earlier may outlive it). */
  async ensureCatalog(withDumpPart = false): Promise<void> {
    const state = (): 'pending' | 'loaded' => (this.host.inTransaction() ? 'pending' : 'loaded');
    if (this.catalog === 'absent') {
      await this.host.parkOpenCursor();
      await loadPgCatalog(this.host.conn);
      this.catalog = state();
    }
    if (withDumpPart && this.dumpCatalog === 'absent') {
      await this.host.parkOpenCursor();
      await loadPgDumpCatalog(this.host.conn);
      this.dumpCatalog = state();
    }
  }

  /** What statements prepared now are valid under: the catalog version and the registry generation. */
  version(): string {
    return `${catalogVersion()}:${this.host.ai.registry.generation}`;
  }

  /** The session's DuckDB transaction ended (or was rolled back to rebuild it). */
  transactionEnded(committed: boolean): void {
    this.catalogWatch.transactionEnded();
    if (this.catalog === 'pending') this.catalog = committed ? 'loaded' : 'absent';
    if (this.dumpCatalog === 'pending') this.dumpCatalog = committed ? 'loaded' : 'absent';
  }

  async prepare(sql: string, declaredOids: number[]): Promise<Statement> {
    const special = classifySpecial(sql);
    if (special?.kind === 'declare') {
      // The cursor's query is prepared as any query is; the DECLARE takes its parameters.
      const inner = await this.prepare(special.cursor.query, declaredOids);
      if (inner.special || inner.command) {
        inner.prepared?.destroySync();
        throw new SqlError('42601', 'a cursor\'s query must be a SELECT or VALUES');
      }
      return { ...inner, sql, special, prefetchQuery: null };
    }
    if (special) return { sql, special, prepared: null, paramOids: [] };
    const drops = dropList(sql);
    if (drops && drops.items.length > 1) return this.prepareDrops(sql, drops.items.map((item) => drops.singleIfExists(item)), declaredOids);
    const { conn, ai } = this.host;
    await this.host.parkOpenCursor();
    const usesDumpCatalog = needsPgDumpCatalog(sql);
    const usesCatalog = usesDumpCatalog || needsPgCatalog(sql);
    if (usesCatalog) await this.ensureCatalog(usesDumpCatalog);
    const command = parseModelCommand(sql);
    if (command) {
      const { def } = command;
      const args = await this.prepare(`SELECT __${def.name}_args(${command.args})`, declaredOids).catch((err: unknown) => {
        // DuckDB names the internal macro; the user wrote the command.
        if (err instanceof Error && /does not support the supplied arguments|named argument repeated/.test(err.message)) {
          throw new SqlError('42883', `${def.name} does not take these arguments`, `its arguments are: ${def.signature.replaceAll(':=', '=>')}`);
        }
        throw err;
      });
      const resultSql = `SELECT ${command.columns} FROM (${def.resultSql}) AS ${def.name}`;
      const prepared = await this.prepareDuckDB(resultSql);
      return { sql, special: null, prepared, paramOids: args.paramOids, command: { def, args: args.prepared!, resultSql } };
    }
    // A query command's arguments are evaluated and its run recorded while it is rewritten: such a
    // statement is prepared afresh each time, so that each execution records its run.
    let ranSomething = false;
    const duckSql = await rewrite(await sequenceStateQuery(conn, sql) ?? sql, {
      dimensionOf: (model) => ai.registry.dimensionOf(model),
      filesDir: this.host.filesDir,
      evaluateArguments: async (def, argsText) => {
        ranSomething = true;
        const args = await this.prepareDuckDB(`SELECT __${def.name}_args(${argsText})`);
        try {
          if (args.parameterCount > 0) throw new SqlError('0A000', `${def.name} takes its arguments as literals, not parameters`);
          return JSON.parse(String((await args.runAndReadAll()).getRows()[0]?.[0])) as Record<string, unknown>;
        } finally {
          args.destroySync();
        }
      },
      runAndRecord: (query, recorded) => {
        ranSomething = true;
        return runAndRecord(conn, query, recorded, sql);
      },
      parameterTypes: async (probe, from) => {
        const p = await this.prepareDuckDB(probe).catch(() => null);
        if (!p) return null;
        try {
          return Array.from({ length: p.parameterCount - from + 1 }, (_, k) => parameterType(p, from + k));
        } finally {
          p.destroySync();
        }
      },
    });
    const refused = async (err: unknown): Promise<never> => {
      throw explainQueryCommandError(err, sql) ?? await this.located(err, sql, duckSql);
    };
    const { prepared, sql: preparedSql } = await this.prepareTyped(duckSql, declaredOids).catch(async (err: unknown) => {
      // INSERT INTO t VALUES (1) into a table of more columns: the rest take their defaults, as in Postgres.
      const named = await withLeadingColumns(conn, duckSql, err);
      return named ? this.prepareTyped(named, declaredOids).catch(refused) : refused(err);
    });
    const origins = prepared.statementType === StatementType.SELECT ? await columnOrigins(conn, duckSql, prepared.columnCount) : undefined;
    const paramOids: number[] = [];
    for (let i = 1; i <= prepared.parameterCount; i++) {
      const declared = declaredOids[i - 1] ?? 0;
      const t = parameterType(prepared, i);
      paramOids.push(declared || (t ? columnCodec(t).oid : Oid.text));
    }
    return {
      sql, duckSql, preparedSql, usesCatalog, usesDumpCatalog, ...(origins ? { origins } : {}), prefetchQuery: prefetchQuery(duckSql, MODEL_CALLING), generation: ai.registry.generation, special: null,
      prepared, paramOids, reusable: !ranSomething,
    };
  }

  /**
   * A DROP of several objects, which DuckDB refuses: each object's DROP IF EXISTS is prepared with
   * every check a single DROP gets (the registry's write guard, ...); the first one stands for the
   * statement, and portal-runner.ts runs them all as one (drop-many.ts). With IF EXISTS each, they
   * prepare whether or not the objects exist when they run: which do is checked then.
   */
  private async prepareDrops(sql: string, singles: string[], declaredOids: number[]): Promise<Statement> {
    const prepared: Statement[] = [];
    try {
      for (const single of singles) prepared.push(await this.prepare(single, declaredOids));
    } catch (err) {
      for (const s of prepared) s.prepared?.destroySync();
      // A position would point into the one object's DROP, not into the text the client sent.
      if (!(err instanceof SqlError) || err.fields.position === undefined) throw err;
      const fields = { ...err.fields };
      delete fields.position;
      throw new SqlError(err.code, err.message, err.hint, fields);
    }
    const [first, ...rest] = prepared as [Statement, ...Statement[]];
    const allDrops = prepared.every((s) => !s.special && !s.command && s.prepared?.statementType === StatementType.DROP);
    for (const s of allDrops ? rest : prepared) s.prepared?.destroySync();
    if (!allDrops) throw new SqlError('42601', 'a DROP of several objects names only objects to drop', 'drop them one statement each');
    return { ...first, sql, drops: prepared.map((s) => s.preparedSql!), reusable: prepared.every((s) => s.reusable) };
  }

  /**
   * DuckDB's prepare, refused for what a session may not run (pg/instance-guard.ts, a COPY to a file
   * outside the writable directories, a write to the registry), with parameters whose type neither
   * the client declared nor DuckDB could infer typed the way Postgres types an unknown parameter: as text.
   */
  private async prepareTyped(duckSql: string, declaredOids: number[]): Promise<{ prepared: DuckDBPreparedStatement; sql: string }> {
    const { conn } = this.host;
    let prepared = await this.prepareDuckDB(duckSql).catch((err: unknown) => {
      // `SHOW name` of neither a setting nor a table: Postgres' answer, not DuckDB's "Table ... does not exist".
      const show = /^\s*SHOW\s+([A-Za-z_][\w.]*)\s*;?\s*$/i.exec(duckSql);
      if (show && sqlstateOf(err instanceof Error ? err.message : String(err)) === '42P01') throw new SqlError('42704', `unrecognized configuration parameter "${show[1]!.toLowerCase()}"`);
      throw err;
    });
    const refusal = refusalOfStatement(prepared.statementType, duckSql)
      ?? (MAY_COPY_TO.has(prepared.statementType) ? refusalOfCopyTarget(duckSql, this.host.writableDirs) : null)
      ?? await registryWriteRefusal(prepared.statementType, duckSql, schemaResolver(conn));
    if (refusal) {
      prepared.destroySync();
      throw refusal;
    }
    const count = prepared.parameterCount;
    const needsCast = new Set<number>();
    for (let i = 1; i <= count; i++) {
      const declared = declaredOids[i - 1] ?? 0;
      if (parameterType(prepared, i) === null || (declared !== 0 && duckdbTypeForOid[declared])) needsCast.add(i);
    }
    if (!needsCast.size && !columnTypesKnown(prepared) && count > 0) for (let i = 1; i <= count; i++) needsCast.add(i);
    if (!needsCast.size) return { prepared, sql: duckSql };
    prepared.destroySync();
    let firstError: unknown;
    // Unknown parameters are text, as in Postgres; where text does not fit (`c * $1`), numbers.
    const typed = (fallback: string): string => rewriteParameters(duckSql, (i, tok) =>
      needsCast.has(i) ? `CAST(${tok} AS ${duckdbTypeForOid[declaredOids[i - 1] ?? 0] ?? fallback})` : tok);
    for (const fallback of ['VARCHAR', 'DOUBLE']) {
      const sql = typed(fallback);
      try {
        return { prepared: await this.prepareDuckDB(sql), sql };
      } catch (err) {
        if (fallback === 'DOUBLE') break;
        firstError ??= err;
      }
    }
    throw firstError;
  }
}

/** How the session's connection resolves an unqualified name (see registry/write-guard.ts). */
export function schemaResolver(conn: DuckDBConnection): ResolveSchema {
  return async (name, creating) => {
    const [current, path] = (await conn.runAndReadAll("SELECT current_schema(), current_setting('search_path')")).getRows()[0]!.map(String) as [string, string];
    if (creating) return current;
    const schemas = [...path.split(',').map((s) => s.trim().replace(/^.*\./, '')).filter(Boolean), current];
    const found = await conn.runAndReadAll(`SELECT schema_name FROM duckdb_tables() WHERE table_name = $1 UNION ALL
      SELECT schema_name FROM duckdb_views() WHERE view_name = $1`, [name]);
    const holders = new Set(found.getRows().map((r) => String(r[0])));
    return schemas.find((s) => holders.has(s)) ?? current;
  };
}

/** False when DuckDB cannot tell the result columns before it knows the parameters' types. */
function columnTypesKnown(p: DuckDBPreparedStatement): boolean {
  try {
    for (let i = 0; i < p.columnCount; i++) p.columnTypeId(i);
    return true;
  } catch {
    return false;
  }
}
