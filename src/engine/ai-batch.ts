import { SqlError } from '../protocol/errors.js';
import type { RuntimeOp, RuntimeValue } from '../runtime/messages.js';
import type { ModelSpec, RowResult } from '../runtime/provider.js';
import { CallAbandoned } from '../runtime/runtime-client.js';
import type { AiContext, Caller } from './ai-context.js';

/** How an AI function turns rows of a chunk into runtime requests. */
export interface ChunkPlan {
  fn: string;
  models: unknown[];
  texts: unknown[];
  /** What else, per row, decides the request (parameters, labels...): rows differing here are sent apart. */
  optionsOf?: (row: number) => string;
  /** The request for rows that share a model and options; `row` is one of them, to read the options from. */
  makeOp: (spec: ModelSpec, inputs: string[], row: number) => RuntimeOp;
}

/**
 * Runs one chunk of an AI function: rows grouped by model and options (usually one group), NULL
 * and empty inputs answered NULL without a model call, one runtime request per group. Answers
 * come from the prefetch pass when it computed them; the rest from a blocking call to the runtime.
 * In the prefetch pass itself the groups are handed over and every row answers NULL.
 */
export function runChunk(ai: AiContext, caller: Caller, plan: ChunkPlan): Array<RowResult<RuntimeValue> | null> {
  const { fn, models, texts } = plan;
  const out = new Array<RowResult<RuntimeValue> | null>(texts.length).fill(null);
  const groups = new Map<string, { model: string; rows: number[] }>();
  texts.forEach((t, i) => {
    if (t === null || t === undefined || t === '') return;
    const m = models[i];
    if (m === null || m === undefined) throw new SqlError('22004', `${fn}: the model is NULL`, 'name a registered model, e.g. ai_embed(\'embedder\', body)');
    const key = `${String(m)}\0${plan.optionsOf?.(i) ?? ''}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { model: String(m), rows: [] }));
    g.rows.push(i);
  });
  const collector = caller.collector;
  for (const { model, rows } of groups.values()) {
    const spec = ai.registry.resolve(model);
    const op = plan.makeOp(spec, rows.map((i) => String(texts[i])), rows[0]!);
    if (collector) {
      collector.submit(fn, model, op);
      continue;
    }
    const known = caller.prefetched.empty ? op.inputs.map(() => undefined) : caller.prefetched.lookup(op);
    const missing = rows.filter((_, j) => known[j] === undefined);
    rows.forEach((i, j) => (out[i] = known[j] ?? null));
    if (!missing.length) continue;
    const missingOp: RuntimeOp = { ...op, inputs: missing.map((i) => String(texts[i])) };
    try {
      const reply = ai.runtime.callSync(caller.sid, missingOp, () => caller.stopReason(), (n, cached) => caller.progress(fn, model, n, cached));
      missing.forEach((i, j) => (out[i] = reply.results[j] ?? { ok: false, error: 'no result' }));
    } catch (err) {
      if (err instanceof CallAbandoned) throw new SqlError('57014', err.message);
      throw err;
    }
  }
  return collector ? out.fill(null) : out;
}

/** The start of an input, for error messages. */
export const excerpt = (text: unknown): string => {
  const s = String(text);
  return s.length > 60 ? `${s.slice(0, 60)}…` : s;
};
