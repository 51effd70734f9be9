import { StatementType, type DuckDBConnection } from '@duckdb/node-api';
import { commandTag } from '../pg/command-tag.js';
import { dropList } from '../sqltext/drop-list.js';
import type { CatalogWatch } from './catalog-version.js';
import { missingObjects } from './drop-notices.js';
import { dropOrphanedSequences } from './sequence-columns.js';
import type { Transaction } from './transaction.js';

/** What running a DROP of several objects needs of its session. */
export interface DropHost {
  conn: DuckDBConnection;
  transaction: Transaction;
  catalog: CatalogWatch;
  notice(message: string): void;
}

/**
 * Runs `DROP <kind> [IF EXISTS] a, b, ...` as Postgres does, over DuckDB, which drops one object per
 * statement. Every name is looked up first: a missing one without IF EXISTS, or one of another kind
 * (DROP TABLE of a view), fails the statement before anything is dropped; with IF EXISTS, a missing
 * one gets its NOTICE. Then each object's DROP IF EXISTS runs (`drops`, from prepare.ts), all in one
 * transaction — the open one, or one of its own — so that a failure (an object others depend on,
 * without CASCADE) leaves every object in place. Each DROP goes into the savepoint journal as it
 * runs; the statement's tag is `DROP <KIND>`.
 */
export async function runDrops(host: DropHost, sql: string, drops: readonly string[]): Promise<string> {
  const list = dropList(sql);
  if (list) {
    const missing = await missingObjects(host.conn, list);
    const fatal = missing.findIndex((m) => !list.ifExists || m.wrongKind);
    // As Postgres looks the names up, the NOTICEs of those before a failing one are sent.
    for (const m of fatal < 0 ? missing : missing.slice(0, fatal)) host.notice(m.notice);
    if (fatal >= 0) throw missing[fatal]!.error;
  }
  const { transaction } = host;
  if (transaction.open) {
    await dropAll(host, drops);
  } else {
    await transaction.beginImplicit();
    try {
      await dropAll(host, drops);
    } catch (err) {
      transaction.failed();
      await transaction.endImplicit();
      throw err;
    }
    await transaction.endImplicit();
  }
  return commandTag(StatementType.DROP, drops[0]!, 0);
}

/**
 * The DROPs in order; one DuckDB refuses because a table it names is referenced by the foreign key
 * of a table dropped later in the same statement (which Postgres drops together) is tried again
 * after the others.
 */
async function dropAll(host: DropHost, drops: readonly string[]): Promise<void> {
  let pending = [...drops];
  while (pending.length) {
    const deferred: Array<{ sql: string; err: unknown }> = [];
    for (const sql of pending) {
      try {
        await host.conn.run(sql);
      } catch (err) {
        if (!REFERENCED_BY_FOREIGN_KEY.test(err instanceof Error ? err.message : '')) throw err;
        deferred.push({ sql, err });
        continue;
      }
      host.catalog.ran(StatementType.DROP, host.transaction.open);
      host.transaction.journal({ sql, params: [], paramFormats: [], paramOids: [] });
    }
    if (deferred.length === pending.length) throw deferred[0]!.err;
    pending = deferred.map((d) => d.sql);
  }
  await dropOrphanedSequences(host.conn);
}

/** DuckDB's refusal to drop a table another table's foreign key references (it leaves the transaction usable). */
const REFERENCED_BY_FOREIGN_KEY = /because this table is main key table of the table/;
