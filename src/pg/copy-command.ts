import { SqlError } from '../errors/sql-error.js';

/** A COPY that moves data over the wire (FROM STDIN or TO STDOUT), parsed from its Postgres syntax. */
export interface CopyCommand {
  direction: 'in' | 'out';
  /** `table` or `table (a, b)` */
  target?: { table: string; columns?: string };
  /** the query of `COPY (query) TO STDOUT` */
  query?: string;
  format: 'text' | 'csv';
  header: boolean;
  delimiter: string;
  null: string;
  quote: string;
  escape: string;
}

function unquoteOption(v: string | undefined): string {
  if (v === undefined) return '';
  const t = v.trim();
  if (/^E'/i.test(t)) return t.slice(2, -1).replace(/\\t/g, '\t').replace(/\\n/g, '\n').replace(/\\\\/g, '\\').replace(/''/g, "'");
  if (t.startsWith("'")) return t.slice(1, -1).replace(/''/g, "'");
  return t;
}

/** Options in either the modern `WITH (FORMAT csv, HEADER)` form or the legacy `WITH CSV HEADER` form. */
function parseOptions(text: string): Array<[string, string | undefined]> {
  const t = text.trim().replace(/^WITH\s*/i, '').trim();
  if (!t) return [];
  const out: Array<[string, string | undefined]> = [];
  if (t.startsWith('(')) {
    const body = t.replace(/^\(|\)\s*;?\s*$/g, '');
    for (const part of body.match(/(?:[^,']|'(?:[^']|'')*')+/g) ?? []) {
      const m = /^\s*(\w+)\s*([\s\S]*?)\s*$/.exec(part);
      if (m) out.push([m[1]!.toLowerCase(), m[2] ? m[2] : undefined]);
    }
    return out;
  }
  const tokens = t.match(/E?'(?:[^']|'')*'|\w+|\S/gi) ?? [];
  for (let i = 0; i < tokens.length; i++) {
    const tok = tokens[i]!.toLowerCase();
    if (tok === 'binary' || tok === 'csv' || tok === 'text') out.push(['format', tok]);
    else if (tok === 'header') out.push(['header', 'true']);
    else if (['delimiter', 'null', 'quote', 'escape', 'encoding'].includes(tok)) {
      if (tokens[i + 1]?.toLowerCase() === 'as') i++;
      out.push([tok, tokens[++i]]);
    } else if (tok === 'force') {
      while (i + 1 < tokens.length && !/^(delimiter|null|quote|escape|header|encoding)$/i.test(tokens[i + 1]!)) i++;
    }
  }
  return out;
}

export function parseCopy(text: string): CopyCommand | null {
  const m = /^COPY\s+([\s\S]+?)\s+(FROM\s+STDIN|TO\s+STDOUT)\b\s*([\s\S]*)$/i.exec(text.trim());
  if (!m) return null;
  const direction = /^FROM/i.test(m[2]!) ? 'in' : 'out';
  const source = m[1]!.trim();
  const cmd: CopyCommand = { direction, format: 'text', header: false, delimiter: '\t', null: '\\N', quote: '"', escape: '"' };
  if (source.startsWith('(')) {
    if (direction === 'in') throw new SqlError('42601', 'COPY FROM STDIN needs a table, not a query');
    cmd.query = source.slice(1, source.lastIndexOf(')'));
  } else {
    const name = '(?:"(?:[^"]|"")*"|[^\\s(."]+)';
    const t = new RegExp(`^(${name}(?:\\s*\\.\\s*${name})*)\\s*(?:\\(([\\s\\S]*)\\))?$`).exec(source);
    if (!t) throw new SqlError('42601', `cannot parse the COPY target "${source}"`);
    cmd.target = { table: t[1]!, ...(t[2] ? { columns: t[2] } : {}) };
  }
  let nullSet = false;
  let delimiterSet = false;
  for (const [name, value] of parseOptions(m[3]!)) {
    switch (name) {
      case 'format': {
        const f = unquoteOption(value).toLowerCase();
        if (f === 'binary') throw new SqlError('0A000', 'COPY BINARY is not supported; use FORMAT text or csv');
        if (f !== 'text' && f !== 'csv') throw new SqlError('22023', `COPY format "${f}" not recognized`);
        cmd.format = f;
        break;
      }
      case 'header': {
        const v = value === undefined ? 'true' : unquoteOption(value).toLowerCase();
        cmd.header = !['false', 'off', '0'].includes(v);
        break;
      }
      case 'delimiter': cmd.delimiter = unquoteOption(value); delimiterSet = true; break;
      case 'null': cmd.null = unquoteOption(value); nullSet = true; break;
      case 'quote': cmd.quote = unquoteOption(value); break;
      case 'escape': cmd.escape = unquoteOption(value); break;
      case 'encoding': {
        const e = unquoteOption(value);
        if (!/^(utf-?8|unicode)$/i.test(e)) throw new SqlError('22023', `COPY encoding "${e}" is not supported; use UTF8`);
        break;
      }
      case 'freeze': case 'force_quote': case 'force_not_null': case 'force_null': case 'on_error': break;
      default: throw new SqlError('42601', `option "${name}" not recognized`);
    }
  }
  if (cmd.format === 'csv') {
    if (!delimiterSet) cmd.delimiter = ',';
    if (!nullSet) cmd.null = '';
  }
  if (cmd.delimiter.length !== 1) throw new SqlError('0A000', 'COPY delimiter must be a single one-byte character');
  return cmd;
}
