import { SqlError } from '../errors/sql-error.js';
import { bracketExtent } from '../sqltext/calls.js';
import { codeTokens, isWord, nameOf, readQualifiedName, type Token } from '../sqltext/lexer.js';
import { applyEdits, type Edit } from '../sqltext/statements.js';

/** A column that draws its values from a sequence: `serial`, `bigserial`, `smallserial`, or `GENERATED ... AS IDENTITY`. */
export interface SequenceColumn {
  column: string;
  /** Options of the sequence (START WITH, INCREMENT BY, MINVALUE, MAXVALUE, CYCLE), in DuckDB's syntax. */
  options: string;
  /** A name the identity's options give the sequence (SEQUENCE NAME), if any. */
  sequenceName: string | null;
}

/**
 * A CREATE TABLE or ALTER TABLE ... ADD COLUMN with sequence-backed columns, which DuckDB lacks:
 * each becomes a column of its integer type with `DEFAULT nextval('<sequence>') NOT NULL`, the
 * sequence created first, as Postgres does for serial and identity columns.
 */
export interface SequenceColumns {
  kind: 'create' | 'add-column';
  schema: string | null;
  table: string;
  temporary: boolean;
  ifNotExists: boolean;
  columns: SequenceColumn[];
  /** The statements DuckDB runs, given each column's qualified sequence name (in `columns` order). */
  statements(sequences: readonly string[]): string[];
}

const SERIAL_TYPES: Readonly<Record<string, string>> = {
  serial: 'INTEGER', serial4: 'INTEGER', bigserial: 'BIGINT', serial8: 'BIGINT', smallserial: 'SMALLINT', serial2: 'SMALLINT',
};
const MARK = '\u0001';

const syntaxError = (t: Token | undefined): SqlError =>
  new SqlError('42601', t ? `syntax error at or near "${t.text}"` : 'syntax error at end of input');

/** The sequence-backed columns of a CREATE TABLE or ALTER TABLE ADD COLUMN, or null when it has none. */
export function sequenceColumns(sql: string): SequenceColumns | null {
  if (!/serial|identity/i.test(sql)) return null;
  const tokens = codeTokens(sql);
  let i = 0;
  const take = (...words: string[]): boolean => {
    if (!words.every((w, k) => isWord(tokens[i + k], w))) return false;
    i += words.length;
    return true;
  };
  let kind: SequenceColumns['kind'];
  let temporary = false;
  let ifNotExists = false;
  if (take('create')) {
    take('or', 'replace');
    temporary = take('temp') || take('temporary');
    if (!take('table')) return null;
    ifNotExists = take('if', 'not', 'exists');
    kind = 'create';
  } else if (take('alter', 'table')) {
    take('if', 'exists');
    kind = 'add-column';
  } else {
    return null;
  }
  const name = readQualifiedName(tokens, i);
  if (!name) return null;
  const { parts } = name;
  i = name.next;
  const schema = parts.length >= 2 ? parts[parts.length - 2]! : null;
  const table = parts[parts.length - 1]!;
  const edits: Edit[] = [];
  const columns: SequenceColumn[] = [];
  const tableName = sql.slice(tokens[i - (parts.length * 2 - 1)]!.start, tokens[i - 1]!.end);
  if (kind === 'create') {
    if (tokens[i]?.text !== '(') return null;
    const list = bracketExtent(tokens, i);
    if (!list) return null;
    let start = i + 1;
    for (const end of [...list.commas, list.close]) {
      columnDefinition(tokens.slice(start, end), sql, edits, columns, true);
      start = end + 1;
    }
  } else {
    if (!take('add')) return null;
    take('column');
    if (take('if', 'not', 'exists')) ifNotExists = true;
    columnDefinition(tokens.slice(i), sql, edits, columns, false);
  }
  if (columns.length === 0) return null;
  const template = applyEdits(sql, edits);
  const nextval = (sequence: string): string => `nextval('${sequence.replace(/'/g, "''")}')`;
  return {
    kind, schema, table, temporary, ifNotExists, columns,
    statements: (sequences) => {
      if (kind === 'create') return [template.replace(new RegExp(`${MARK}(\\d+)${MARK}`, 'g'), (_, k: string) => nextval(sequences[Number(k)]!))];
      // DuckDB adds a column with neither a constraint nor a default that differs per row: the
      // column comes plain, is numbered in the table's order, then gets its default and NOT NULL.
      const column = sql.slice(tokens[i]!.start, tokens[i]!.end);
      return [template, `UPDATE ${tableName} SET ${column} = ${nextval(sequences[0]!)}`,
        `ALTER TABLE ${tableName} ALTER COLUMN ${column} SET DEFAULT ${nextval(sequences[0]!)}`,
        `ALTER TABLE ${tableName} ALTER COLUMN ${column} SET NOT NULL`];
    },
  };
}

