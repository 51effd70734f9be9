import type { ModelVersion } from '../../src/console/api-types.js';

/** How a model of a task is called from SQL: its signature and an example with the given reference. */
export interface Usage {
  signature: string;
  example: string;
}

const quote = (s: string): string => `'${s.replaceAll("'", "''")}'`;

export function usageOf(task: string, ref: string, dimension: number | null): Usage {
  const m = quote(ref);
  switch (task) {
    case 'embedding':
    case 'feature-extraction':
      return {
        signature: `ai_embed(model, text VARCHAR) → FLOAT[${dimension ?? 'n'}]`,
        example: `SELECT id, ai_embed(${m}, body) AS embedding FROM docs;`,
      };
    case 'zero-shot-classification':
      return {
        signature: 'ai_classify(text VARCHAR, labels VARCHAR[], model => …) → VARCHAR',
        example: `SELECT id, ai_classify(body, ['billing', 'bug', 'feature request'], model => ${m}) AS label FROM tickets;`,
      };
    case 'text-classification':
      return {
        signature: 'ai_classify(text VARCHAR, [], model => …) → VARCHAR (one of its labels)',
        example: `SELECT id, ai_classify(body, [], model => ${m}) AS label FROM tickets;`,
      };
    case 'summarization':
      return {
        signature: 'ai_summarize(text VARCHAR, max_words => …, model => …) → VARCHAR',
        example: `SELECT id, ai_summarize(body, max_words => 30, model => ${m}) AS summary FROM articles;`,
      };
    default:
      return {
        signature: 'ai_query(model, request VARCHAR, modelParameters => …, responseFormat => …) → VARCHAR',
        example: `SELECT id, ai_query(${m}, question) AS answer FROM questions;`,
      };
  }
}

/** The reference a user would write for a model: its champion alias if it has one. */
export function preferredRef(name: string, aliases: Record<string, number>): string {
  return 'champion' in aliases ? `${name}@champion` : name;
}

const uriOf = (v: ModelVersion): string => v.uri;
/** models:/name/3 → [name, 3] */
export function parseUri(uri: string): [string, number] | null {
  const m = /^models:\/(.+)\/(\d+)$/.exec(uri);
  return m ? [m[1]!, Number(m[2])] : null;
}

export interface LineageStep {
  uri: string;
  role: 'base' | 'adapter' | 'merged' | 'this';
  trainingRun: string | null;
}

/**
 * Where a version comes from: for an adapter its base; for a merged model the adapter it was merged
 * from and that adapter's base. The chain ends with the version itself.
 */
export function lineageOf(v: ModelVersion, byUri: Map<string, ModelVersion>): LineageStep[] {
  const steps: LineageStep[] = [];
  const mergedFrom = v.source.startsWith('merge_adapter:') ? v.source.slice('merge_adapter:'.length) : v.tags['merged_from'] ?? null;
  const adapter = mergedFrom ? byUri.get(mergedFrom) ?? null : v.baseModel ? v : null;
  const base = adapter?.baseModel ?? (mergedFrom ? v.tags['base_model'] ?? null : null);
  if (base) steps.push({ uri: base, role: 'base', trainingRun: null });
  if (mergedFrom) steps.push({ uri: mergedFrom, role: 'adapter', trainingRun: adapter?.trainingRun ?? null });
  steps.push({ uri: uriOf(v), role: mergedFrom ? 'merged' : v.baseModel ? 'adapter' : 'this', trainingRun: v.trainingRun });
  return steps;
}

/** Versions built on this one: adapters trained on it, models merged from it. */
export function derivedFrom(v: ModelVersion, all: ModelVersion[]): Array<{ uri: string; how: string }> {
  const out: Array<{ uri: string; how: string }> = [];
  for (const o of all) {
    if (o.baseModel === v.uri) out.push({ uri: o.uri, how: o.trainingRun ? 'adapter trained on it' : 'adapter on it' });
    if (o.source === `merge_adapter:${v.uri}`) out.push({ uri: o.uri, how: 'merged from it' });
  }
  return out;
}
