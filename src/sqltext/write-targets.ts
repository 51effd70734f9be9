import { bracketExtent } from './calls.js';
import { isWord, readQualifiedName, type Token } from './lexer.js';

/*
 * What a write statement (INSERT, UPDATE, DELETE, MERGE, TRUNCATE, COPY FROM, COMMENT, CREATE, ALTER,
 * DROP) changes, read from its tokens: the registry's write guard and read-only transactions use it.
 */

/** A name a statement writes: `[catalog.]schema.name`, `name`, or a schema itself. */
export interface WriteTarget {
  catalog?: string | null;
  schema: string | null;
  name: string;
  isSchema: boolean;
  /** CREATE: an unqualified name goes to the current schema, whatever the search path holds. */
  creating: boolean;
}

const targetOf = (parts: string[], creating = false): WriteTarget => ({
  catalog: parts.length >= 3 ? parts[parts.length - 3]! : null, schema: parts.length >= 2 ? parts[parts.length - 2]! : null,
  name: parts[parts.length - 1]!, isSchema: false, creating,
});

/** Skips `WITH name AS (...), ...` in front of a DML statement. */
function afterWith(tokens: readonly Token[]): number {
  if (!isWord(tokens[0], 'with')) return 0;
  let i = isWord(tokens[1], 'recursive') ? 2 : 1;
  for (;;) {
    while (i < tokens.length && tokens[i]!.text !== '(') i++;
    // a column list before AS: name (a, b) AS (...)
    if (!isWord(tokens[i - 1], 'as') && !isWord(tokens[i - 1], 'materialized')) {
      const cols = bracketExtent(tokens, i);
      if (!cols) return tokens.length;
      i = cols.close + 1;
      continue;
    }
    const body = bracketExtent(tokens, i);
    if (!body) return tokens.length;
    i = body.close + 1;
    if (tokens[i]?.text !== ',') return i;
    i++;
  }
}

/** The objects a write statement changes, from its text; null when the text's shape is not one known here. */
export function writeTargets(tokens: readonly Token[]): WriteTarget[] | null {
  let i = afterWith(tokens);
  const w = (k: number): string => (tokens[k]?.kind === 'word' ? tokens[k]!.text.toLowerCase() : '');
  const skip = (...words: string[]): void => {
    while (words.includes(w(i))) i++;
  };
  const one = (): WriteTarget[] | null => {
    const n = readQualifiedName(tokens, i);
    return n ? [targetOf(n.parts)] : null;
  };
  switch (w(i++)) {
    case 'insert':
      skip('or', 'replace', 'ignore');
      if (w(i++) !== 'into') return null;
      return one();
    case 'update':
      return one();
    case 'delete':
      if (w(i++) !== 'from') return null;
      return one();
    case 'truncate':
      skip('table');
      return one();
    case 'merge':
      if (w(i++) !== 'into') return null;
      return one();
    case 'copy': {
      const n = readQualifiedName(tokens, i);
      if (!n) return [];
      let k = n.next;
      if (tokens[k]?.text === '(') k = (bracketExtent(tokens, k)?.close ?? tokens.length) + 1;
      // COPY t TO 'file' reads the table; COPY t FROM writes it.
      return w(k) === 'from' ? [targetOf(n.parts)] : [];
    }
    case 'comment':
      skip('on', 'table', 'view', 'column', 'index', 'sequence', 'macro', 'function', 'type', 'schema');
      return one();
    case 'alter':
    case 'drop':
    case 'create': {
      const verb = w(i - 1);
      skip('or', 'replace', 'temp', 'temporary', 'persistent', 'unique', 'materialized');
      const kind = w(i++);
      skip('if', 'not', 'exists');
      if (kind === 'schema') {
        const n = readQualifiedName(tokens, i);
        return n ? [{ schema: null, name: n.parts[n.parts.length - 1]!, isSchema: true, creating: false }] : null;
      }
      const creating = verb === 'create';
      if (kind === 'index' && w(i - 1) !== 'index') return null;
      if (kind === 'index') {
        // CREATE INDEX [name] ON table
        while (i < tokens.length && w(i) !== 'on') i++;
        if (w(i++) !== 'on') return one(); // DROP INDEX name
        return one();
      }
      const out: WriteTarget[] = [];
      for (;;) {
        const n = readQualifiedName(tokens, i);
        if (!n) return out.length ? out : null;
        out.push(targetOf(n.parts, creating));
        if (tokens[n.next]?.text !== ',') return out;
        i = n.next + 1;
      }
    }
    default:
      return null;
  }
}

