import { SqlError } from '../errors/sql-error.js';
import { StatementType } from '@duckdb/node-api';
import { stripComments } from '../sqltext/statements.js';
import { lex } from '../sqltext/lexer.js';

/**
 * What one session must not do because it changes the DuckDB instance every session shares (or
 * reaches past the file fences): logging, profiling output to the server's terminal, attached
 * databases and secrets, dynamic SQL that would hide such a call in a string, and every DuckDB
 * setting but the session's schema search (a session's own settings are aiduck's, per session).
 *
 * Every DuckDB table function and pragma is classified here, allowed or refused: a test walks
 * DuckDB's own lists, so a new DuckDB version cannot bring in one unnoticed.
 */

/** Table functions (callable with CALL or in FROM) that change the instance, print on the server, or run SQL from a string. */
export const REFUSED_TABLE_FUNCTIONS: ReadonlySet<string> = new Set([
  'enable_logging', 'disable_logging', 'truncate_duckdb_logs', 'duckdb_logs', 'duckdb_log_contexts',
  'enable_profiling', 'disable_profiling', 'enable_peg_parser', 'disable_peg_parser',
  'json_execute_serialized_sql', 'query',
]);

/** Table functions that read data or describe the catalog; each session sees only what it may. */
export const ALLOWED_TABLE_FUNCTIONS: ReadonlySet<string> = new Set([
  'aiduck_stat_activity', 'arrow_scan', 'arrow_scan_dumb', 'check_peg_parser', 'checkpoint', 'force_checkpoint', 'duckdb_approx_database_count',
  'duckdb_columns', 'duckdb_connection_count', 'duckdb_constraints', 'duckdb_coordinate_systems', 'duckdb_databases',
  'duckdb_dependencies', 'duckdb_extensions', 'duckdb_external_file_cache', 'duckdb_functions', 'duckdb_indexes',
  'duckdb_keywords', 'duckdb_memory', 'duckdb_optimizers', 'duckdb_prepared_statements', 'duckdb_schemas',
  'duckdb_secret_types', 'duckdb_secrets', 'duckdb_sequences', 'duckdb_settings', 'duckdb_table_sample', 'duckdb_tables',
  'duckdb_temporary_files', 'duckdb_types', 'duckdb_variables', 'duckdb_views', 'generate_series', 'glob',
  'icu_calendar_names', 'json_each', 'json_tree', 'parquet_bloom_probe', 'parquet_file_metadata', 'parquet_full_metadata',
  'parquet_kv_metadata', 'parquet_metadata', 'parquet_scan', 'parquet_schema', 'pg_timezone_names', 'pragma_collations',
  'pragma_database_size', 'pragma_metadata_info', 'pragma_platform', 'pragma_show', 'pragma_storage_info',
  'pragma_table_info', 'pragma_user_agent', 'pragma_version', 'query_table', 'range', 'read_blob', 'read_csv',
  'read_csv_auto', 'read_duckdb', 'read_json', 'read_json_auto', 'read_json_objects', 'read_json_objects_auto',
  'read_ndjson', 'read_ndjson_auto', 'read_ndjson_objects', 'read_parquet', 'read_text', 'repeat', 'repeat_row',
  'seq_scan', 'sniff_csv', 'sql_auto_complete', 'summary', 'test_all_types', 'test_vector_types', 'unnest', 'which_secret',
]);

/** Pragmas that only read: everything else (checkpoint on shutdown, object cache, optimizer and verification switches, profiling, keys) is refused. */
export const ALLOWED_PRAGMAS: ReadonlySet<string> = new Set([
  'collations', 'database_list', 'database_size', 'functions', 'metadata_info', 'platform', 'show', 'show_databases',
  'show_tables', 'show_tables_expanded', 'storage_info', 'table_info', 'user_agent', 'version', 'extension_versions',
]);

/** Pragmas DuckDB has that are refused (listed so the walk over DuckDB's pragmas can tell new ones apart). */
export const REFUSED_PRAGMAS: ReadonlySet<string> = new Set([
  'add_parquet_key', 'all_profiling_output', 'copy_database', 'disable_checkpoint_on_shutdown', 'disable_object_cache',
  'disable_optimizer', 'disable_print_progress_bar', 'disable_profile', 'disable_profiling', 'disable_progress_bar',
  'disable_verification', 'disable_verify_external', 'disable_verify_fetch_row', 'disable_verify_parallelism',
  'disable_verify_serializer', 'enable_checkpoint_on_shutdown', 'enable_object_cache', 'enable_optimizer',
  'enable_print_progress_bar', 'enable_profile', 'enable_profiling', 'enable_progress_bar', 'enable_verification',
  'force_checkpoint', 'import_database', 'json_execute_serialized_sql', 'verify_external', 'verify_fetch_row',
  'verify_parallelism', 'verify_serializer',
]);

const refused = (what: string, hint: string, why = 'it would change the database for every session'): SqlError =>
  new SqlError('42501', `${what} is not allowed on this server: ${why}`, hint);