/** One column definition: if it is serial or an identity, the edits that make it a nextval default. */
function columnDefinition(def: readonly Token[], sql: string, edits: Edit[], columns: SequenceColumn[], withDefault: boolean): void {
  const first = def[0];
  if (!first || (first.kind === 'word' && /^(constraint|primary|unique|check|foreign|like|exclude)$/i.test(first.text))) return;
  const column = nameOf(first);
  const type = def[1];
  if (column === null || !type) return;
  const mark = `${MARK}${columns.length}${MARK}`;
  const clause = withDefault ? ` DEFAULT ${mark} NOT NULL` : '';
  const serialType = type.kind === 'word' ? SERIAL_TYPES[type.text.toLowerCase()] : undefined;
  if (serialType) {
    edits.push({ start: type.start, end: type.end, text: `${serialType}${clause}` });
    columns.push({ column, options: '', sequenceName: null });
    return;
  }
  const g = def.findIndex((t) => isWord(t, 'generated'));
  if (g < 0) return;
  let k = g + 1;
  if (isWord(def[k], 'always')) k++;
  else if (isWord(def[k], 'by') && isWord(def[k + 1], 'default')) k += 2;
  else return;
  if (!isWord(def[k], 'as') || !isWord(def[k + 1], 'identity')) return;
  k += 2;
  let end = def[k - 1]!.end;
  let options = '';
  let sequenceName: string | null = null;
  if (def[k]?.text === '(') {
    const close = bracketExtent(def, k);
    if (!close) throw syntaxError(def[k]);
    ({ options, sequenceName } = identityOptions(def.slice(k + 1, close.close), sql));
    end = def[close.close]!.end;
  }
  edits.push({ start: def[g]!.start, end, text: clause.trim() });
  columns.push({ column, options, sequenceName });
}

/**
 * An identity's sequence options in DuckDB's CREATE SEQUENCE syntax: START [WITH], INCREMENT [BY],
 * [NO] MINVALUE, [NO] MAXVALUE, [NO] CYCLE kept; CACHE dropped (DuckDB has no cache; values are the
 * same); SEQUENCE NAME taken as the sequence's name.
 */
function identityOptions(tokens: readonly Token[], sql: string): { options: string; sequenceName: string | null } {
  const out: string[] = [];
  let sequenceName: string | null = null;
  for (let i = 0; i < tokens.length;) {
    const t = tokens[i]!;
    const w = t.kind === 'word' ? t.text.toLowerCase() : '';
    const numberEnd = (from: number): number => {
      let j = from;
      if (tokens[j]?.kind === 'op' && /^[-+]$/.test(tokens[j]!.text)) j++;
      if (tokens[j]?.kind !== 'number') throw syntaxError(tokens[j]);
      return j + 1;
    };
    if (w === 'sequence' && isWord(tokens[i + 1], 'name')) {
      sequenceName = tokens[i + 2] ? nameOf(tokens[i + 2]!) : null;
      if (sequenceName === null) throw syntaxError(tokens[i + 2]);
      i += 3;
    } else if (w === 'cache') {
      i = numberEnd(i + 1);
    } else if (w === 'start' || w === 'increment') {
      const j = numberEnd(isWord(tokens[i + 1], w === 'start' ? 'with' : 'by') ? i + 2 : i + 1);
      out.push(sql.slice(t.start, tokens[j - 1]!.end));
      i = j;
    } else if (w === 'minvalue' || w === 'maxvalue') {
      const j = numberEnd(i + 1);
      out.push(sql.slice(t.start, tokens[j - 1]!.end));
      i = j;
    } else if (w === 'no' && /^(minvalue|maxvalue|cycle)$/i.test(tokens[i + 1]?.text ?? '')) {
      out.push(sql.slice(t.start, tokens[i + 1]!.end));
      i += 2;
    } else if (w === 'cycle') {
      out.push('CYCLE');
      i++;
    } else {
      throw syntaxError(t);
    }
  }
  return { options: out.join(' '), sequenceName };
}
