import type { RuntimeOp, RuntimeValue } from '../runtime/messages.js';
import { modelIdentity, opScope } from '../runtime/op-scope.js';
import type { RowResult } from '../runtime/provider.js';

/**
 * Results the prefetch pass brought back for the running statement, by (model, operation,
 * options) and input text. The statement's AI functions read them here without a round trip to
 * the runtime thread, which keeps each DuckDB callback short. Dropped when the statement ends.
 */
export class PrefetchedResults {
  private readonly byScope = new Map<string, Map<string, RowResult<RuntimeValue>>>();
  private rows = 0;

  private static scope(op: RuntimeOp): string {
    return `${modelIdentity(op.spec)}\0${opScope(op)}`;
  }

  /**
   * Beyond this many rows a statement's answers are left in the runtime's cache only, and the
   * statement asks the runtime for them (one short round trip per chunk) instead of holding them all.
   */
  static readonly MAX_ROWS = Number(process.env['AIDUCK_PREFETCH_ROWS'] ?? 500_000);

  put(op: RuntimeOp, results: Array<RowResult<RuntimeValue>>): void {
    if (this.rows >= PrefetchedResults.MAX_ROWS) return;
    this.rows += op.inputs.length;
    const key = PrefetchedResults.scope(op);
    let m = this.byScope.get(key);
    if (!m) this.byScope.set(key, (m = new Map()));
    // Errors too: a failing row is reported once, not sent to the model again by the statement.
    op.inputs.forEach((input, i) => {
      const r = results[i];
      if (r) m.set(input, r);
    });
  }

  /** The results known for `op`'s inputs (undefined where missing). */
  lookup(op: RuntimeOp): Array<RowResult<RuntimeValue> | undefined> {
    const m = this.byScope.get(PrefetchedResults.scope(op));
    return m ? op.inputs.map((input) => m.get(input)) : op.inputs.map(() => undefined);
  }

  clear(): void {
    this.byScope.clear();
    this.rows = 0;
  }

  get empty(): boolean {
    return this.byScope.size === 0;
  }
}
