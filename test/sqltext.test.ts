import { describe, expect, it } from 'vitest';
import { codeTokens, lex } from '../src/sqltext/lexer.js';
import { applyEdits, hasCodeKeyword, leadingWords, rewriteParameters, splitStatements, stripComments } from '../src/sqltext/statements.js';
import { dropList } from '../src/sqltext/drop-list.js';

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

  it('reads spaces, words and numbers as JavaScript\'s \\s, \\w and \\d do, beyond ASCII too', () => {
    // U+00A0 and U+2028 start a space, U+0085 does not; inside a word every character from U+0080 on is
    // part of it (so is an emoji's two halves)
    expect(lex('a \u00a0\u2028b \u0085c é\u00a0x 😀y\v.5e+3 .e 1.').map((t) => `${t.kind}:${t.text}`)).toEqual([
      'word:a', 'space: \u00a0\u2028', 'word:b', 'space: ', 'word:\u0085c', 'space: ', 'word:é\u00a0x', 'space: ', 'word:😀y', 'space:\v',
      'number:.5e+3', 'space: ', 'punct:.', 'word:e', 'space: ', 'number:1.',
    ]);
    // a dollar-quote tag is at most 62 characters; a longer one is an operator and a name
    const tag = `$${'t'.repeat(62)}$`;
    expect(kinds(`${tag}x${tag}`)).toEqual([`string:${tag}x${tag}`]);
    expect(kinds(`$${'t'.repeat(63)}$`)).toEqual(['op:$', `word:${'t'.repeat(63)}$`]);
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

describe('DROP lists', () => {
  it('reads quoted, qualified and function names, and rebuilds each one\'s DROP IF EXISTS', () => {
    const l = dropList('drop table if exists a, "b,""c", s."T", db.s2.d cascade;')!;
    expect(l.kind).toBe('table');
    expect(l.ifExists).toBe(true);
    expect(l.items.map((i) => [i.schema, i.name])).toEqual([[null, 'a'], [null, 'b,"c'], ['s', 'T'], ['s2', 'd']]);
    expect(l.items.map((i) => l.singleIfExists(i))).toEqual([
      'drop table IF EXISTS a cascade;', 'drop table IF EXISTS "b,""c" cascade;', 'drop table IF EXISTS s."T" cascade;', 'drop table IF EXISTS db.s2.d cascade;',
    ]);
    const f = dropList('DROP FUNCTION f(int, text), g() RESTRICT')!;
    expect(f.ifExists).toBe(false);
    expect(f.items.map((i) => f.singleIfExists(i))).toEqual(['DROP FUNCTION IF EXISTS f(int, text) RESTRICT', 'DROP FUNCTION IF EXISTS g() RESTRICT']);
    expect(dropList('DROP MACRO TABLE m1, m2')!.items.map((i) => i.name)).toEqual(['m1', 'm2']);
    expect(dropList('DROP SECRET a')).toBeNull();
    expect(dropList('SELECT 1')).toBeNull();
  });
});
