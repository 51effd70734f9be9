import type { DuckDBConnection, DuckDBListValue } from '@duckdb/node-api';
import type { RuntimeOp } from '../runtime/messages.js';
import type { ModelSpec } from '../runtime/provider.js';
import type { AiContext, Caller } from './ai-context.js';
import { classifyOp, DEFAULT_HYPOTHESIS, embedOp, queryOp } from './ai-ops.js';
import { selectPart } from './ai-rewrite.js';
import type { Structure } from './response-format.js';

/**
 * The prefetch pass. DuckDB calls the AI functions synchronously on the engine thread, so a model
 * call made from inside a statement holds up every other session for as long as it runs. Before a
 * statement with AI calls in its select list runs, the session therefore evaluates just those
 * calls' arguments with the statement's own FROM/WHERE/GROUP BY/LIMIT, streams them to the model
 * runtime asynchronously (the engine thread stays free between chunks), and fills the result
 * cache; the statement itself then finds its answers there. Anything the pass cannot plan is left
 * to the functions themselves, which compute what is missing.
 */

type Json = { [k: string]: unknown };
const AI_FUNCTIONS = new Set(['ai_embed', 'ai_query', 'ai_classify']);
const IN_FLIGHT = 2;

interface Call {
  fn: string;
  /** Argument expressions (AST) to select, in the order `toOp` reads them. */
  args: Json[];
  toOp(spec: ModelSpec, inputs: string[], row: unknown[]): RuntimeOp;
  /** Column of the model reference and of the input text in the selected row. */
  modelAt: number;
  textAt: number;
}

const constant = (value: string | boolean): Json => ({
  class: 'CONSTANT', type: 'VALUE_CONSTANT', alias: '',
  value: { type: { id: typeof value === 'string' ? 'VARCHAR' : 'BOOLEAN', type_info: null }, is_null: false, value },
});

/** `CAST(to_json(x) AS VARCHAR)` around an expression, as the ai_query macro writes it. */
const toJsonText = (x: Json): Json => ({
  class: 'CAST', type: 'OPERATOR_CAST', alias: '', try_cast: false, cast_type: { id: 'VARCHAR', type_info: null },
  child: { class: 'FUNCTION', type: 'FUNCTION', alias: '', function_name: 'to_json', schema: '', catalog: '', children: [x], filter: null,
    order_bys: { type: 'ORDER_MODIFIER', orders: [] }, distinct: false, is_operator: false, export_state: false },
});

function planCall(f: Json): Call | null {
  const name = String(f['function_name']).toLowerCase();
  const children = (f['children'] as Json[]) ?? [];
  const positional = children.filter((c) => !c['alias']);
  const named = new Map(children.filter((c) => c['alias']).map((c) => [String(c['alias']).toLowerCase(), c]));
  if (name === 'ai_embed' && positional.length === 2) {
    return { fn: name, args: positional, modelAt: 0, textAt: 1, toOp: (spec, inputs) => embedOp(spec, inputs) };
  }
  if (name === 'ai_query' && positional.length === 2) {
    const params = named.get('modelparameters');
    const format = named.get('responseformat') ?? constant('"VARCHAR"');
    return {
      fn: name, modelAt: 0, textAt: 1,
      args: [positional[0]!, positional[1]!, params ? toJsonText(params) : constant(''), format],
      toOp: (spec, inputs, row) => queryOp(spec, inputs, row[2] === '' ? null : row[2], JSON.parse(String(row[3])) as Structure),
    };
  }
  if (name === 'ai_classify' && positional.length === 2) {
    return {
      fn: name, modelAt: 0, textAt: 1,
      args: [named.get('model') ?? constant('classifier'), positional[0]!, positional[1]!, named.get('multi_label') ?? constant(false),
        named.get('hypothesis_template') ?? constant(DEFAULT_HYPOTHESIS)],
      toOp: (spec, inputs, row) => classifyOp(spec, inputs, ((row[2] as DuckDBListValue | null)?.items ?? []).map(String), row[3] === true, String(row[4])),
    };
  }
  return null;
}

