import type { DuckDBConnection, DuckDBPreparedStatement } from '@duckdb/node-api';
import { SqlError } from '../errors/sql-error.js';
import type { ModelCommand } from '../functions/commands.js';
import type { AiContext } from '../functions/context.js';
import type { CommandSession } from '../jobs/command-session.js';
import type { StatementControl } from './statement-control.js';
import type { Transaction } from './transaction.js';

/** What running a registry command needs of its session. */
export interface CommandHost {
  conn: DuckDBConnection;
  ai: AiContext;
  sid: number;
  transaction: Transaction;
  control: StatementControl;
  /** Runs SQL on the session's connection (after parking an open result). */
  run(sql: string): Promise<void>;
  /** Sends the client a NOTICE now. */
  notice(message: string): void;
}

/**
 * Runs a registry command (register_model, train_lora, ...) in a transaction of its own, one command
 * at a time across sessions, then reloads the shared registry from what was committed. Inside a
 * transaction block it is refused (as Postgres refuses CREATE DATABASE there): every session
 * resolves models from the one shared registry, which must only ever hold committed versions.
 */
export async function runCommand(host: CommandHost, def: ModelCommand, args: DuckDBPreparedStatement, statement: string): Promise<void> {
  if (host.transaction.open) {
    throw new SqlError('25001', `${def.name} cannot run inside a transaction block`,
      'run it as a statement of its own, outside BEGIN ... COMMIT and not in a multi-statement query; drivers that open a transaction for '
      + "every statement need autocommit for it (psycopg2: conn.autocommit = True; SQLAlchemy: execution_options(isolation_level='AUTOCOMMIT'); JDBC: setAutoCommit(true))");
  }
  const json = (await args.runAndReadAll()).getRows()[0]?.[0];
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(String(json)) as Record<string, unknown>;
  } catch {
    throw new SqlError('22023', `${def.name}: every number argument must be finite (not infinity or NaN)`);
  }
  const { ai, control } = host;
  const session: CommandSession = {
    sid: host.sid,
    statement,
    stopReason: () => control.stopReason(),
    notice: (message) => host.notice(message),
    progress: (fn, model, rows, cached) => control.progress(fn, model, rows, cached),
    trainingStep: (fn, model, examples, state) => control.trainingStep(fn, model, examples, state),
  };
  await def.run(host.conn, ai, parsed, (work) => ai.registryWrite(async () => {
    await host.run('BEGIN TRANSACTION');
    try {
      await work();
      const stop = control.stopReason();
      if (stop) throw new SqlError('57014', stop);
      // From here the change stands: a cancel that comes now is too late, as after a COMMIT in Postgres.
      control.markCommitted();
      await host.run('COMMIT');
    } catch (err) {
      await host.run('ROLLBACK').catch(() => undefined);
      throw err;
    }
    // Not through this session's connection: a client that goes away now interrupts it, and every
    // other session would keep resolving models from the registry as it was.
    await ai.reloadRegistry();
  }), session);
}
