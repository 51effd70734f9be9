import { DuckDBTableFunction, DuckDBTimestampTZValue, type DuckDBType } from '@duckdb/node-api';

/** A column of a snapshot table: its name, type and value for a row. */
export interface SnapshotColumn<Row> {
  name: string;
  type: DuckDBType;
  value(row: Row): unknown;
}

/** A Date as a TIMESTAMPTZ value (null stays null). */
export const timestampTZ = (d: Date | null): DuckDBTimestampTZValue | null => (d ? new DuckDBTimestampTZValue(BigInt(d.getTime()) * 1000n) : null);

/**
 * A table function over a list of rows the engine holds in memory (the running jobs, the sessions),
 * taken when the query starts; one output chunk (these lists are short).
 */
export function snapshotTable<Row>(name: string, columns: ReadonlyArray<SnapshotColumn<Row>>, rows: () => Row[]): DuckDBTableFunction {
  return DuckDBTableFunction.create({
    name,
    bindFunction: (info) => {
      for (const c of columns) info.addResultColumn(c.name, c.type);
    },
    initFunction: (info) => info.setInitData({ rows: rows(), done: false }),
    mainFunction: (info, out) => {
      const state = info.initData as { rows: Row[]; done: boolean };
      if (state.done) {
        out.rowCount = 0;
        return;
      }
      state.done = true;
      out.rowCount = state.rows.length;
      columns.forEach((c, col) => {
        const vector = out.getColumnVector(col);
        state.rows.forEach((r, i) => vector.setItem(i, c.value(r) as never));
        vector.flush();
      });
    },
  });
}
