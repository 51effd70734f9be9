import { DuckDBDecimalValue, DuckDBTypeId, type DuckDBDecimalType, type DuckDBPreparedStatement, type DuckDBType } from '@duckdb/node-api';
import { isUnconstrained } from '../pg/numeric.js';
import type { Literal } from '../sqltext/insert-values.js';

/*
 * The constants of an INSERT's rows bound as parameters of a prepared multi-row INSERT
 * (insert-batches.ts), so that rows of literals need no prepare of their own. A literal is bound
 * with the type DuckDB gives the same literal written in the statement (INTEGER, BIGINT, HUGEINT,
 * DECIMAL(width, scale), DOUBLE, VARCHAR, BOOLEAN), and DuckDB casts it to the column's type with
 * the same cast it applies to the literal: the same value is stored. Only where that cast cannot
 * fail (a number within the column's range, a string into text): the rows that hold any other
 * value run as their own statements, so a value refused by its column is refused as Postgres
 * refuses it, in its own statement.
 */

const INTEGER_RANGES: Partial<Record<DuckDBTypeId, readonly [bigint, bigint]>> = {
  [DuckDBTypeId.TINYINT]: [-(2n ** 7n), 2n ** 7n - 1n],
  [DuckDBTypeId.SMALLINT]: [-(2n ** 15n), 2n ** 15n - 1n],
  [DuckDBTypeId.INTEGER]: [-(2n ** 31n), 2n ** 31n - 1n],
  [DuckDBTypeId.BIGINT]: [-(2n ** 63n), 2n ** 63n - 1n],
  [DuckDBTypeId.HUGEINT]: [-(2n ** 127n), 2n ** 127n - 1n],
  [DuckDBTypeId.UTINYINT]: [0n, 2n ** 8n - 1n],
  [DuckDBTypeId.USMALLINT]: [0n, 2n ** 16n - 1n],
  [DuckDBTypeId.UINTEGER]: [0n, 2n ** 32n - 1n],
  [DuckDBTypeId.UBIGINT]: [0n, 2n ** 64n - 1n],
  [DuckDBTypeId.UHUGEINT]: [0n, 2n ** 128n - 1n],
};

const FLOAT_MAX = 3.4028234663852886e38;

/** Whether a literal can be bound for a column of this type, its cast certain to succeed. */
export function bindableAs(literal: Literal, type: DuckDBType): boolean {
  const id = type.typeId;
  if (literal.kind === 'null') return true;
  if (id === DuckDBTypeId.VARCHAR) return literal.kind !== 'double' || Number.isFinite(literal.value);
  switch (literal.kind) {
    case 'bool':
      return id === DuckDBTypeId.BOOLEAN;
    case 'string':
      return false;
    case 'double':
      return id === DuckDBTypeId.DOUBLE || (id === DuckDBTypeId.FLOAT && Math.abs(literal.value) <= FLOAT_MAX);
    case 'integer':
    case 'decimal': {
      if (id === DuckDBTypeId.DOUBLE || id === DuckDBTypeId.FLOAT) return true;
      const scale = literal.kind === 'decimal' ? literal.scale : 0;
      if (id === DuckDBTypeId.DECIMAL) {
        const d = type as DuckDBDecimalType;
        // an unconstrained numeric keeps every digit or refuses the value (pg/numeric.ts): its own statement says which
        if (scale > d.scale && isUnconstrained(d.width, d.scale)) return false;
        // the integer digits fit, even where rounding to the column's scale carries one into them
        const limit = 10n ** BigInt(d.width - d.scale) - (scale > d.scale ? 1n : 0n);
        return abs(literal.value) / 10n ** BigInt(scale) < limit;
      }
      const range = INTEGER_RANGES[id];
      if (!range) return false;
      // rounded half away from zero, as DuckDB casts a decimal to an integer
      const whole = (abs(literal.value) + (scale ? 5n * 10n ** BigInt(scale - 1) : 0n)) / 10n ** BigInt(scale);
      const v = literal.value < 0n ? -whole : whole;
      return v >= range[0] && v <= range[1];
    }
  }
}

const abs = (v: bigint): bigint => (v < 0n ? -v : v);

/** Binds a literal with the type DuckDB reads it as (see insert-values.ts). */
export function bindLiteral(p: DuckDBPreparedStatement, index: number, literal: Literal): void {
  switch (literal.kind) {
    case 'null': p.bindNull(index); return;
    case 'bool': p.bindBoolean(index, literal.value); return;
    case 'string': p.bindVarchar(index, literal.value); return;
    case 'double': p.bindDouble(index, literal.value); return;
    case 'decimal': p.bindDecimal(index, new DuckDBDecimalValue(literal.value, literal.width, literal.scale)); return;
    case 'integer':
      if (literal.type === 'INTEGER') p.bindInteger(index, Number(literal.value));
      else if (literal.type === 'BIGINT') p.bindBigInt(index, literal.value);
      else p.bindHugeInt(index, literal.value);
  }
}
