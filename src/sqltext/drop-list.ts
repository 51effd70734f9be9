import { codeTokens, isWord, readQualifiedName, type Token } from './lexer.js';

/** One object a DROP names. */
export interface DropItem {
  /** Its schema as written (null when unqualified; for a schema, its database). */
  schema: string | null;
  name: string;
  /** Its text as written, a function's argument list included. */
  text: string;
}

/** A DROP statement read by its tokens: `DROP <kind> [IF EXISTS] item [, item ...] [CASCADE | RESTRICT]`. */
export interface DropList {
  /** The object kind, lowercased: table, view, index, sequence, type, schema, function, macro. */
  kind: string;
  ifExists: boolean;
  items: DropItem[];
  /** The same DROP of one of its items, with IF EXISTS (CASCADE or RESTRICT kept). */
  singleIfExists(item: DropItem): string;
}

/** The kinds of object whose DROP lists aiduck reads (drop-notices.ts can look each up). */
const KINDS: ReadonlySet<string> = new Set(['table', 'view', 'index', 'sequence', 'type', 'schema', 'function', 'macro']);

/** The DROP `sql` is, read by its tokens (quoted and qualified names, function argument lists), or null for any other statement. */
export function dropList(sql: string): DropList | null {
  const tokens = codeTokens(sql);
  if (!isWord(tokens[0], 'drop')) return null;
  let i = isWord(tokens[1], 'materialized') ? 2 : 1;
  const kindToken = tokens[i++];
  const kind = kindToken?.kind === 'word' ? kindToken.text.toLowerCase() : '';
  if (!KINDS.has(kind)) return null;
  let headEnd = kindToken!.end;
  if (kind === 'macro' && isWord(tokens[i], 'table')) headEnd = tokens[i++]!.end;
  const ifExists = isWord(tokens[i], 'if') && isWord(tokens[i + 1], 'exists');
  if (ifExists) i += 2;
  const items: DropItem[] = [];
  let last: Token | undefined;
  for (;;) {
    const n = readQualifiedName(tokens, i);
    if (!n) return null;
    let end = n.next;
    if (tokens[end]?.text === '(') end = closingBracket(tokens, end) + 1;
    if (end > tokens.length) return null;
    last = tokens[end - 1]!;
    items.push({
      schema: n.parts.length > 1 ? n.parts[n.parts.length - 2]! : null,
      name: n.parts[n.parts.length - 1]!,
      text: sql.slice(tokens[i]!.start, last.end),
    });
    if (tokens[end]?.text !== ',') break;
    i = end + 1;
  }
  const head = sql.slice(0, headEnd);
  const tail = sql.slice(last.end);
  return { kind, ifExists, items, singleIfExists: (item) => `${head} IF EXISTS ${item.text}${tail}` };
}

/** The index of the `)` that closes the `(` at `open` (tokens.length when none does). */
function closingBracket(tokens: readonly Token[], open: number): number {
  let depth = 0;
  for (let i = open; i < tokens.length; i++) {
    if (tokens[i]!.text === '(') depth++;
    else if (tokens[i]!.text === ')' && --depth === 0) return i;
  }
  return tokens.length;
}
