import { describe, expect, it } from 'vitest';
import { selectPart } from '../src/functions/prefetch-plan.js';
import { rewriteFunctionCalls } from '../src/rewrite/function-calls.js';
import { schemaOf, structureOf } from '../udfs/ai_query/response-format.js';

const dims = { dimensionOf: (m: string): number | null => (m === 'emb' ? 64 : null) };

describe('AI call rewrites', () => {
  it('casts ai_embed of a literal model with a known dimension to FLOAT[n], and only then', () => {
    expect(rewriteFunctionCalls("SELECT ai_embed('emb', lower(t)) FROM x", dims)).toBe("SELECT CAST(ai_embed('emb', lower(t)) AS FLOAT[64]) FROM x");
    expect(rewriteFunctionCalls("SELECT ai_embed(m, t) FROM x", dims)).toBe('SELECT ai_embed(m, t) FROM x');
    expect(rewriteFunctionCalls("SELECT ai_embed('other', t) FROM x", dims)).toBe("SELECT ai_embed('other', t) FROM x");
    expect(rewriteFunctionCalls("SELECT 'ai_embed(''emb'', t)' AS s -- ai_embed('emb', t)", dims)).toBe("SELECT 'ai_embed(''emb'', t)' AS s -- ai_embed('emb', t)");
  });

  it('turns responseFormat into a from_json structure and passes the shape of the answer', () => {
    const out = rewriteFunctionCalls("SELECT ai_query('m', q, responseFormat => 'STRUCT<a:STRING, b:ARRAY<INT>>', failOnError => false) FROM t", dims);
    expect(out).toBe(`SELECT ai_query('m', q, responseFormat => '{"a":"VARCHAR","b":["INTEGER"]}', failOnError => false, `
      + `__structure := '{"result":{"a":"VARCHAR","b":["INTEGER"]},"errorMessage":"VARCHAR"}') FROM t`);
    expect(rewriteFunctionCalls("SELECT ai_query('m', q) FROM t", dims)).toBe("SELECT ai_query('m', q) FROM t");
  });

  it('refuses a failOnError that is not a literal', () => {
    expect(() => rewriteFunctionCalls("SELECT ai_query('m', q, failOnError => 1 = 0)", dims)).toThrow(/failOnError must be written as true or false/);
  });

  it('spells named_struct as struct_pack, nested ones too', () => {
    expect(rewriteFunctionCalls("SELECT named_struct('a', 1, 'b', named_struct('c', 2))", dims)).toBe(`SELECT struct_pack("a" := 1, "b" := struct_pack("c" := 2))`);
    expect(rewriteFunctionCalls("SELECT ai_query('m', q, modelParameters => named_struct('temperature', 0.7, 'max_tokens', 2 * 256))", dims))
      .toBe(`SELECT ai_query('m', q, modelParameters => struct_pack("temperature" := 0.7, "max_tokens" := 2 * 256))`);
  });

  it('reads Databricks types and JSON schemas, and writes strict JSON schemas', () => {
    expect(structureOf('STRUCT<content:STRUCT<content:STRING>>')).toEqual({ content: { content: 'VARCHAR' } });
    expect(structureOf('ARRAY<STRUCT<`first name`:STRING, price:DECIMAL(10,2)>>')).toEqual([{ 'first name': 'VARCHAR', price: 'DECIMAL(10,2)' }]);
    expect(structureOf('{"type":"object","properties":{"n":{"type":"integer"}}}')).toEqual({ n: 'BIGINT' });
    expect(() => structureOf('STRUCT<a STRING')).toThrow(/invalid responseFormat/);
    expect(schemaOf({ a: 'VARCHAR', n: 'INTEGER' })).toEqual({
      type: 'object', properties: { a: { type: 'string' }, n: { type: 'integer' } }, required: ['a', 'n'], additionalProperties: false,
    });
  });
});

describe('the query part the prefetch pass runs', () => {
  it('finds the query of SELECT, CREATE TABLE AS, INSERT ... SELECT and UPDATE', () => {
    expect(selectPart('SELECT ai_embed(m, t) FROM x')).toBe('SELECT ai_embed(m, t) FROM x');
    expect(selectPart('CREATE OR REPLACE TABLE e AS SELECT id, ai_embed(m, t) FROM x;')).toBe('SELECT id, ai_embed(m, t) FROM x');
    expect(selectPart('INSERT INTO e (id, v) SELECT id, ai_embed(m, t) FROM x')).toBe('SELECT id, ai_embed(m, t) FROM x');
    expect(selectPart("UPDATE chunks c SET v = ai_embed('e', body), n = f(1, 2) WHERE id > 3;")).toBe("SELECT ai_embed('e', body), f(1, 2) FROM chunks c WHERE id > 3");
    expect(selectPart("UPDATE chunks SET v = ai_embed('e', d.body) FROM docs d WHERE d.id = chunks.id RETURNING id"))
      .toBe("SELECT ai_embed('e', d.body) FROM chunks, docs d WHERE d.id = chunks.id");
    expect(selectPart('DELETE FROM x WHERE true')).toBeNull();
    expect(selectPart('CREATE TABLE t (a INT)')).toBeNull();
  });
});
