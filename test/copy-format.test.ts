import { describe, expect, it } from 'vitest';
import { parseCopy } from '../src/pg/copy-command.js';
import { copyRow, csvLineForDuckDB, parseTextLine } from '../src/session/copy/format.js';

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
