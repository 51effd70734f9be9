import { SqlError } from '../errors/sql-error.js';
import { codeTokens, isWord, nameOf, type Token } from '../sqltext/lexer.js';

/** DECLARE name [BINARY] [ASENSITIVE | INSENSITIVE] [[NO] SCROLL] CURSOR [{WITH | WITHOUT} HOLD] FOR query. */
export interface DeclareCursor {
  name: string;
  binary: boolean;
  /** SCROLL (true), NO SCROLL (false) or neither (null: forward only here). */
  scroll: boolean | null;
  hold: boolean;
  query: string;
}

/**
 * Where FETCH or MOVE goes, in Postgres' terms: `forward`/`backward` by a count (Infinity: ALL),
 * `absolute` to a row number (negative: from the end; 0: before the first), `relative` to the
 * current row.
 */
export type FetchDirection =
  | { kind: 'forward' | 'backward'; count: number }
  | { kind: 'absolute' | 'relative'; n: number };

export interface FetchCommand {
  move: boolean;
  name: string;
  direction: FetchDirection;
}

const syntaxError = (t: Token | undefined): SqlError =>
  new SqlError('42601', t ? `syntax error at or near "${t.text}"` : 'syntax error at end of input');

export function parseDeclare(sql: string): DeclareCursor {
  const tokens = codeTokens(sql);
  const name = tokens[1] ? nameOf(tokens[1]) : null;
  if (name === null) throw syntaxError(tokens[1]);
  let i = 2;
  const take = (...words: string[]): boolean => {
    if (!words.every((w, k) => isWord(tokens[i + k], w))) return false;
    i += words.length;
    return true;
  };
  const binary = take('binary');
  if (!take('asensitive')) take('insensitive');
  const scroll = take('scroll') ? true : take('no', 'scroll') ? false : null;
  if (!take('cursor')) throw syntaxError(tokens[i]);
  const hold = take('with', 'hold') ? true : (take('without', 'hold'), false);
  if (!isWord(tokens[i], 'for')) throw syntaxError(tokens[i]);
  const query = sql.slice(tokens[i]!.end).trim().replace(/;\s*$/, '');
  if (!query) throw syntaxError(undefined);
  return { name, binary, scroll, hold, query };
}

/** A signed integer count at token i: `5`, `-5`, `+5`; returns it and the next index. */
function countAt(tokens: readonly Token[], i: number): { n: number; next: number } | null {
  let sign = 1;
  let k = i;
  if (tokens[k]?.kind === 'op' && (tokens[k]!.text === '-' || tokens[k]!.text === '+')) {
    sign = tokens[k]!.text === '-' ? -1 : 1;
    k++;
  }
  const t = tokens[k];
  if (t?.kind !== 'number' || !/^\d+$/.test(t.text)) return null;
  return { n: sign * Number(t.text), next: k + 1 };
}

/** FETCH or MOVE [direction] [FROM | IN] cursor. */
export function parseFetch(sql: string): FetchCommand {
  const tokens = codeTokens(sql);
  const move = isWord(tokens[0], 'move');
  let i = 1;
  let direction: FetchDirection = { kind: 'forward', count: 1 };
  const w = tokens[i]?.kind === 'word' ? tokens[i]!.text.toLowerCase() : '';
  const countOrAll = (kind: 'forward' | 'backward'): FetchDirection => {
    if (isWord(tokens[i], 'all')) {
      i++;
      return { kind, count: Infinity };
    }
    const c = countAt(tokens, i);
    if (!c) return { kind, count: 1 };
    i = c.next;
    return c.n < 0 ? { kind: kind === 'forward' ? 'backward' : 'forward', count: -c.n } : { kind, count: c.n };
  };
  switch (w) {
    case 'next': i++; break;
    case 'prior': i++; direction = { kind: 'backward', count: 1 }; break;
    case 'first': i++; direction = { kind: 'absolute', n: 1 }; break;
    case 'last': i++; direction = { kind: 'absolute', n: -1 }; break;
    case 'absolute':
    case 'relative': {
      const c = countAt(tokens, i + 1);
      if (!c) throw syntaxError(tokens[i + 1]);
      direction = { kind: w, n: c.n };
      i = c.next;
      break;
    }
    case 'all': i++; direction = { kind: 'forward', count: Infinity }; break;
    case 'forward':
    case 'backward':
      i++;
      direction = countOrAll(w);
      break;
    default: {
      const c = countAt(tokens, i);
      if (c) {
        i = c.next;
        direction = c.n < 0 ? { kind: 'backward', count: -c.n } : { kind: 'forward', count: c.n };
      }
    }
  }
  if (isWord(tokens[i], 'from') || isWord(tokens[i], 'in')) i++;
  const name = tokens[i] ? nameOf(tokens[i]!) : null;
  if (name === null || tokens.length > i + 1) throw syntaxError(tokens[name === null ? i : i + 1]);
  return { move, name, direction };
}

/** CLOSE cursor | ALL (null). */
export function parseClose(sql: string): string | null {
  const tokens = codeTokens(sql);
  if (isWord(tokens[1], 'all') && tokens.length === 2) return null;
  const name = tokens[1] ? nameOf(tokens[1]) : null;
  if (name === null || tokens.length > 2) throw syntaxError(tokens[name === null ? 1 : 2]);
  return name;
}
