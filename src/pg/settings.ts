import { SqlError } from '../errors/sql-error.js';

export const SERVER_VERSION = '15.0';
export const SERVER_VERSION_NUM = '150000';

interface SettingSpec {
  default: string;
  /** Sent to the client as ParameterStatus at startup and when it changes. */
  reported?: boolean;
  readOnly?: boolean;
  /** Checks and normalizes a value a client sets. */
  accept?: (value: string) => string;
}

/** A boolean setting's value as Postgres reads it. */
export function parseBoolean(name: string, value: string): boolean {
  const v = value.trim().toLowerCase();
  if (['on', 'true', 'yes', '1', 't', 'y'].includes(v)) return true;
  if (['off', 'false', 'no', '0', 'f', 'n'].includes(v)) return false;
  throw new SqlError('22023', `parameter "${name}" requires a Boolean value`);
}

function utf8Only(value: string): string {
  if (/^(utf-?8|unicode|sql_ascii)$/i.test(value)) return 'UTF8';
  throw new SqlError('22023', `client_encoding "${value}" is not supported; aiduck speaks UTF8`);
}

/** client_min_messages' levels, least severe first (Postgres ranks LOG below NOTICE for the client). */
const MESSAGE_LEVELS = ['debug5', 'debug4', 'debug3', 'debug2', 'debug1', 'log', 'notice', 'warning', 'error'];

function messageLevel(value: string): string {
  const v = value.trim().toLowerCase();
  if (v === 'debug') return 'debug2';
  if (MESSAGE_LEVELS.includes(v)) return v;
  throw new SqlError('22023', `invalid value for parameter "client_min_messages": "${value}"`, `Available values: ${MESSAGE_LEVELS.join(', ')}.`);
}

/**
 * Settings that exist in Postgres sessions but not in DuckDB. Clients set and read these on
 * connect; aiduck keeps them per session. Any other SET/SHOW goes to DuckDB.
 */
const specs: Readonly<Record<string, SettingSpec>> = {
  application_name: { default: '', reported: true },
  client_encoding: { default: 'UTF8', reported: true, accept: utf8Only },
  datestyle: { default: 'ISO, MDY', reported: true },
  timezone: { default: 'UTC', reported: true },
  intervalstyle: { default: 'postgres', reported: true },
  integer_datetimes: { default: 'on', reported: true, readOnly: true },
  standard_conforming_strings: { default: 'on', reported: true },
  server_version: { default: SERVER_VERSION, reported: true, readOnly: true },
  server_version_num: { default: SERVER_VERSION_NUM, readOnly: true },
  server_encoding: { default: 'UTF8', reported: true, readOnly: true },
  is_superuser: { default: 'on', reported: true, readOnly: true },
  session_authorization: { default: '', reported: true },
  extra_float_digits: { default: '1' },
  statement_timeout: { default: '0', accept: (v) => showMilliseconds(parseTimeout('statement_timeout', v)) },
  lock_timeout: { default: '0', accept: (v) => showMilliseconds(parseTimeout('lock_timeout', v)) },
  idle_in_transaction_session_timeout: { default: '0', accept: (v) => showMilliseconds(parseTimeout('idle_in_transaction_session_timeout', v)) },
  client_min_messages: { default: 'notice', accept: messageLevel },
  bytea_output: { default: 'hex' },
  default_transaction_isolation: { default: 'repeatable read' },
  transaction_isolation: { default: 'repeatable read' },
  default_transaction_read_only: { default: 'off', accept: (v) => (parseBoolean('default_transaction_read_only', v) ? 'on' : 'off') },
  transaction_read_only: { default: 'off' },
  max_identifier_length: { default: '63', readOnly: true },
  jit: { default: 'off' },
  row_security: { default: 'on' },
  synchronous_commit: { default: 'on' },
  lc_messages: { default: 'C' },
  lc_monetary: { default: 'C' },
  lc_numeric: { default: 'C' },
  lc_time: { default: 'C' },
  lc_collate: { default: 'C', readOnly: true },
  lc_ctype: { default: 'C', readOnly: true },
  geqo: { default: 'on' },
  max_connections: { default: '100', readOnly: true },
  max_index_keys: { default: '32', readOnly: true },
  in_hot_standby: { default: 'off', reported: true, readOnly: true },
  default_text_search_config: { default: 'pg_catalog.english' },
  // What pg_dump and its scripts set; aiduck has no behaviour behind them (dump-statements.ts says
  // when a value asks for something it does not do).
  synchronize_seqscans: { default: 'on' },
  check_function_bodies: { default: 'on' },
  xmloption: { default: 'content' },
  default_tablespace: { default: '' },
  default_table_access_method: { default: 'heap' },
  default_with_oids: { default: 'off' },
};

