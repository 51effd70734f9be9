import type { Run } from '../../src/console/api-types.js';

/** Orders keys as a person reads them: `ndcg_at_10` after `ndcg_at_9`. */
export const naturalCompare = (a: string, b: string): number => a.localeCompare(b, 'en', { numeric: true });

/**
 * Whether a metric is a detail of another one, MLflow's naming for aggregates: `ndcg_at_3/variance`
 * and `ndcg_at_3/p90` beside `ndcg_at_3`. A key with a slash whose prefix is no metric (`eval/loss`)
 * is a metric of its own.
 */
export function isDetailKey(key: string, keys: ReadonlySet<string>): boolean {
  const slash = key.lastIndexOf('/');
  return slash > 0 && keys.has(key.slice(0, slash));
}

export interface RunColumns {
  params: string[];
  /** The metrics, details (see isDetailKey) included. */
  metrics: string[];
  details: Set<string>;
}

/** The table's columns: every parameter and metric key of the runs, in natural order. */
export function runColumns(runs: readonly Run[]): RunColumns {
  const params = [...new Set(runs.flatMap((r) => Object.keys(r.params)))].sort(naturalCompare);
  const metricSet = new Set(runs.flatMap((r) => Object.keys(r.metrics)));
  const metrics = [...metricSet].sort(naturalCompare);
  return { params, metrics, details: new Set(metrics.filter((k) => isDetailKey(k, metricSet))) };
}

/** The parameters with one value (or none) in every run: what "only parameters that differ" hides. */
export function sameInEveryRun(runs: readonly Run[], params: readonly string[]): Set<string> {
  return new Set(params.filter((k) => new Set(runs.map((r) => r.params[k] ?? null)).size <= 1));
}

export const runLabel = (r: Run): string => r.name ?? r.runId.slice(0, 12);

/** What the table sorts by. */
export type SortKey =
  | { kind: 'run'; field: 'name' | 'status' | 'source' | 'startTime' | 'duration' }
  | { kind: 'param' | 'metric'; field: string };

export function sortValue(r: Run, key: SortKey): string | number | null {
  switch (key.kind) {
    case 'param': return r.params[key.field] ?? null;
    case 'metric': return r.metrics[key.field] ?? null;
  }
  switch (key.field) {
    case 'name': return runLabel(r);
    case 'status': return r.status;
    case 'source': return r.source;
    case 'startTime': return Date.parse(r.startTime);
    case 'duration': return r.endTime ? Date.parse(r.endTime) - Date.parse(r.startTime) : null;
  }
}

/** Numbers as numbers (parameters are text), text naturally; runs without the value last, whichever the direction. */
export function compareRuns(a: Run, b: Run, key: SortKey, desc: boolean): number {
  const x = sortValue(a, key);
  const y = sortValue(b, key);
  if (x === null || y === null) return x === y ? 0 : x === null ? 1 : -1;
  const nx = Number(x);
  const ny = Number(y);
  const order = Number.isFinite(nx) && Number.isFinite(ny) && x !== '' && y !== '' ? nx - ny : naturalCompare(String(x), String(y));
  return desc ? -order : order;
}

type Op = '=' | '!=' | '<' | '<=' | '>' | '>=';

/** A parsed filter: the runs it keeps, and the keys it names that no run has. */
export interface RunFilter {
  test(r: Run): boolean;
  unknownKeys: string[];
}

const FIELDS: Record<string, (r: Run) => string | null> = {
  name: (r) => r.name,
  status: (r) => r.status,
  source: (r) => r.source,
  model: (r) => (r.modelName ? `${r.modelName}/${r.modelVersion ?? ''}` : null),
  run_id: (r) => r.runId,
};

/** What a word without an operator is looked for in (case-insensitively). */
const searchable = (r: Run): string[] => [
  r.name ?? '', r.runId, r.status, r.source, r.modelName ?? '', ...Object.entries(r.params).map(([k, v]) => `${k}=${v ?? ''}`),
];

function holds(op: Op, order: number): boolean {
  switch (op) {
    case '=': return order === 0;
    case '!=': return order !== 0;
    case '<': return order < 0;
    case '<=': return order <= 0;
    case '>': return order > 0;
    case '>=': return order >= 0;
  }
}

/** Compares a run's value with the filter's: as numbers when both are, else as text, ignoring case. */
function compareValues(value: string | number, wanted: string): number {
  const n = Number(wanted);
  if (wanted.trim() !== '' && Number.isFinite(n) && (typeof value === 'number' || (value.trim() !== '' && Number.isFinite(Number(value))))) {
    return Math.sign(Number(value) - n);
  }
  return Math.sign(String(value).toLowerCase().localeCompare(wanted.toLowerCase(), 'en', { numeric: true }));
}

/**
 * The filter box: words that all must match. `key>0.5`, `key<=3`, `key=value`, `key!=value` compare a
 * metric, a parameter or name/status/source/model/run_id (numbers as numbers); any other word is
 * looked for in the run's name, id, status, source, model and `parameter=value` pairs. Quotes keep
 * spaces: `name="bert v2"`.
 */
export function parseFilter(text: string, columns: RunColumns): RunFilter {
  const tests: Array<(r: Run) => boolean> = [];
  const unknownKeys: string[] = [];
  const metrics = new Set(columns.metrics);
  const params = new Set(columns.params);
  const token = /([\w.\/@-]+)\s*(>=|<=|!=|=|>|<)\s*(?:"([^"]*)"|(\S+))|"([^"]*)"|(\S+)/g;
  for (const m of text.matchAll(token)) {
    const [, key, op, quoted, bare, phrase, word] = m;
    if (key !== undefined && op !== undefined) {
      const wanted = quoted ?? bare ?? '';
      const o = op as Op;
      const field = FIELDS[key];
      if (metrics.has(key)) {
        tests.push((r) => r.metrics[key] !== undefined && holds(o, compareValues(r.metrics[key]!, wanted)));
      } else if (params.has(key)) {
        tests.push((r) => r.params[key] !== undefined && r.params[key] !== null && holds(o, compareValues(r.params[key]!, wanted)));
      } else if (field) {
        tests.push((r) => {
          const v = field(r);
          return v !== null && holds(o, compareValues(v, wanted));
        });
      } else {
        unknownKeys.push(key);
        tests.push(() => false);
      }
      continue;
    }
    const needle = (phrase ?? word ?? '').toLowerCase();
    if (needle) tests.push((r) => searchable(r).some((t) => t.toLowerCase().includes(needle)));
  }
  return { test: (r) => tests.every((t) => t(r)), unknownKeys };
}
