import * as msg from '../protocol/backend.js';
import type { FieldDescription } from '../protocol/backend.js';
import { SqlError } from '../errors/sql-error.js';
import { isPgSetting, parseBoolean, type PgSettings } from '../pg/settings.js';
import type { SpecialStatement } from '../pg/special-statements.js';
import { Oid } from '../pg/types/oids.js';
import { quoteIdent, sqlString } from '../sqltext/quote.js';
import { DEFAULT_SEARCH_PATH, setSearchPathSql } from '../pg/search-path.js';
import { readOnlyRefusal, type IsTemporary } from '../pg/read-only.js';
import { StatementType } from '@duckdb/node-api';
import { registryWriteRefusal } from '../registry/write-guard.js';
import { runCopy, type CopyHost } from './copy/copy.js';
import { schemaResolver } from './prepare.js';
import type { StatementStore } from './statements.js';
import type { SqlCursors } from './cursors.js';
import type { Notifications } from './notifications.js';
import { runWithSequences } from './sequence-columns.js';
import type { RebuildHost } from './savepoints.js';
import type { Transaction } from './transaction.js';
import { runDumpStatement } from './dump-runner.js';
import { ignoredSettingNotice } from '../pg/dump-statements.js';
import { knowsZone } from '../pg/types/time-zone.js';
import type { SessionOutput } from './output.js';

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
  /** Whether the DuckDB transaction can still run statements (a failed statement may have ended it). */
  transactionIntact(): Promise<boolean>;
  rebuild: RebuildHost;
  isTemporary: IsTemporary;
  cursors: SqlCursors;
  notifications: Notifications;
  /** Prepares (with every check a client statement gets) and runs a statement. */
  runChecked(sql: string): Promise<void>;
  notice(message: string, code?: string): void;
  /** How many statements DuckDB has prepared for the session (SHOW aiduck.statement_prepares). */
  statementPrepares(): number;
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
      await host.transaction.begin(s.readOnly);
      return s.tag;
    case 'commit':
      return host.transaction.commit();
    case 'rollback':
      return host.transaction.rollback();
    case 'savepoint':
      return host.transaction.savepoint(s.name);
    case 'release':
      return host.transaction.release(s.name);
    case 'rollback-to':
      await host.parkOpenCursor();
      return host.transaction.rollbackTo(s.name, () => host.transactionIntact(), host.rebuild);
    case 'transaction-mode':
      if (s.scope === 'transaction') host.transaction.setMode(s.readOnly);
      else if (s.readOnly !== null) host.settings.set('default_transaction_read_only', s.readOnly ? 'on' : 'off');
      return 'SET';
    case 'sequence-columns':
      return runWithSequences(host, s.spec);
    case 'listen':
      host.notifications.listen(s.channel);
      return 'LISTEN';
    case 'unlisten':
      host.notifications.unlisten(s.channel);
      return 'UNLISTEN';
    case 'notify':
      host.notifications.notify(s.channel, s.payload);
      return 'NOTIFY';
    case 'fetch':
      return host.cursors.fetch(s.fetch, describe);
    case 'close':
      return host.cursors.close(s.name);
    case 'declare':
      throw new Error('DECLARE runs from portal-runner.ts, which binds its query');
    case 'deallocate':
      await deallocate(host, s.name);
      return s.name === null ? 'DEALLOCATE ALL' : 'DEALLOCATE';
    case 'set': {
      if (s.name.toLowerCase() === 'transaction_read_only') {
        host.transaction.setMode(parseBoolean(s.name, s.value));
        return 'SET';
      }
      if (s.name.toLowerCase() === 'timezone') await applyTimeZone(s.value, host.run, host.out);
      const status = host.settings.set(s.name, s.value);
      if (status) msg.parameterStatus(w, status[0], status[1]);
      const ignored = ignoredSettingNotice(s.name, s.value);
      if (ignored) host.notice(ignored);
      return 'SET';
    }
    case 'search-path':
      await host.run(setSearchPathSql(s.schemas ?? DEFAULT_SEARCH_PATH));
      return s.tag;
    case 'reset': {
      if (s.name.toUpperCase() === 'ALL') {
        host.settings.resetAll();
        await host.run('RESET ALL').catch(() => undefined);
        await host.run(setSearchPathSql(DEFAULT_SEARCH_PATH));
        await applyTimeZone('UTC', host.run, host.out);
        return 'RESET';
      }
      if (s.name.toLowerCase() === 'timezone') await applyTimeZone('UTC', host.run, host.out);
      const status = host.settings.reset(s.name);
      if (status) msg.parameterStatus(w, status[0], status[1]);
      return 'RESET';
    }
    case 'show':
    case 'show-duckdb': {
      if (describe) msg.rowDescription(w, [textField(s.name)]);
      const value = s.kind === 'show-duckdb' ? await host.duckdbSetting(s.name)
        : s.name.toLowerCase() === 'transaction_read_only' ? (host.transaction.readOnly ? 'on' : 'off')
        : s.name.toLowerCase() === 'aiduck.statement_prepares' ? String(host.statementPrepares())
        : host.settings.get(s.name);
      msg.textRow(w, [value]);
      return 'SHOW';
    }
    case 'noop':
      return s.tag;
    case 'discard':
      if (host.transaction.open) throw new SqlError('25001', 'DISCARD ALL cannot run inside a transaction block');
      await deallocate(host, null);
      host.statements.dropAll();
      host.settings.resetAll();
      await applyTimeZone('UTC', host.run, host.out);
      return 'DISCARD ALL';
    case 'copy': {
      await host.parkOpenCursor();
      if (s.copy.direction === 'in') {
        const asDuckDB = `COPY ${s.copy.target!.table} FROM STDIN`;
        const refusal = await registryWriteRefusal(StatementType.COPY, asDuckDB, schemaResolver(host.conn))
          ?? (host.transaction.readOnly ? await readOnlyRefusal(StatementType.COPY, asDuckDB, host.isTemporary) : null);
        if (refusal) throw refusal;
      }
      const rows = await runCopy(host, s.copy);
      if (s.copy.direction === 'in') host.transaction.journalLoss('COPY FROM STDIN, whose rows are not kept');
      return `COPY ${rows}`;
    }
    case 'dump':
      return runDumpStatement(host, s.dump, describe);
    case 'forbidden':
      throw s.error;
  }
}

