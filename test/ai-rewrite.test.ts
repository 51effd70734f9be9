import { describe, expect, it } from 'vitest';
import { selectPart } from '../src/functions/prefetch-plan.js';
import { rewriteFunctionCalls } from '../src/rewrite/function-calls.js';
import { parseModelCommand } from '../src/rewrite/model-commands.js';
import { conforms, fromJsonStructure, jsonSchemaOf, parseSparkType, typeOfFormat } from '../src/functions/spark-types.js';

const dims = { dimensionOf: (m: string): number | null => (m === 'emb' ? 64 : null) };

describe('AI call rewrites', () => {
  it('casts ai_embed of a literal model with a known dimension to FLOAT[n], and only then', () => {
    expect(rewriteFunctionCalls("SELECT ai_embed('emb', lower(t)) AS v FROM x", dims)).toBe("SELECT CAST(ai_embed('emb', lower(t)) AS FLOAT[64]) AS v FROM x");
    expect(rewriteFunctionCalls("SELECT ai_embed(m, t) AS v FROM x", dims)).toBe('SELECT ai_embed(m, t) AS v FROM x');
    expect(rewriteFunctionCalls("SELECT ai_embed('other', t) AS v FROM x", dims)).toBe("SELECT ai_embed('other', t) AS v FROM x");
    expect(rewriteFunctionCalls("SELECT 'ai_embed(''emb'', t)' AS s -- ai_embed('emb', t)", dims)).toBe("SELECT 'ai_embed(''emb'', t)' AS s -- ai_embed('emb', t)");
  });

  it('reads responseFormat and returnType when the statement is prepared, and reads the answer with from_json', () => {
    const out = rewriteFunctionCalls("SELECT ai_query('m', q, responseFormat => 'STRUCT<a:STRING, b:ARRAY<INT>>', failOnError => false) FROM t", dims);
    const type = JSON.stringify(parseSparkType('STRUCT<a:STRING, b:ARRAY<INT>>', 'x'));
    expect(out).toBe(`SELECT from_json(ai_query('m', q, responseFormat := '${type}', failOnError := false), `
      + `'{"result":{"a":"VARCHAR","b":["INTEGER"]},"errorMessage":"VARCHAR"}') FROM t`);
    // returnType => 'STRING' is plain text: no from_json, the type goes to the kernel.
    expect(rewriteFunctionCalls("SELECT ai_query('m', q, returnType => 'STRING') AS a FROM t", dims))
      .toBe(`SELECT ai_query('m', q, returnType := '{"t":"scalar","duck":"VARCHAR"}') AS a FROM t`);
    expect(rewriteFunctionCalls("SELECT ai_query('m', q) AS a FROM t", dims)).toBe("SELECT ai_query('m', q) AS a FROM t");
    expect(() => rewriteFunctionCalls("SELECT ai_query('m', q, responseFormat => 'INT', returnType => 'STRING')", dims)).toThrow(/two types/);
    expect(() => rewriteFunctionCalls("SELECT ai_query('m', q, responseFormat => fmt) FROM t", dims)).toThrow(/must be a string literal/);
    expect(() => rewriteFunctionCalls("SELECT ai_query('m', q, responseFormat => 'MAP<STRING, INT>')", dims)).toThrow(/cannot hold a MAP/);
  });

  it('refuses a failOnError that is not a literal', () => {
    expect(() => rewriteFunctionCalls("SELECT ai_query('m', q, failOnError => 1 = 0)", dims)).toThrow(/failOnError must be written as true or false/);
  });

  it('spells named_struct as struct_pack and array as list_value, nested ones too', () => {
    expect(rewriteFunctionCalls("SELECT named_struct('a', 1, 'b', named_struct('c', 2)) AS s", dims)).toBe(`SELECT struct_pack("a" := 1, "b" := struct_pack("c" := 2)) AS s`);
    expect(rewriteFunctionCalls("SELECT ai_query('m', q, modelParameters => named_struct('temperature', 0.7, 'max_tokens', 2 * 256)) AS a", dims))
      .toBe(`SELECT ai_query('m', q, modelParameters => struct_pack("temperature" := 0.7, "max_tokens" := 2 * 256)) AS a`);
    expect(rewriteFunctionCalls("SELECT array(named_struct('role', 'user', 'content', c), named_struct('role', 'system', 'content', 'x')) AS m", dims))
      .toBe(`SELECT list_value(struct_pack("role" := 'user', "content" := c), struct_pack("role" := 'system', "content" := 'x')) AS m`);
    // Postgres' ARRAY(SELECT ...) stays.
    expect(rewriteFunctionCalls('SELECT x, ARRAY(SELECT 1) AS a FROM t', dims)).toBe('SELECT x, ARRAY(SELECT 1) AS a FROM t');
    expect(() => rewriteFunctionCalls("SELECT named_struct('a')", dims)).toThrow(/pairs of a name and a value/);
  });

  it("reads Databricks' from_json schemas as DuckDB structures, and the value as JSON whatever its type", () => {
    expect(rewriteFunctionCalls("SELECT from_json(j, 'STRUCT<a: INT, b: ARRAY<STRING>, m: MAP<STRING, DOUBLE>>') AS v FROM t", dims))
      .toBe(`SELECT from_json(CAST((j) AS JSON), '{"a":"INTEGER","b":["VARCHAR"],"m":"MAP(VARCHAR, DOUBLE)"}') AS v FROM t`);
    expect(rewriteFunctionCalls("SELECT from_json(j, '{\"a\":\"INTEGER\"}') AS v FROM t", dims)).toBe("SELECT from_json(j, '{\"a\":\"INTEGER\"}') AS v FROM t");
    expect(() => rewriteFunctionCalls("SELECT from_json(j, 'a INT', map('mode', 'FAILFAST'))", dims)).toThrow(/takes no options/);
  });

  it('checks the arguments of every function call against its parameters, in the terms the user wrote', () => {
    const error = (sql: string): unknown => {
      try {
        rewriteFunctionCalls(sql, dims);
      } catch (err) {
        return { code: (err as { code: string }).code, message: (err as Error).message, hint: (err as { hint?: string }).hint };
      }
      return null;
    };
    expect(error("SELECT ai_query('m', 'x', returntype => 'STRING')")).toBeNull();
    expect(error("SELECT ai_query('m', 'x', retrunType => 'STRING')")).toEqual({
      code: '42883', message: 'ai_query has no argument named retruntype (did you mean returnType?)',
      hint: "ai_query's arguments: ai_query(model, request, modelParameters =>, responseFormat =>, failOnError =>, returnType =>)",
    });
    expect(error("SELECT ai_embed('m', 'x', 'y')")).toMatchObject({ code: '42883', message: 'ai_embed takes at most 2 arguments, not 3' });
    expect(error("SELECT ai_similarity('a', 'b', 'm', model => 'n')")).toMatchObject({ code: '42601', message: 'argument name "model" used more than once in ai_similarity' });
    expect(error("SELECT ai_query('m')")).toMatchObject({ code: '42883', message: 'ai_query needs request' });
    expect(error("SELECT ai_query(model => 'm', request => 'x')")).toBeNull();
    expect(error("SELECT ai_query('m', 'x', model => 'n')")).toMatchObject({ code: '42601', message: 'argument name "model" used more than once in ai_query' });
    expect(error("SELECT ai_classify('x', ['a'], model => 'c', model => 'd')")).toMatchObject({ code: '42601' });
    expect(error("SELECT ai_classify(labels => ['a'], 'x')")).toMatchObject({ code: '42601', message: expect.stringContaining('positional argument cannot follow') });
    expect(error("SELECT * FROM vector_search('t', 'q', num_results => 3)")).toMatchObject({ code: '42883', message: 'vector_search has no argument named num_results' });
    expect(error('CREATE MACRO ai_embed(a, b, c) AS a')).toBeNull();
  });

  it('names arguments with defaults given by position, as Postgres lets them be given', () => {
    expect(rewriteFunctionCalls('SELECT ai_summarize(body, 30) AS s FROM t', dims)).toBe('SELECT ai_summarize(body, max_words := 30) AS s FROM t');
    expect(rewriteFunctionCalls("SELECT ai_query('m', q, NULL, 'STRUCT<a: INT>') AS r FROM t", dims))
      .toBe(`SELECT from_json(ai_query('m', q, modelParameters := NULL, responseFormat := '{"t":"struct","fields":[["a",{"t":"scalar","duck":"INTEGER"}]]}'), '{"a":"INTEGER"}') AS r FROM t`);
    expect(parseModelCommand("SELECT * FROM register_model('llm', 'openai:http://h/v1', 'chat', alias => 'x')")?.args)
      .toBe("'llm', 'openai:http://h/v1', task := 'chat', alias => 'x'");
    expect(() => parseModelCommand("CALL train_lora('a', 'b', 'c', load_in_4bit => true)")).toThrow(/train_lora has no argument named load_in_4bit/);
  });

  it('reads Databricks types and JSON schemas, and writes strict JSON schemas', () => {
    const duck = (text: string): string => fromJsonStructure(typeOfFormat(text, 'responseFormat'));
    expect(duck('STRUCT<content:STRUCT<content:STRING>>')).toBe('{"content":{"content":"VARCHAR"}}');
    expect(duck('ARRAY<STRUCT<`first name`:STRING, price:DECIMAL(10,2)>>')).toBe('[{"first name":"VARCHAR","price":"DECIMAL(10,2)"}]');
    expect(duck('STRUCT<a: BIGINT NOT NULL COMMENT \'the id\', b: LONG, c: SHORT, d: TIMESTAMP_NTZ, e: VARIANT>'))
      .toBe('{"a":"BIGINT","b":"BIGINT","c":"SMALLINT","d":"TIMESTAMP","e":"JSON"}');
    expect(duck('date DATE, n INT')).toBe('{"date":"DATE","n":"INTEGER"}');
    expect(duck('MAP<STRING, ARRAY<INT>>')).toBe('"MAP(VARCHAR, INTEGER[])"');
    expect(duck('{"type":"object","properties":{"n":{"type":"integer"}}}')).toBe('{"n":"BIGINT"}');
    expect(duck('{"type":"json_object"}')).toBe('"JSON"');
    expect(() => typeOfFormat('STRUCT<a STRING', 'responseFormat')).toThrow(/cannot read the type "STRUCT<a STRING" near position 16/);
    expect(() => typeOfFormat('MAP<INT, STRING>', 'from_json')).toThrow(/keys are strings/);
    expect(() => typeOfFormat('STRUCT<a: BINARY>', 'from_json')).toThrow(/BINARY cannot be read from JSON/);
    expect(() => typeOfFormat('STRUCT<a: INT, A: INT>', 'from_json')).toThrow(/named twice/);
    expect(jsonSchemaOf(typeOfFormat('STRUCT<a: STRING, n: INT>', 'x'))).toEqual({
      type: 'object', properties: { a: { type: 'string' }, n: { type: 'integer' } }, required: ['a', 'n'], additionalProperties: false,
    });
    expect(conforms({ a: 'x', n: 2 ** 31 }, typeOfFormat('STRUCT<a: STRING, n: INT>', 'x'))).toBe(false);
    expect(conforms({ m: { k: [1, 2] } }, typeOfFormat('STRUCT<m: MAP<STRING, ARRAY<INT>>>', 'x'))).toBe(true);
    expect(conforms({ m: { k: ['x'] } }, typeOfFormat('STRUCT<m: MAP<STRING, ARRAY<INT>>>', 'x'))).toBe(false);
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
