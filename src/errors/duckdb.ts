import { SqlError } from './sql-error.js';
import { DUCKDB_CARRIED } from './wire.js';

// DuckDB's errors, classified in one place: DuckDB reports a failure as text with its error class in
// front ("Catalog Error: ..."); a Postgres client expects a SQLSTATE.

/** DuckDB error classes (the prefix of its messages) and the SQLSTATE a Postgres client expects for each. */
const byClass: ReadonlyArray<[RegExp, string | ((msg: string) => string)]> = [
  [/^Parser Error/, '42601'],
  [/^Catalog Error/, (m) =>
    /Table Function/i.test(m) || /(Scalar|Aggregate|Macro) Function/i.test(m) ? '42883'
      : /Schema with name/i.test(m) ? '3F000'
        : /Type with name/i.test(m) ? '42704'
          : /already exists/i.test(m) ? '42P07'
            : /because this table is main key table/i.test(m) ? '2BP01'
              : /Table with name|View with name|does not exist/i.test(m) ? '42P01' : '42704'],
  [/^Binder Error/, (m) =>
    /column .*not found|Referenced column|does not have a column/i.test(m) ? '42703'
      : /No function matches|function/i.test(m) ? '42883'
        : /ambiguous/i.test(m) ? '42702' : '42P18'],
  // a value beyond its type's range is 22003 in Postgres (integer out of range, numeric field overflow)
  [/^Conversion Error/, (m) => (/out of range/i.test(m) ? '22003' : '22P02')],
  [/^Out of Range Error/, '22003'],
  [/^Constraint Error/, (m) =>
    /NOT NULL/i.test(m) ? '23502' : /foreign key/i.test(m) ? '23503' : /CHECK/i.test(m) ? '23514' : '23505'],
  [/^Interrupt Error/i, '57014'],
  [/^Permission Error/, '42501'],
  [/^TransactionContext Error/, (m) => (/aborted/i.test(m) ? '25P02' : /conflict/i.test(m) ? '40001' : '25000')],
  [/^Transaction Error/, '40001'],
  [/^IO Error/, (m) => (/No files found|does not exist|No such file/i.test(m) ? '58P01' : '58030')],
  [/^Invalid Input Error/, '22023'],
  [/^Invalid Error/, 'XX000'],
  [/^Not implemented Error/, '0A000'],
  [/^Out of Memory Error/, '53200'],
  [/^Dependency Error/, '2BP01'],
  [/^Sequence Error/, '2200H'],
  [/^Invalid type Error|^Mismatch Type Error/, '42804'],
  [/^Syntax Error/, '42601'],
  [/^Serialization Error/, '40001'],
  [/^Fatal Error|^INTERNAL Error/, 'XX000'],
];

/**
 * Failures whose Postgres SQLSTATE is narrower than the class DuckDB reports them in: division by zero
 * (22012), a date or time field out of range (22008, DuckDB says 22003's words), a root or logarithm of
 * what has none (2201F, 2201E), a scalar subquery of several rows (21000).
 */
function special(message: string): string | undefined {
  if (/division by zero/i.test(message)) return '22012';
  if (/(date|time|timestamp) field value out of range/i.test(message)) return '22008';
  if (/cannot take square root of a negative number/i.test(message)) return '2201F';
  if (/cannot take logarithm of (zero|a negative number)/i.test(message)) return '2201E';
  if (/More than one row returned by a subquery used as an expression/i.test(message)) return '21000';
  // INSERT has more expressions than target columns: Postgres' syntax error (fewer are filled in, short-inserts.ts).
  const counts = /has (\d+) columns but (\d+) values were supplied/.exec(message);
  if (counts && Number(counts[2]) > Number(counts[1])) return '42601';
  return undefined;
}

export function sqlstateOf(message: string): string {
  const s = special(message);
  if (s) return s;
  for (const [re, code] of byClass) {
    if (re.test(message)) return typeof code === 'string' ? code : code(message);
  }
  return 'XX000';
}

/**
 * Anything thrown while serving a statement, as an SqlError: SqlErrors as they are, DuckDB's errors
 * (including an SqlError carried through a DuckDB callback) with the SQLSTATE of their class.
 */
