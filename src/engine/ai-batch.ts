import { SqlError } from '../protocol/errors.js';
import type { RuntimeOp, RuntimeValue } from '../runtime/messages.js';
import type { ModelSpec, RowResult } from '../runtime/provider.js';
import { CallAbandoned } from '../runtime/runtime-client.js';
import type { AiContext, Caller } from './ai-context.js';

/**
 * Runs one chunk of an AI function: rows grouped by model (usually one), NULL and empty inputs
 * answered without a model call, one runtime call per group. Returns a result per row; a NULL
 * input gives null.
 */
export function runChunk(ai: AiContext, caller: Caller, fn: string, models: unknown[], texts: unknown[],
  makeOp: (spec: ModelSpec, inputs: string[]) => RuntimeOp): Array<RowResult<RuntimeValue> | null> {
  const out = new Array<RowResult<RuntimeValue> | null>(texts.length).fill(null);
  const groups = new Map<string, number[]>();
  texts.forEach((t, i) => {
    if (t === null || t === undefined) return;
    const m = models[i];
    if (m === null || m === undefined) {
      out[i] = { ok: false, error: `${fn}: the model is NULL` };
      return;
    }
    let g = groups.get(String(m));
    if (!g) groups.set(String(m), (g = []));
    g.push(i);
  });
  const collector = caller.collector;
  if (collector) {
    // The prefetch pass: hand the batches over and answer NULL; the statement computes what this misses.
    for (const [model, rows] of groups) {
      try {
        collector.submit(fn, model, makeOp(ai.registry.resolve(model), rows.map((i) => String(texts[i]))));
      } catch {
        /* the statement reports it */
      }
    }
    return out.fill(null);
  }
  for (const [model, rows] of groups) {
    const spec = ai.registry.resolve(model);
    const op = makeOp(spec, rows.map((i) => String(texts[i])));
    const known = caller.prefetched.empty ? op.inputs.map(() => undefined) : caller.prefetched.lookup(op);
    const missing = rows.filter((_, j) => known[j] === undefined);
    rows.forEach((i, j) => (out[i] = known[j] ?? null));
    if (!missing.length) continue;
    const missingOp: RuntimeOp = { ...op, inputs: missing.map((i) => String(texts[i])) };
    try {
      const reply = ai.runtime.callSync(caller.sid, missingOp, () => caller.stopReason());
      missing.forEach((i, j) => (out[i] = reply.results[j] ?? { ok: false, error: 'no result' }));
      caller.progress(fn, model, missing.length, reply.cached);
    } catch (err) {
      if (err instanceof CallAbandoned) throw new SqlError('57014', err.message);
      throw err;
    }
  }
  return out;
}
