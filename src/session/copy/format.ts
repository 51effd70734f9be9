import type { CopyCommand } from '../../pg/copy-command.js';

/** One row of COPY TO STDOUT output (with its newline) in Postgres' text or csv format. */
export function copyRow(cmd: CopyCommand, values: ReadonlyArray<string | null>): string {
  return values.map((v) => (cmd.format === 'csv' ? csvField(cmd, v) : textField(cmd, v))).join(cmd.delimiter) + '\n';
}

const TEXT_ESCAPES: Readonly<Record<string, string>> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\b': '\\b', '\f': '\\f', '\v': '\\v' };
const regexChar = (c: string): string => c.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
const textSpecials = new Map<string, RegExp>();
const csvSpecials = new Map<string, RegExp>();

/** A field in text format: backslash escapes for control characters, backslash and the delimiter (one regex pass, not a loop per character: values may be megabytes). */
function textField(cmd: CopyCommand, v: string | null): string {
  if (v === null) return cmd.null;
  let re = textSpecials.get(cmd.delimiter);
  if (!re) textSpecials.set(cmd.delimiter, (re = new RegExp(`[\\\\\\n\\r\\t\\b\\f\\v${regexChar(cmd.delimiter)}]`, 'g')));
  re.lastIndex = 0;
  if (!re.test(v)) return v;
  re.lastIndex = 0;
  return v.replace(re, (ch) => TEXT_ESCAPES[ch] ?? `\\${ch}`);
}

function csvField(cmd: CopyCommand, v: string | null): string {
  if (v === null) return cmd.null;
  const needsQuote = v === '' || v === cmd.null || v.includes(cmd.delimiter) || v.includes(cmd.quote) ||
    v.includes('\n') || v.includes('\r') || v.startsWith('\\.');
  if (!needsQuote) return v;
  const q = cmd.quote;
  const key = q + cmd.escape;
  let re = csvSpecials.get(key);
  if (!re) csvSpecials.set(key, (re = new RegExp(`[${regexChar(q)}${regexChar(cmd.escape)}]`, 'g')));
  return q + v.replace(re, (ch) => cmd.escape + ch) + q;
}

const simpleEscapes: Readonly<Record<string, string>> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' };

/** Decodes one line of Postgres text-format COPY data into fields (null for the NULL marker). */
export function parseTextLine(cmd: CopyCommand, line: string): Array<string | null> {
  const fields: Array<string | null> = [];
  let raw = '';
  let value = '';
  // Octal and hex escapes are bytes: consecutive ones form one UTF-8 sequence (\303\251 is é).
  let bytes: number[] = [];
  const text = (s: string): void => {
    if (bytes.length) {
      value += Buffer.from(bytes).toString('utf8');
      bytes = [];
    }
    value += s;
  };
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (ch === '\\' && i + 1 < line.length) {
      const next = line[++i]!;
      raw += ch + next;
      if (simpleEscapes[next]) text(simpleEscapes[next]);
      else if (/[0-7]/.test(next)) {
        let oct = next;
        while (oct.length < 3 && /[0-7]/.test(line[i + 1] ?? '')) oct += line[++i];
        bytes.push(parseInt(oct, 8) & 0xff);
      } else if (next === 'x' && /[0-9a-fA-F]/.test(line[i + 1] ?? '')) {
        let hex = '';
        while (hex.length < 2 && /[0-9a-fA-F]/.test(line[i + 1] ?? '')) hex += line[++i];
        bytes.push(parseInt(hex, 16));
      } else text(next);
    } else if (ch === cmd.delimiter) {
      text('');
      fields.push(raw === cmd.null ? null : value);
      raw = '';
      value = '';
    } else {
      raw += ch;
      text(ch);
    }
  }
  text('');
  fields.push(raw === cmd.null ? null : value);
  return fields;
}

/**
 * Whether bytes [start, end) of text-format COPY data (default delimiter and NULL marker) are
 * already in the form staged for DuckDB's reader (tab-separated, \x01 as the quote, \N as NULL):
 * no escapes (the only backslashes are \N fields), no \x01, no carriage return.
 */
export function stagedTextVerbatim(data: Buffer, start: number, end: number): boolean {
  const region = data.subarray(start, end);
  if (region.includes(0x01) || region.includes(0x0d)) return false;
  for (let i = region.indexOf(0x5c); i >= 0; i = region.indexOf(0x5c, i + 1)) {
    const fieldStart = i === 0 || region[i - 1] === 0x09 || region[i - 1] === 0x0a;
    const fieldEnd = i + 2 === region.length || region[i + 2] === 0x09 || region[i + 2] === 0x0a;
    if (region[i + 1] !== 0x4e || !fieldStart || !fieldEnd) return false;
  }
  return true;
}

/** Decoded fields as a line of the staged text form (see stagedTextVerbatim). */
export function stagedTextLine(fields: ReadonlyArray<string | null>): string {
  return fields.map((f) => (f === null ? '\\N' : /[\t\n\r\x01]/.test(f) || f === '\\N' ? `\x01${f.replace(/\x01/g, '\x01\x01')}\x01` : f)).join('\t') + '\n';
}

/** A CSV line that DuckDB's reader turns back into exactly these fields (unquoted empty is NULL). */
export function csvLineForDuckDB(fields: ReadonlyArray<string | null>): string {
  return fields.map((f) => (f === null ? '' : '"' + f.replace(/"/g, '""') + '"')).join(',') + '\n';
}