const canonicalNames: Readonly<Record<string, string>> = {
  datestyle: 'DateStyle',
  timezone: 'TimeZone',
  intervalstyle: 'IntervalStyle',
};

export function isPgSetting(name: string): boolean {
  return Object.hasOwn(specs, name.toLowerCase());
}

/** One session's values of the Postgres-only settings. */
export class PgSettings {
  private values = new Map<string, string>();

  constructor(private readonly user: string, private readonly maxConnections: number) {}

  get(name: string): string {
    const key = name.toLowerCase();
    if (key === 'session_authorization') return this.values.get(key) ?? this.user;
    if (key === 'max_connections') return String(this.maxConnections);
    return this.values.get(key) ?? specs[key]?.default ?? '';
  }

  /** Sets a value; returns the ParameterStatus pair to send when the client must be told. */
  set(name: string, value: string): [string, string] | null {
    const key = name.toLowerCase();
    const spec = specs[key];
    if (!spec) throw new SqlError('42704', `unrecognized configuration parameter "${name}"`);
    if (spec.readOnly) throw new SqlError('55P02', `parameter "${name}" cannot be changed`);
    const v = spec.accept ? spec.accept(value) : value;
    this.values.set(key, v);
    return spec.reported ? [canonicalNames[key] ?? key, v] : null;
  }

  reset(name: string): [string, string] | null {
    const key = name.toLowerCase();
    this.values.delete(key);
    return specs[key]?.reported ? [canonicalNames[key] ?? key, this.get(key)] : null;
  }

  resetAll(): void {
    this.values.clear();
  }

  /** Whether a NOTICE or WARNING goes to the client under its client_min_messages. */
  sends(severity: 'NOTICE' | 'WARNING'): boolean {
    return MESSAGE_LEVELS.indexOf(severity.toLowerCase()) >= MESSAGE_LEVELS.indexOf(this.get('client_min_messages'));
  }

  /** Statement timeout in milliseconds (0: none). */
  get statementTimeoutMs(): number {
    return parseTimeout('statement_timeout', this.get('statement_timeout'));
  }

  /** The ParameterStatus pairs sent right after authentication. */
  reportedAtStartup(): Array<[string, string]> {
    return Object.entries(specs)
      .filter(([, s]) => s.reported)
      .map(([k]) => [canonicalNames[k] ?? k, this.get(k)]);
  }
}

function parseTimeout(name: string, v: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|min|h|d)?\s*$/i.exec(v);
  if (!m) throw new SqlError('22023', `invalid value for parameter "${name}": "${v}"`, 'use e.g. 5000, \'5s\' or \'2min\'');
  const unit = (m[2] ?? 'ms').toLowerCase();
  const factor = unit === 's' ? 1000 : unit === 'min' ? 60_000 : unit === 'h' ? 3_600_000 : unit === 'd' ? 86_400_000 : 1;
  return Math.round(Number(m[1]) * factor);
}

/** A duration in milliseconds as SHOW prints it in Postgres: in the largest unit that divides it (3000 → 3s). */
function showMilliseconds(ms: number): string {
  if (ms === 0) return '0';
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['min', 60_000], ['s', 1000]] as const) {
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}