/** The instance-wide statement a SQL text is, or a call it makes to a refused table function: the error to answer with. */
export function instanceWideRefusal(sql: string): SqlError | null {
  // Strings and comments masked: a name inside a string literal is not a call (query() is refused for that reason).
  const code = lex(sql).map((t) => (t.kind === 'string' ? "''" : t.kind === 'comment' ? ' ' : t.text)).join('');
  const first = /^\s*\(*\s*([A-Za-z_]+)(?:\s+([A-Za-z_]+))?(?:\s+([A-Za-z_]+))?/.exec(code);
  const [w1, w2, w3] = [first?.[1]?.toUpperCase(), first?.[2]?.toUpperCase(), first?.[3]?.toUpperCase()];
  if (w1 === 'ATTACH' || w1 === 'DETACH') {
    return refused(`${w1}`, 'attached databases are shared by every session; read another DuckDB file with read_duckdb(\'/path/file.duckdb\', table_name => \'t\') or export it to Parquet');
  }
  if ((w1 === 'CREATE' || w1 === 'DROP') && (w2 === 'SECRET' || w3 === 'SECRET' || (w2 === 'PERSISTENT' && w3 === 'SECRET'))) {
    return refused(`${w1} SECRET`, 'secrets are shared by every session; endpoint keys go in register_model(..., api_key_env => ...)');
  }
  if (w1 === 'SET' && w2 === 'GLOBAL') return refused('SET GLOBAL', 'DuckDB settings are fixed when aiduck starts');
  if (w1 === 'PRAGMA') {
    const name = /^\s*PRAGMA\s+("?)([A-Za-z_][A-Za-z0-9_]*)\1/i.exec(code)?.[2]?.toLowerCase();
    if (name && !ALLOWED_PRAGMAS.has(name)) return refused(`PRAGMA ${name}`, `the pragmas allowed are: ${[...ALLOWED_PRAGMAS].join(', ')}`);
  }
  const call = /(?:^|[^\w."])("?)([A-Za-z_][A-Za-z0-9_]*)\1\s*\(/g;
  for (let m = call.exec(code); m; m = call.exec(code)) {
    const name = m[2]!.toLowerCase();
    if (REFUSED_TABLE_FUNCTIONS.has(name) && isCall(code, m.index + m[0].length - 1)) {
      return name === 'query' || name === 'json_execute_serialized_sql'
        ? refused(`${name}()`, 'write the query itself', 'SQL passed as a string cannot be checked before it runs')
        : refused(`${name}()`, 'logging and profiling are fixed by the server\'s configuration');
    }
  }
  return null;
}

/** A name followed by `(` is a call unless the parenthesis opens a column list (`CREATE TABLE query (...)` is a table named query). */
function isCall(code: string, open: number): boolean {
  const before = code.slice(Math.max(0, open - 200), open);
  return !/\b(?:TABLE|INTO|VIEW|INDEX|TYPE|ON)\s+(?:"?[\w.]+"?\s*\.\s*)?"?\w+"?\s*$/i.test(before);
}

/** The settings a session may SET or RESET: its own schema search. Every other DuckDB setting is fixed when aiduck starts. */
const SESSION_SETTINGS = new Set(['search_path', 'schema']);

/**
 * The check after DuckDB parsed a statement, by the kind DuckDB says it is (so no spelling of SET
 * gets past it): SET, RESET and `PRAGMA x = v` (all DuckDB's SET kind) of anything but a session
 * variable or the session's schema search, ATTACH, DETACH, and extension loading.
 */
export function refusalOfStatement(type: StatementType, sql: string): SqlError | null {
  switch (type) {
    case StatementType.SET: {
      const code = stripComments(sql);
      if (/^\s*(SET|RESET)\s+VARIABLE\b/i.test(code) || /^\s*USE\b/i.test(code)) return null;
      const name = /^\s*(?:(?:SET|RESET)\s+(?:(?:SESSION|LOCAL|GLOBAL)\s+)?|PRAGMA\s+)("?)([A-Za-z_][A-Za-z0-9_.]*)\1/i.exec(code)?.[2];
      if (name && SESSION_SETTINGS.has(name.toLowerCase()) && !/^\s*(SET|RESET)\s+GLOBAL\b/i.test(code)) return null;
      return new SqlError('42501', `setting ${name ? `"${name}"` : 'this'} cannot be changed on this server: DuckDB settings apply to every session and are fixed when aiduck starts`,
        'set it when starting the server (e.g. --threads, --memory-limit); a session may set search_path and the Postgres session settings (statement_timeout, TimeZone, ...)');
    }
    case StatementType.ATTACH:
    case StatementType.DETACH:
      return refused(type === StatementType.ATTACH ? 'ATTACH' : 'DETACH', 'attached databases are shared by every session; read another DuckDB file with read_duckdb(\'/path/file.duckdb\', table_name => \'t\')');
    case StatementType.LOAD:
    case StatementType.EXTENSION:
    case StatementType.UPDATE_EXTENSIONS:
      return new SqlError('42501', 'installing and loading DuckDB extensions is disabled on this server', 'the extensions aiduck needs are built in');
    default:
      return null;
  }
}
