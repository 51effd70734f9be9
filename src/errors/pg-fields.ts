import type { ErrorFields } from './sql-error.js';

/*
 * Postgres' error fields recovered from DuckDB's error texts: where in the statement a syntax or
 * binding error is (psql draws its `LINE 2: ... ^` from it), and which table and constraint a
 * constraint error is about (drivers expose them: psycopg2's e.diag.constraint_name, pgJDBC's
 * ServerErrorMessage).
 */

/**
 * The 1-based character position in `sql` of the error DuckDB marks with a caret under a `LINE n:`
 * excerpt of it (an excerpt of a long line is cut with `...`), or undefined when the excerpt is not
 * in `sql`.
 */
export function caretPosition(message: string, sql: string): number | undefined {
  const m = /\nLINE (\d+): (.*)\n( *)\^/.exec(message);
  if (!m) return undefined;
  const lineNo = Number(m[1]);
  let excerpt = m[2]!;
  let col = m[3]!.length - `LINE ${m[1]}: `.length;
  const lines = sql.split('\n');
  const line = lines[lineNo - 1];
  if (line === undefined || col < 0) return undefined;
  let at = 0;
  if (excerpt.startsWith('...')) {
    excerpt = excerpt.slice(3);
    col -= 3;
  }
  if (excerpt.endsWith('...')) excerpt = excerpt.slice(0, -3);
  at = m[2]!.startsWith('...') ? line.indexOf(excerpt) : line.startsWith(excerpt) ? 0 : -1;
  if (at < 0) return undefined;
  const before = lines.slice(0, lineNo - 1).reduce((n, l) => n + l.length + 1, 0);
  return before + at + col + 1;
}

/** Postgres' default name of a constraint: `t_pkey`, `t_a_b_key`, `t_a_fkey`, `t_a_check`, each part cut to fit 63 bytes. */
export function defaultConstraintName(table: string, columns: readonly string[], kind: 'pkey' | 'key' | 'fkey' | 'check'): string {
  const name = kind === 'pkey' || columns.length === 0 ? `${table}_${kind}` : `${table}_${columns.join('_')}_${kind}`;
  return name.length <= 63 ? name : `${name.slice(0, 63 - kind.length - 1)}_${kind}`;
}

/**
 * A DuckDB constraint error as Postgres words it, with its fields: `table` is the table the failing
 * statement writes (DuckDB's message does not always name it).
 */
export function constraintError(message: string, table: string | null): { message: string; fields: ErrorFields; code?: string } | null {
  let m = /^Duplicate key "(.*)" violates (primary key|unique) constraint/.exec(message);
  if (m && table) {
    const pairs = keyPairs(m[1]!);
    const constraint = defaultConstraintName(table, pairs.map((p) => p[0]), m[2] === 'primary key' ? 'pkey' : 'key');
    return {
      message: `duplicate key value violates unique constraint "${constraint}"`,
      fields: { table, constraint, detail: `Key (${pairs.map((p) => p[0]).join(', ')})=(${pairs.map((p) => p[1]).join(', ')}) already exists.` },
    };
  }
  m = /^NOT NULL constraint failed: (?:(.+)\.)?([^.]+)$/.exec(message);
  if (m) {
    const t = m[1] ?? table ?? undefined;
    return { message: `null value in column "${m[2]}"${t ? ` of relation "${t}"` : ''} violates not-null constraint`, fields: { column: m[2]!, ...(t ? { table: t } : {}) } };
  }
  m = /^CHECK constraint failed on table (\S+) with expression CHECK\((.*)\)$/.exec(message);
  // A varchar(n) column's length (rewrite/pg-varchar.ts).
  const tooLong = m ? /^\(length\((?:"((?:[^"]|"")+)"|([A-Za-z_][\w$]*))\) <= (\d+)\)$/.exec(m[2]!) : null;
  if (m && tooLong) {
    return { code: '22001', message: `value too long for type character varying(${tooLong[3]})`, fields: { table: m[1]!, column: (tooLong[1] ?? tooLong[2])!.replace(/""/g, '"') } };
  }
  if (m) {
    // Postgres names a check on one column t_col_check, on several t_check (as pg_constraint does here).
    const names = [...m[2]!.replace(/'(?:[^']|'')*'/g, '').matchAll(/([A-Za-z_][\w$]*)\s*(\()?/g)]
      .filter((x) => !x[2] && !/^(and|or|not|null|is|true|false|in|like|ilike|between|case|when|then|else|end|cast|as)$/i.test(x[1]!))
      .map((x) => x[1]!);
    const distinct = [...new Set(names)];
    const constraint = defaultConstraintName(m[1]!, distinct.length === 1 ? distinct : [], 'check');
    return {
      message: `new row for relation "${m[1]}" violates check constraint "${constraint}"`,
      fields: { table: m[1]!, constraint, detail: `Check: ${m[2]}` },
    };
  }
  m = /^Violates foreign key constraint because key "(.*)" does not exist in the referenced table/.exec(message);
  if (m && table) {
    const pairs = keyPairs(m[1]!);
    return {
      message: `insert or update on table "${table}" violates foreign key constraint`,
      // DuckDB names the referenced key's columns, not the referencing ones Postgres' detail names.
      fields: { table, detail: `The referenced key (${pairs.map((p) => p[0]).join(', ')})=(${pairs.map((p) => p[1]).join(', ')}) does not exist.` },
    };
  }
  return null;
}

/** `a: 1, b: x` → [[a, 1], [b, x]]. */
function keyPairs(text: string): Array<[string, string]> {
  return text.split(/, (?=[^,:]+: )/).map((p) => {
    const i = p.indexOf(': ');
    return i < 0 ? ['?', p] : [p.slice(0, i), p.slice(i + 2)];
  });
}
