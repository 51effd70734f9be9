import { StatementType, type DuckDBConnection, type DuckDBPreparedStatement } from '@duckdb/node-api';
import type { RuntimeOp } from '../runtime/messages.js';
import type { AiContext, Caller } from './context.js';

/**
 * The prefetch pass. DuckDB calls the AI functions synchronously on the engine thread, so a model
 * call made from inside a statement holds up every other session while it runs. Before a statement
 * that calls AI functions runs, the session therefore runs its query part once in "collect" mode:
 * the functions answer NULL at once and hand their batches to the model runtime asynchronously
 * (the engine thread stays free between chunks, a cancel is seen at once, progress is reported),
 * and the results come back into the statement's PrefetchedResults. The statement itself then
 * finds its answers there; anything the pass did not reach (rows a filter on an AI result hid, say)
 * is computed by the functions during the statement.
 */

/** Batches (2,048 rows each) handed to the runtime and not yet answered; the pass waits beyond this. */
const IN_FLIGHT = 2;

export class Prefetch {
  private readonly pending = new Set<Promise<void>>();
  private closed = false;
  /** A batch failed as a whole (model cannot load, endpoint down): the statement will report it. */
  failed = false;

  constructor(private readonly ai: AiContext, private readonly caller: Caller) {}

  /** Called by the AI functions in collect mode, from inside DuckDB's callback: must not block. */
  submit(fn: string, model: string, op: RuntimeOp): void {
    if (this.closed || this.failed) return;
    const p: Promise<void> = this.ai.runtime.call(this.caller.sid, op, (rows, cached) => this.caller.progress(fn, model, rows, cached)).then(
      (reply) => this.caller.prefetched.put(op, reply.results),
      () => {
        this.failed = true;
      },
    ).finally(() => this.pending.delete(p));
    this.pending.add(p);
  }

  async drain(max: number): Promise<void> {
    while (this.pending.size > max) await Promise.race(this.pending);
  }

  close(): void {
    this.closed = true;
  }
}

/**
 * Runs the collect pass of a statement: its query part (see prefetch-plan.ts). `bind` gives the
 * statement's parameters to the query (false when they do not fit it).
 */
export async function prefetch(conn: DuckDBConnection, ai: AiContext, caller: Caller, query: string, stopped: () => boolean,
  bind: ((query: DuckDBPreparedStatement) => boolean) | null): Promise<void> {
  const prepared = await conn.prepare(query);
  const pass = new Prefetch(ai, caller);
  try {
    // Only ever a query: the pass must not change anything, whatever selectPart made of the text.
    if (prepared.statementType !== StatementType.SELECT) return;
    if (bind ? !bind(prepared) : prepared.parameterCount > 0) return;
    caller.collector = pass;
    const result = await prepared.stream();
    for (let chunk = await result.fetchChunk(); chunk && chunk.rowCount > 0; chunk = await result.fetchChunk()) {
      if (stopped() || pass.failed) return;
      await pass.drain(IN_FLIGHT);
    }
    await pass.drain(0);
  } finally {
    pass.close();
    caller.collector = null;
    prepared.destroySync();
  }
}