/** AI calls anywhere in an expression tree, not descending into subqueries (other scopes). */
function findCalls(node: unknown, out: Json[]): void {
  if (!node || typeof node !== 'object') return;
  if (Array.isArray(node)) return node.forEach((n) => findCalls(n, out));
  const o = node as Json;
  if (o['class'] === 'SUBQUERY') return;
  if (o['class'] === 'FUNCTION' && AI_FUNCTIONS.has(String(o['function_name']).toLowerCase())) out.push(o);
  for (const v of Object.values(o)) if (v && typeof v === 'object') findCalls(v, out);
}

async function serialize(conn: DuckDBConnection, sql: string): Promise<Json | null> {
  const r = await conn.runAndReadAll(`SELECT json_serialize_sql(${literal(sql)})`);
  const parsed = JSON.parse(String(r.getRows()[0]?.[0])) as Json;
  return parsed['error'] ? null : parsed;
}

const literal = (s: string): string => `'${s.replace(/'/g, "''")}'`;

/** The SELECTs that evaluate each AI call's arguments over the statement's rows. */
export async function planPrefetch(conn: DuckDBConnection, sql: string): Promise<Array<{ call: Call; sql: string }>> {
  if (!/ai_embed|ai_query|ai_classify/i.test(sql)) return [];
  const select = selectPart(sql);
  if (!select) return [];
  const ast = await serialize(conn, select);
  const statement = (ast?.['statements'] as Json[] | undefined)?.[0];
  const node = statement?.['node'] as Json | undefined;
  if (!node || node['type'] !== 'SELECT_NODE') return [];
  const found: Json[] = [];
  findCalls(node['select_list'], found);
  const plans: Array<{ call: Call; sql: string }> = [];
  for (const f of found) {
    const call = planCall(f);
    if (!call) continue;
    const copy = { ...ast!, statements: [{ ...statement, node: { ...node, select_list: call.args } }] };
    const r = await conn.runAndReadAll(`SELECT json_deserialize_sql(${literal(JSON.stringify(copy))})`);
    plans.push({ call, sql: String(r.getRows()[0]?.[0]) });
  }
  return plans;
}

/**
 * Runs the prefetch SELECTs and sends their rows to the runtime, at most two batches in flight.
 * Returns early (leaving the rest to the functions) when a batch fails as a whole.
 */
export async function runPrefetch(conn: DuckDBConnection, ai: AiContext, caller: Caller,
  plans: Array<{ call: Call; sql: string }>, stopped: () => boolean): Promise<void> {
  for (const { call, sql } of plans) {
    const result = await conn.stream(sql);
    const inFlight = new Set<Promise<void>>();
    let failed = false;
    for (let chunk = await result.fetchChunk(); chunk && chunk.rowCount > 0 && !failed; chunk = await result.fetchChunk()) {
      if (stopped()) return;
      const groups = new Map<string, { spec: ModelSpec; rows: unknown[][] }>();
      for (const row of chunk.getRows()) {
        const model = row[call.modelAt];
        const text = row[call.textAt];
        if (model === null || text === null) continue;
        const key = `${String(model)}\0${JSON.stringify(row.filter((_, i) => i !== call.textAt), (_, v: unknown) => (typeof v === 'bigint' ? String(v) : v))}`;
        let g = groups.get(key);
        if (!g) {
          let spec: ModelSpec;
          try {
            spec = ai.registry.resolve(String(model));
          } catch {
            return; // the statement itself reports an unknown model
          }
          groups.set(key, (g = { spec, rows: [] }));
        }
        g.rows.push(row);
      }
      for (const { spec, rows } of groups.values()) {
        const inputs = rows.map((r) => String(r[call.textAt]));
        let op: RuntimeOp;
        try {
          op = call.toOp(spec, inputs, rows[0]!);
        } catch {
          return;
        }
        const p: Promise<void> = ai.runtime.call(caller.sid, op).then(
          (reply) => {
            caller.prefetched.put(op, reply.results);
            caller.progress(call.fn, String(rows[0]![call.modelAt]), inputs.length, reply.cached);
          },
          () => { failed = true; },
        ).finally(() => inFlight.delete(p));
        inFlight.add(p);
        if (inFlight.size >= IN_FLIGHT) await Promise.race(inFlight);
      }
    }
    await Promise.all(inFlight);
    if (failed) return;
  }
}
