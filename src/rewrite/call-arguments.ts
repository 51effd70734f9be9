import { SqlError } from '../errors/sql-error.js';
import { usage, type Parameter } from '../functions/signature.js';
import type { Call, CallArgument } from '../sqltext/calls.js';
import type { Edit } from '../sqltext/statements.js';

/** Edit distance of two short names, for "did you mean". */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length]!;
}

/**
 * Checks a call of one of aiduck's functions against its declared parameters, as Postgres checks a
 * call against a function's signature, so that a mistake is reported in the user's terms (never
 * with DuckDB's text about the macros underneath): an unknown argument name (42883, with the valid
 * ones and the closest), a name given twice or a positional argument after a named one (42601, as
 * Postgres), more arguments than parameters or a missing required one (42883).
 *
 * As in Postgres, parameters with defaults may be given by position too (`ai_summarize(body, 30)`);
 * DuckDB's macros take those by name only, so the call comes back with them named: `named` is the
 * call as the function's rewrite should read it, `edits` name them in the statement's text.
 */
export function checkCallArguments(call: Call, params: readonly Parameter[]): { named: Call; edits: Edit[] } {
  const fn = call.name;
  const hint = `${fn}'s arguments: ${usage(fn, params)}`;
  const byName = new Map(params.map((p) => [p.name.toLowerCase(), p]));
  const required = params.filter((p) => p.defaultSql === null);
  const seen = new Set<string>();
  let positional = 0;
  let namedSeen = false;
  for (const arg of call.args) {
    if (arg.name === null) {
      if (namedSeen) throw new SqlError('42601', `${fn}: a positional argument cannot follow a named one (${arg.text})`, hint);
      positional++;
      continue;
    }
    namedSeen = true;
    const name = arg.name.toLowerCase();
    const param = byName.get(name);
    if (!param) {
      const closest = params.map((p) => ({ p, d: distance(name, p.name.toLowerCase()) })).sort((a, b) => a.d - b.d)[0];
      const guess = closest && closest.d <= Math.max(2, Math.floor(name.length / 3)) ? ` (did you mean ${closest.p.name}?)` : '';
      throw new SqlError('42883', `${fn} has no argument named ${arg.name}${guess}`, hint);
    }
    if (seen.has(name) || params.indexOf(param) < positional) throw new SqlError('42601', `argument name "${param.name}" used more than once in ${fn}`, hint);
    seen.add(name);
  }
  if (positional > params.length) {
    throw new SqlError('42883', `${fn} takes at most ${params.length} argument${params.length === 1 ? '' : 's'}, not ${positional}`, hint);
  }
  const missing = required.filter((p, i) => i >= positional && !seen.has(p.name.toLowerCase()));
  if (missing.length) throw new SqlError('42883', `${fn} needs ${missing.map((p) => p.name).join(' and ')}`, hint);
  const edits: Edit[] = [];
  const args = call.args.map((arg, i): CallArgument => {
    const param = params[i];
    if (arg.name !== null || i < required.length || !param) return arg;
    // Given by position where DuckDB wants the name: one with a default, e.g. ai_summarize(body, 30).
    edits.push({ start: arg.start, end: arg.start, text: `${param.name} := ` });
    return { ...arg, name: param.name.toLowerCase(), text: `${param.name} := ${arg.text}` };
  });
  return { named: { ...call, args }, edits };
}
