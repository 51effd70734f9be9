import { describe, expect, it } from 'vitest';
import { parseCopy } from '../src/pg/copy-command.js';
import { copyRow, csvLineForDuckDB, parseTextLine, stagedTextLine, stagedTextVerbatim } from '../src/session/copy/format.js';

const text = parseCopy('COPY t FROM STDIN')!;
const csv = parseCopy("COPY t TO STDOUT WITH (FORMAT csv, HEADER, DELIMITER ';')")!;

describe('COPY text format', () => {
  it('decodes escapes, NULL markers and octal/hex bytes as UTF-8', () => {
    expect(parseTextLine(text, 'a\\tb\t\\N\t\\\\N\t\\303\\251t\\xc3\\xa9\tx\\\\y')).toEqual(['a\tb', null, '\\N', 'été', 'x\\y']);
  });

  it('writes what it reads back', () => {
    const values = ['tab\there', 'new\nline', 'back\\slash', null, 'plain', ''];
    const line = copyRow(text, values);
    expect(line.endsWith('\n')).toBe(true);
    expect(parseTextLine(text, line.slice(0, -1))).toEqual(values);
  });

  it('stages a line as it came only when reading it as tab-separated fields, \\N as NULL, gives what decoding it gives', () => {
    const verbatim = (s: string): boolean => stagedTextVerbatim(Buffer.from(s), 0, Buffer.byteLength(s));
    const asItCame = ['1\tplain\t\n', '2\t\\N\t\\N\n', '3\t"quoted"\tüñí\n', '4\t\t\n', '\\N\n'];
    for (const line of asItCame) {
      expect(verbatim(line), line).toBe(true);
      expect(line.slice(0, -1).split('\t').map((f) => (f === '\\N' ? null : f))).toEqual(parseTextLine(text, line.slice(0, -1)));
    }
    // an escape, \N inside a field, \x01 (the staged form's quote), a carriage return, the end marker
    for (const line of ['1\ta\\tb\n', '2\tx\\N\n', '3\t\\Nx\n', '4\t\x01\n', '5\tx\r\n', '\\.\n']) expect(verbatim(line), line).toBe(false);
    // several lines at once: one that needs decoding makes the whole run need it
    expect(verbatim('1\ta\n2\t\\N\n')).toBe(true);
    expect(verbatim('1\ta\n2\tb\\\\c\n')).toBe(false);
    expect(stagedTextLine(['a\tb', null, '\\N', '', 'x\x01y', 'plain'])).toBe('\x01a\tb\x01\t\\N\t\x01\\N\x01\t\t\x01x\x01\x01y\x01\tplain\n');
  });
});

describe('COPY csv format and options', () => {
  it('parses modern and legacy option syntax', () => {
    expect(csv).toMatchObject({ direction: 'out', format: 'csv', header: true, delimiter: ';', null: '' });
    expect(parseCopy("COPY (SELECT 1) TO STDOUT WITH CSV HEADER DELIMITER AS '|'")).toMatchObject({ query: 'SELECT 1', header: true, delimiter: '|' });
    expect(parseCopy('COPY "my table" (a, "b c") FROM STDIN')).toMatchObject({ target: { table: '"my table"', columns: 'a, "b c"' } });
    expect(() => parseCopy('COPY t FROM STDIN (FORMAT binary)')).toThrow(/not supported/);
  });

  it('quotes only what needs quoting, and empty strings apart from NULL', () => {
    expect(copyRow(csv, ['a', 'b;c', 'say "hi"', '', null])).toBe('a;"b;c";"say ""hi""";"";\n');
    expect(csvLineForDuckDB(['x', null, '', 'q"'])).toBe('"x",,"","q"""\n');
  });
});
