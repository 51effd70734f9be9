import { codeTokens, nameOf, type Token } from './lexer.js';

/** One argument of a call: its text, and for a named argument (`name => value` or `name := value`) the name and the value's text. */
export interface CallArgument {
  start: number;
  end: number;
  text: string;
  name: string | null;
  /** The value: the whole argument, or what follows `=>` / `:=`. */
  value: { start: number; end: number; text: string; tokens: Token[] };
}

/** A function call in statement text: `name(args)`, in code (not in strings or comments). */
export interface Call {
  /** The function's name as written, lowercased (a quoted name as it is). */
  name: string;
  /** Where the name starts and the closing parenthesis ends. */
  start: number;
  end: number;
  /** Just inside the parentheses. */
  argsStart: number;
  argsEnd: number;
  args: CallArgument[];
  /** The code token before the name (undefined at the start), e.g. to tell `CREATE MACRO f(` from a call. */
  before: Token | undefined;
}

const OPEN = new Set(['(', '[', '{']);
const CLOSE = new Set([')', ']', '}']);

/** The index of the token closing the bracket at `open`, and of each top-level `,` between them. */
export function bracketExtent(tokens: ReadonlyArray<Pick<Token, 'text'> & { kind: string }>, open: number): { close: number; commas: number[] } | null {
  let depth = 0;
  const commas: number[] = [];
  for (let i = open; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.kind !== 'punct') continue;
    if (OPEN.has(t.text)) depth++;
    else if (CLOSE.has(t.text)) {
      depth--;
      if (depth === 0) return { close: i, commas };
    } else if (t.text === ',' && depth === 1) commas.push(i);
  }
  return null;
}

/** Every call of a function named in `names` (lowercase), outermost and nested alike, in text order. */
export function findCalls(sql: string, names: ReadonlySet<string> | null = null): Call[] {
  const tokens = codeTokens(sql);
  const out: Call[] = [];
  tokens.forEach((t, i) => {
    const name = nameOf(t);
    if (name === null || (names && !names.has(name))) return;
    if (tokens[i + 1]?.text !== '(' || tokens[i - 1]?.text === '.') return;
    const ext = bracketExtent(tokens, i + 1);
    if (!ext) return;
    const bounds = [i + 1, ...ext.commas, ext.close];
    const args: CallArgument[] = [];
    if (ext.close > i + 2) {
      for (let a = 0; a + 1 < bounds.length; a++) args.push(argument(sql, tokens, bounds[a]! + 1, bounds[a + 1]!));
    }
    out.push({
      name, start: t.start, end: tokens[ext.close]!.end, argsStart: tokens[i + 1]!.end, argsEnd: tokens[ext.close]!.start, args, before: tokens[i - 1],
    });
  });
  return out;
}

function argument(sql: string, tokens: readonly Token[], from: number, to: number): CallArgument {
  const own = tokens.slice(from, to);
  const start = own[0]?.start ?? tokens[from - 1]!.end;
  const end = own.length ? own[own.length - 1]!.end : start;
  const named = own.length >= 3 && (own[0]!.kind === 'word' || own[0]!.kind === 'quoted') && (own[1]!.text === '=>' || own[1]!.text === ':=');
  const valueTokens = named ? own.slice(2) : own;
  const vStart = valueTokens[0]?.start ?? end;
  return {
    start, end, text: sql.slice(start, end), name: named ? nameOf(own[0]!) : null,
    value: { start: vStart, end, text: sql.slice(vStart, end), tokens: valueTokens },
  };
}

/** The value of a plain string literal token ('...' with doubled quotes), or null for anything else. */
export function stringValue(tokens: readonly Token[]): string | null {
  if (tokens.length !== 1 || tokens[0]!.kind !== 'string' || !tokens[0]!.text.startsWith("'")) return null;
  return tokens[0]!.text.slice(1, -1).replace(/''/g, "'");
}