/**
 * The settings a client asked for at startup (pg/startup-settings.ts), applied as its SET would be;
 * one that fails ends the login, as in Postgres — except a client encoding other than UTF8, which
 * older aiduck accepted and ignored: the session stays UTF8, as it is whatever the client asks.
 */
export async function applyStartupSettings(settings: ReadonlyArray<[string, string]>, pg: PgSettings, run: (sql: string) => Promise<void>,
  out: SessionOutput): Promise<void> {
  for (const [name, value] of settings) {
    if (/^timezone$/i.test(name)) {
      await applyTimeZone(value, run, out);
      pg.set(name, value);
    } else if (/^search_path$/i.test(name)) await run(setSearchPathSql(value.split(',').map((s) => s.trim().replace(/^"(.*)"$/, '$1'))));
    else if (/^client_encoding$/i.test(name)) pg.set(name, value === 'UTF8' || /^(utf-?8|unicode|sql_ascii)$/i.test(value) ? value : 'UTF8');
    else if (isPgSetting(name)) pg.set(name, value);
    else throw new SqlError('42704', `unrecognized configuration parameter "${name}"`);
  }
}

/**
 * The session's TimeZone reaches DuckDB (its casts of text to timestamptz, date_trunc, current_date
 * and ::date of a timestamptz) and the text of the timestamptz values it sends: a zone neither DuckDB
 * nor the Intl database knows is refused as Postgres refuses it.
 */
async function applyTimeZone(zone: string, run: (sql: string) => Promise<void>, out: SessionOutput): Promise<void> {
  const posix = /^(?:UTC|GMT)([+-])(\d{1,2})(?::?00)?$/i.exec(zone.trim());
  // POSIX offsets as pgJDBC sends a JVM's GMT+01:00 ('GMT-01:00', east is negative): the Etc zones count the same way.
  const name = /^(local|default)$/i.test(zone.trim()) ? 'UTC' : posix ? `Etc/GMT${posix[1]}${Number(posix[2])}` : zone.trim();
  const refused = new SqlError('22023', `invalid value for parameter "TimeZone": "${zone}"`, 'a time zone name of the IANA database, such as UTC or Europe/Paris');
  if (!knowsZone(name)) throw refused;
  await run(`SET TimeZone = ${sqlString(name)}`).catch(() => {
    throw refused;
  });
  out.timeZone = name;
}

/**
 * DEALLOCATE: a statement prepared by Parse is dropped here; one prepared by SQL PREPARE lives in
 * DuckDB, which deallocates it.
 */
async function deallocate(host: SpecialHost, name: string | null): Promise<void> {
  const { statements } = host;
  if (name === null) {
    statements.dropAllStatements();
    for (const n of statements.sqlPrepared) await host.run(`DEALLOCATE ${quoteIdent(n)}`);
    statements.sqlPrepared.clear();
  } else if (statements.has(name)) {
    statements.dropStatement(name);
  } else if (statements.sqlPrepared.delete(name)) {
    await host.run(`DEALLOCATE ${quoteIdent(name)}`);
  } else {
    throw new SqlError('26000', `prepared statement "${name}" does not exist`);
  }
}
