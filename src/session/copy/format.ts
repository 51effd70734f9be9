import type { CopyCommand } from '../../pg/copy-command.js';
import { arrayFromPgText, type PgArray } from '../../pg/types/pg-text-input.js';

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

const textLineSpecials = new Map<string, RegExp>();
const isOctal = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '7';
const isHex = (c: string | undefined): boolean => c !== undefined && /^[0-9a-fA-F]$/.test(c);

/**
 * Decodes one line of Postgres text-format COPY data into fields (null for the NULL marker). The
 * runs between backslashes and delimiters are copied as slices, so a line of many megabytes costs
 * time linear in its length.
 */
export function parseTextLine(cmd: CopyCommand, line: string): Array<string | null> {
  let special = textLineSpecials.get(cmd.delimiter);
  if (!special) textLineSpecials.set(cmd.delimiter, (special = new RegExp(`[\\\\${regexChar(cmd.delimiter)}]`, 'g')));
  const fields: Array<string | null> = [];
  let parts: string[] = [];
  // Octal and hex escapes are bytes: consecutive ones form one UTF-8 sequence (\303\251 is é).
  let bytes: number[] = [];
  const add = (s: string): void => {
    if (bytes.length) {
      parts.push(Buffer.from(bytes).toString('utf8'));
      bytes = [];
    }
    if (s) parts.push(s);
  };
  const endField = (start: number, end: number): void => {
    add('');
    const isNull = end - start === cmd.null.length && line.startsWith(cmd.null, start);
    fields.push(isNull ? null : parts.join(''));
    parts = [];
  };
  let fieldStart = 0;
  let copied = 0;
  special.lastIndex = 0;
  for (let m = special.exec(line); m; m = special.exec(line)) {
    const i = m.index;
    if (i > copied) add(line.slice(copied, i));
    if (line[i] !== '\\') {
      endField(fieldStart, i);
      fieldStart = copied = i + 1;
      continue;
    }
    if (i + 1 >= line.length) {
      // A backslash that ends the line stands for itself.
      copied = i;
      break;
    }
    const next = line[i + 1]!;
    let j = i + 2;
    if (simpleEscapes[next]) add(simpleEscapes[next]);
    else if (isOctal(next)) {
      while (j < i + 4 && isOctal(line[j])) j++;
      bytes.push(parseInt(line.slice(i + 1, j), 8) & 0xff);
    } else if (next === 'x' && isHex(line[j])) {
      if (isHex(line[j + 1])) j++;
      j++;
      bytes.push(parseInt(line.slice(i + 2, j), 16));
    } else add(next);
    copied = j;
    special.lastIndex = j;
  }
  if (copied < line.length) add(line.slice(copied));
  endField(fieldStart, line.length);
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

/**
 * A Postgres array's text (`{a,"b c",NULL,"{x}"}`) as DuckDB's list text, which its cast to a list
 * reads back as the same elements (each quoted, `"` and `\` escaped; NULL bare).
 */
export function duckListText(pgArray: string): string {
  const list = (a: PgArray): string => `[${a.map((x) => (x === null ? 'NULL' : Array.isArray(x) ? list(x) : `"${x.replace(/[\\"]/g, '\\$&')}"`)).join(', ')}]`;
  return list(arrayFromPgText(pgArray));
}
