import { SqlError } from '../errors/sql-error.js';

/** Startup parameters that are not settings: who connects, to what, and protocol extensions. */
const NOT_SETTINGS = new Set(['user', 'database', 'replication', 'options', 'application_name']);

/**
 * The settings a client asks for at startup, in the order it gave them: its startup parameters
 * (node-postgres sends statement_timeout, pgJDBC DateStyle and extra_float_digits, ...) and the
 * `-c name=value` / `--name=value` switches of its `options` parameter (libpq's
 * `options='-c search_path=shop'`, PGOPTIONS), which win, as in Postgres.
 */
export function startupSettings(params: ReadonlyMap<string, string>): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const [k, v] of params) if (!NOT_SETTINGS.has(k) && !k.startsWith('_pq_.')) out.push([k, v]);
  const options = params.get('options');
  if (options) out.push(...parseOptions(options));
  return out;
}

/** `-c a=1 --b=2 -cc=3`, words split at unescaped spaces (`\ ` is a space inside a word, `\\` a backslash). */
function parseOptions(options: string): Array<[string, string]> {
  const words: string[] = [];
  let word = '';
  for (let i = 0; i < options.length; i++) {
    const c = options[i]!;
    if (c === '\\' && i + 1 < options.length) word += options[++i];
    else if (/\s/.test(c)) {
      if (word) words.push(word);
      word = '';
    } else word += c;
  }
  if (word) words.push(word);
  const out: Array<[string, string]> = [];
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    let setting: string | undefined;
    if (w === '-c') setting = words[++i];
    else if (w.startsWith('-c')) setting = w.slice(2);
    else if (w.startsWith('--')) setting = w.slice(2);
    const eq = setting?.indexOf('=') ?? -1;
    if (!setting || eq <= 0) {
      throw new SqlError('42601', `invalid command-line argument for server process: ${w}`, 'options takes -c name=value or --name=value');
    }
    out.push([setting.slice(0, eq).replace(/-/g, '_'), setting.slice(eq + 1)]);
  }
  return out;
}
