import { describe, expect, it } from 'vitest';
import { codeTokens, lex } from '../src/sqltext/lexer.js';
import { applyEdits, hasCodeKeyword, leadingWords, rewriteParameters, splitStatements, stripComments } from '../src/sqltext/statements.js';

const kinds = (sql: string): string[] => codeTokens(sql).map((t) => `${t.kind}:${t.text}`);

describe('the lexer', () => {
  it('gives back the text it was given, token by token', () => {
    for (const sql of ["SELECT 'it''s', E'a\\'b', $x$ ; $x$, \"Q \"\"n\"\"\" -- c\n/* a /* nested */ b */ FROM t WHERE a::int >= $1;",
      "SELECT 'unterminated", 'SELECT "open', '/* open comment', 'x$$ y']) {
      expect(lex(sql).map((t) => t.text).join('')).toBe(sql);
    }
  });

  it('tells strings, quoted names, parameters, operators and comments apart', () => {
    expect(kinds("SELECT E'a\\'b', 'x''y', $t$;$t$, \"n\", $12, 1.5e3, a::int, b => 1, c := 2 -- no\n/* no */")).toEqual([
      'word:SELECT', "string:E'a\\'b'", 'punct:,', "string:'x''y'", 'punct:,', 'string:$t$;$t$', 'punct:,', 'quoted:"n"', 'punct:,',
      'param:$12', 'punct:,', 'number:1.5e3', 'punct:,', 'word:a', 'op:::', 'word:int', 'punct:,', 'word:b', 'op:=>', 'number:1', 'punct:,',
      'word:c', 'op::=', 'number:2',
    ]);
    // a word ending in e before a quote is not an E'' string; a $ inside a name is part of it
    expect(kinds("some'x' a$1")).toEqual(['word:some', "string:'x'", 'word:a$1']);
  });
});

describe('statements', () => {
  it('splits at top-level semicolons only', () => {
    expect(splitStatements("SELECT ';'; SELECT $$a;b$$ ; -- only a comment;\n ; /* ; */ SELECT \"a;b\"")).toEqual([
      "SELECT ';'", 'SELECT $$a;b$$', '/* ; */ SELECT "a;b"',
    ]);
  });

  it('finds keywords, leading words and parameters in code only', () => {
    expect(hasCodeKeyword("SELECT 'returning' FROM t", 'RETURNING')).toBe(false);
    expect(hasCodeKeyword('INSERT INTO t VALUES (1) RETURNING *', 'returning')).toBe(true);
    expect(leadingWords('/* c */ ((SELECT 1))', 2)).toEqual(['SELECT']);
    expect(leadingWords('-- c\nBEGIN  TRANSACTION', 3)).toEqual(['BEGIN', 'TRANSACTION']);
    expect(rewriteParameters("SELECT $1, '$2', $10 -- $3", (i) => `p${i}`)).toBe("SELECT p1, '$2', p10 -- $3");
    expect(stripComments('SELECT 1 /* x */ + 2 -- y')).toBe('SELECT 1   + 2');
    expect(applyEdits('abcdef', [{ start: 4, end: 5, text: 'E' }, { start: 1, end: 1, text: '+' }])).toBe('a+bcdEf');
  });
});