export function fromDuckDB(err: unknown): SqlError {
  if (err instanceof SqlError) return err;
  const raw = truncate(err instanceof Error ? err.message : String(err));
  const carried = DUCKDB_CARRIED.exec(raw);
  if (carried) {
    const [, code, message, hint] = carried;
    return new SqlError(code!, message!, hint || undefined);
  }
  if (/^Interrupt Error/i.test(raw)) return new SqlError('57014', 'canceling statement due to user request');
  const [first = raw, ...rest] = raw.split('\n');
  const detail = rest.join('\n').trim();
  const message = first.replace(/^[A-Za-z ]+ Error: /, '');
  // Postgres' words for an unknown column; DuckDB's candidates become the hint.
  const column = /^Referenced column "(.*)" not found in FROM clause!$/.exec(message);
  if (column) {
    const candidates = /^Candidate bindings: (.*)$/m.exec(detail)?.[1];
    return new SqlError('42703', `column "${column[1]}" does not exist`, candidates ? `the columns nearest by name: ${candidates}` : undefined);
  }
  const outOfRange = numberOutOfRange(message);
  if (outOfRange) return outOfRange;
  const unsupported = whatDuckDBCannot(message);
  if (unsupported) return unsupported;
  const lineInfo = /LINE \d+:/.test(detail);
  return new SqlError(sqlstateOf(raw), message, undefined, detail && !lineInfo ? { detail } : {});
}

const MAX_ERROR_CHARS = 4000;

/** DuckDB quotes offending input in its errors; a 30 MB row must not come back in an ErrorResponse. */
function truncate(message: string): string {
  return message.length <= MAX_ERROR_CHARS ? message : `${message.slice(0, MAX_ERROR_CHARS)}… (${message.length} characters, truncated)`;
}

/**
 * Statements Postgres runs that DuckDB cannot, whose DuckDB errors do not say so: the SQLSTATE Postgres
 * uses for a feature that is not supported (0A000), and what to do instead.
 */
function whatDuckDBCannot(message: string): SqlError | null {
  if (/^A CTE needs a SELECT/.test(message)) {
    return new SqlError('0A000', 'data-modifying statements in WITH (INSERT, UPDATE, DELETE ... RETURNING) are not supported by DuckDB',
      'run the INSERT, UPDATE or DELETE ... RETURNING as a statement of its own');
  }
  if (/^syntax error at or near "MATERIALIZED"/.test(message)) {
    return new SqlError('0A000', 'materialized views are not supported by DuckDB',
      'CREATE TABLE name AS SELECT ... keeps the result; CREATE OR REPLACE TABLE refreshes it');
  }
  const altered = /^Cannot alter entry "(.*)" because there are entries that depend on it/.exec(message);
  if (altered) {
    return new SqlError('2BP01', `cannot alter table "${altered[1]}" because an index or a view depends on it (DuckDB alters only tables nothing depends on)`,
      'drop the indexes of the table (and views over it), alter it, then create them again');
  }
  return null;
}

const PG_INTEGER: Readonly<Record<string, string>> = { INT16: 'smallint', INT32: 'integer', INT64: 'bigint' };

/**
 * DuckDB says it could not convert a number that is well formed but too large for the type; Postgres
 * says it is out of range (22003), not that it is not a number (22P02).
 */
function numberOutOfRange(message: string): SqlError | null {
  const m = /^Could not convert string ['"]([^'"]*)['"] to (INT16|INT32|INT64|DECIMAL\(\d+,\d+\))/.exec(message);
  if (!m || !/^\s*[+-]?(\d+\.?\d*|\.\d+)\s*$/.test(m[1]!)) return null;
  const integer = PG_INTEGER[m[2]!];
  if (integer) {
    if (!/^\s*[+-]?\d+\s*$/.test(m[1]!)) return null;
    return new SqlError('22003', `value "${m[1]}" is out of range for type ${integer}`);
  }
  const [, precision, scale] = /\((\d+),(\d+)\)/.exec(m[2]!)!;
  return new SqlError('22003', 'numeric field overflow', undefined, {
    detail: `A field with precision ${precision}, scale ${scale} must round to an absolute value less than 10^${Number(precision) - Number(scale)}.`,
  });
}
