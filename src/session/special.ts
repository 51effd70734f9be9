import * as msg from '../protocol/backend.js';
import type { FieldDescription } from '../protocol/backend.js';
import { SqlError } from '../errors/sql-error.js';
import type { PgSettings } from '../pg/settings.js';
import type { SpecialStatement } from '../pg/special-statements.js';
import { Oid } from '../pg/types/oids.js';
import { runCopy, type CopyHost } from './copy/copy.js';
import type { StatementStore } from './statements.js';
import type { Transaction } from './transaction.js';

/** A text column in a RowDescription. */
export const textField = (name: string): FieldDescription => ({ name, typeOid: Oid.text, typeSize: -1, typeModifier: -1, format: 0 });

/** What the statements the session answers itself need of it. */
export interface SpecialHost extends CopyHost {
  transaction: Transaction;
  settings: PgSettings;
  statements: StatementStore;
  /** Runs SQL on the session's connection (after parking an open result). */
  run(sql: string): Promise<void>;
  /** A DuckDB setting's value, as text. */
  duckdbSetting(name: string): Promise<string>;
  parkOpenCursor(): Promise<void>;
}

/**
 * Runs a statement the session answers itself (transaction verbs, Postgres settings, COPY with
 * the client, DISCARD, refusals); returns its command tag. With `describe`, a SHOW sends its
 * RowDescription first (the simple query protocol).
 */
export async function runSpecial(host: SpecialHost, s: SpecialStatement, describe: boolean): Promise<string> {
  const w = host.out.w;
  switch (s.kind) {
    case 'begin':
      return host.transaction.begin();
    case 'commit':
      return host.transaction.commit();
    case 'rollback':
      return host.transaction.rollback();
    case 'set': {
      const status = host.settings.set(s.name, s.value);
      if (status) msg.parameterStatus(w, status[0], status[1]);
      return 'SET';
    }
    case 'reset': {
      if (s.name.toUpperCase() === 'ALL') {
        host.settings.resetAll();
        await host.run('RESET ALL').catch(() => undefined);
        return 'RESET';
      }
      const status = host.settings.reset(s.name);
      if (status) msg.parameterStatus(w, status[0], status[1]);
      return 'RESET';
    }
    case 'show':
    case 'show-duckdb': {
      if (describe) msg.rowDescription(w, [textField(s.name)]);
      const value = s.kind === 'show' ? host.settings.get(s.name) : await host.duckdbSetting(s.name);
      msg.textRow(w, [value]);
      return 'SHOW';
    }
    case 'noop':
      return s.tag;
    case 'discard':
      if (host.transaction.open) throw new SqlError('25001', 'DISCARD ALL cannot run inside a transaction block');
      host.statements.dropAll();
      host.settings.resetAll();
      return 'DISCARD ALL';
    case 'copy': {
      await host.parkOpenCursor();
      const rows = await runCopy(host, s.copy);
      return `COPY ${rows}`;
    }
    case 'forbidden':
      throw s.error;
  }
}
