import { SqlError } from '../errors/sql-error.js';
import type { RuntimeOp, RuntimeValue } from '../runtime/messages.js';
import type { ModelSpec, RowResult } from '../runtime/provider.js';
import { CallAbandoned } from '../runtime/runtime-client.js';
import type { AiContext, Caller } from './context.js';

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
    // Equal texts are asked once (a constant argument repeats on every row of the chunk).
    const byText = new Map<string, number[]>();
    for (const i of rows) {
      const text = String(texts[i]);
      const same = byText.get(text);
      if (same) same.push(i);
      else byText.set(text, [i]);
    }
    const inputs = [...byText.keys()];
    const answer = (input: string, r: RowResult<RuntimeValue> | null): void => {
      for (const i of byText.get(input)!) out[i] = r;
    };
    const op = plan.makeOp(ai.registry.resolve(model), inputs, rows[0]!);
    if (collector) {
      collector.submit(fn, model, op);
      continue;
    }
    const known = caller.prefetched.empty ? inputs.map(() => undefined) : caller.prefetched.lookup(op);
    inputs.forEach((input, j) => answer(input, known[j] ?? null));
    const missing = inputs.filter((_, j) => known[j] === undefined);
    if (!missing.length) continue;
    try {
      const reply = ai.runtime.callSync(caller.sid, { ...op, inputs: missing }, () => caller.stopReason(), (n, cached) => caller.progress(fn, model, n, cached));
      missing.forEach((input, j) => answer(input, reply.results[j] ?? { ok: false, error: 'no result' }));
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
