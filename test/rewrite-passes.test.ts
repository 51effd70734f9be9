import { describe, expect, it } from 'vitest';
import { rewriteDumpForms } from '../src/rewrite/dump-forms.js';
import { rewritePgCatalog } from '../src/rewrite/pg-catalog.js';
import { expandQueryCommands } from '../src/rewrite/query-commands.js';
import { rewrite } from '../src/rewrite/pipeline.js';
import { writeOutDataFileTarget } from '../src/rewrite/data-file-target.js';

describe('the pg-catalog pass', () => {
  it('leaves ordinary SQL untouched (same string)', async () => {
    for (const sql of ["SELECT a ~ 'b' FROM t WHERE c = ANY(d)", 'SELECT x::text FROM t',
      "CREATE TABLE x AS SELECT ai_query('m', body) FROM docs"]) {
      expect(rewritePgCatalog(sql)).toBe(sql);
    }
  });

  it('drops pg_catalog qualifiers and psql operator syntax but keeps string contents', async () => {
    const out = rewritePgCatalog("SELECT 'pg_catalog.x' FROM pg_catalog.pg_class c WHERE c.relname OPERATOR(pg_catalog.~) '^(t)$' COLLATE pg_catalog.default");
    expect(out).toContain("'pg_catalog.x'");
    expect(out).toContain('FROM pg_class c');
    expect(out).not.toMatch(/OPERATOR|COLLATE/);
  });
});

describe('the query-commands pass', () => {
  it('writes each call as the query it stands for, aliased by its name unless the statement names it', async () => {
    const evaluate = async (_def: unknown, args: string): Promise<Record<string, unknown>> =>
      ({ data: 'docs', query: [1, 0], embedding: 'v', model: null, k: Number(/k => (\d+)/.exec(args)?.[1] ?? 10) });
    const out = await expandQueryCommands("SELECT * FROM vector_search('docs', [1, 0], embedding => 'v', k => 2) WHERE score > 0", evaluate, (t) => t);
    expect(out).toMatch(/^SELECT \* FROM \(SELECT vector_search\.\*, array_cosine_similarity\(vector_search\."v", \[1, 0\]::FLOAT\[2\]\) AS score/);
    expect(out).toMatch(/LIMIT 2\) AS vector_search WHERE score > 0$/);
    const aliased = await expandQueryCommands("SELECT s.score FROM vector_search('docs', [1, 0], embedding => 'v') s", evaluate, (t) => t);
    expect(aliased).toMatch(/LIMIT 10\) s$/);
    expect(await expandQueryCommands("SELECT 'vector_search(1)'", evaluate, (t) => t)).toBe("SELECT 'vector_search(1)'");
  });
});

describe('the pipeline', () => {
  it('runs the passes in order: column names, Postgres literals, then catalog, then function calls', async () => {
    const ctx = { dimensionOf: (m: string) => (m === 'emb' ? 8 : null), evaluateArguments: async () => ({}), filesDir: '/srv/data/files' };
    expect(await rewrite("SELECT '\\x0aff'::bytea, ai_embed('emb', E'a\\tb') FROM pg_catalog.pg_class", ctx))
      .toBe("SELECT '\\x0A\\xFF'::bytea AS \"bytea\", CAST(ai_embed('emb', 'a\tb') AS FLOAT[8]) AS \"ai_embed\" FROM pg_class");
  });
});

describe('the untyped-literals pass', () => {
  it('writes a literal as bytes or a list only where DuckDB says its place takes one', async () => {
    const { DuckDBInstance } = await import('@duckdb/node-api');
    const { parameterType } = await import('../src/pg/parameters.js');
    const { typeUntypedLiterals } = await import('../src/rewrite/untyped-literals.js');
    const db = await DuckDBInstance.create(':memory:');
    const conn = await db.connect();
    await conn.run('CREATE TABLE t (b BLOB, v VARCHAR, a INTEGER[], j JSON)');
    const probes: string[] = [];
    const types = async (sql: string, from: number) => {
      probes.push(sql);
      const p = await conn.prepare(sql);
      return Array.from({ length: p.parameterCount - from + 1 }, (_, k) => parameterType(p, from + k));
    };
    expect(await typeUntypedLiterals("INSERT INTO t VALUES ('\\x00ff', '\\x00ff', '{1,2}', '{\"k\": 1}')", types))
      .toBe("INSERT INTO t VALUES ('\\x00\\xFF'::BLOB, '\\x00ff', ['1', '2']::INTEGER[], '{\"k\": 1}')");
    expect(probes).toEqual(['INSERT INTO t VALUES ($1, $2, $3, \'{"k": 1}\')']);
    // Nothing to ask about: no prepare at all.
    expect(await typeUntypedLiterals("INSERT INTO t (v) VALUES ('plain'), ('\\x00'::bytea)", types)).toBe("INSERT INTO t (v) VALUES ('plain'), ('\\x00'::bytea)");
    expect(probes).toHaveLength(1);
    // A number with more digits than the unconstrained numeric holds is refused where its place is one, and asked about once.
    await conn.run('CREATE TABLE n (x DECIMAL(38,10), d DOUBLE)');
    await expect(typeUntypedLiterals('INSERT INTO n VALUES (1.123456789012345, 1.123456789012345)', types)).rejects.toMatchObject({ code: '22003' });
    expect(probes.at(-1)).toBe('INSERT INTO n VALUES ($1, $2)');
    expect(await typeUntypedLiterals('INSERT INTO n (d) VALUES (1.123456789012345)', types)).toBe('INSERT INTO n (d) VALUES (1.123456789012345)');
    expect(await typeUntypedLiterals('INSERT INTO n (x) VALUES (1.1234567891)', types)).toBe('INSERT INTO n (x) VALUES (1.1234567891)');
    expect(probes).toHaveLength(3);
    conn.closeSync();
    db.closeSync();
  });
});

describe('the any-parameter pass', () => {
  it('casts an array parameter of = ANY($n) to the list type DuckDB gives the left operand, and leaves the rest alone', async () => {
    const { DuckDBInstance } = await import('@duckdb/node-api');
    const { parameterType } = await import('../src/pg/parameters.js');
    const { typeAnyParameters } = await import('../src/rewrite/any-parameter.js');
    const db = await DuckDBInstance.create(':memory:');
    const conn = await db.connect();
    await conn.run('CREATE TABLE t (id BIGINT, tags VARCHAR[])');
    const types = async (sql: string, from: number) => {
      const p = await conn.prepare(sql);
      return Array.from({ length: p.parameterCount - from + 1 }, (_, k) => parameterType(p, from + k));
    };
    expect(await typeAnyParameters('SELECT id FROM t WHERE t.id = ANY($1) AND id <> ALL ($2)', types))
      .toBe('SELECT id FROM t WHERE t.id = ANY(CAST($1 AS BIGINT[])) AND id <> ALL (CAST($2 AS BIGINT[]))');
    // Nothing to type: a subquery, a list column, an operand that is an expression, a parameter on the left.
    for (const sql of ['SELECT id FROM t WHERE id = ANY(SELECT 1)', 'SELECT id FROM t WHERE $1 = ANY(tags)',
      'SELECT id FROM t WHERE id + 1 = ANY($1)', 'SELECT id FROM t WHERE id::INT = ANY($1)']) {
      expect(await typeAnyParameters(sql, types), sql).toBe(sql);
    }
    conn.closeSync();
    db.closeSync();
  });
});

describe('the data-file-target pass', () => {
  const files = '/srv/aiduck-data/files';
  it("writes out data_file('name') as the target of COPY ... TO, under EXPLAIN and PREPARE too", () => {
    expect(writeOutDataFileTarget("COPY t TO (data_file('t.csv')) (HEADER)", files)).toBe(`COPY t TO '${files}/t.csv' (HEADER)`);
    expect(writeOutDataFileTarget("copy (SELECT 'to') TO ( DATA_FILE ( 'it''s.csv' ) )", files)).toBe(`copy (SELECT 'to') TO '${files}/it''s.csv'`);
    expect(writeOutDataFileTarget("EXPLAIN ANALYZE COPY t TO (data_file('../aiduck.duckdb'))", files)).toBe(`EXPLAIN ANALYZE COPY t TO '${files}/../aiduck.duckdb'`);
    expect(writeOutDataFileTarget("PREPARE p AS COPY t TO (data_file('x'))", files)).toBe(`PREPARE p AS COPY t TO '${files}/x'`);
  });

  it('leaves every other use of data_file, and any other target, as it is', () => {
    for (const sql of ["SELECT * FROM read_csv(data_file('x.csv'))", "COPY t FROM (data_file('x.csv'))", 'COPY t TO STDOUT',
      "COPY t TO (data_file('a') || '.csv')", "COPY t TO (data_file($1))", "COPY t TO (data_file(E'x'))", "COPY t TO '/tmp/data_file.csv'",
      "COPY (SELECT data_file('x')) TO (my_file('y'))"]) {
      expect(writeOutDataFileTarget(sql, files), sql).toBe(sql);
    }
  });
});

describe('the dump-forms pass', () => {
  it('writes the DDL of a pg_dump script as DuckDB reads it', () => {
    expect(rewriteDumpForms("ALTER TABLE ONLY public.t ALTER COLUMN id SET DEFAULT nextval('public.t_id_seq'::regclass)"))
      .toBe("ALTER TABLE   public.t ALTER COLUMN id SET DEFAULT nextval('public.t_id_seq' )");
    expect(rewriteDumpForms('CREATE SEQUENCE public.s AS integer START WITH 1 INCREMENT BY 1 NO MINVALUE NO MAXVALUE CACHE 1'))
      .toBe('CREATE SEQUENCE public.s  MAXVALUE 2147483647 START WITH 1 INCREMENT BY 1 NO MINVALUE    ');
    expect(rewriteDumpForms('CREATE INDEX i ON shop.t USING btree (a)')).toBe('CREATE INDEX i ON shop.t   (a)');
    expect(rewriteDumpForms('SELECT a FROM ONLY shop.t')).toBe('SELECT a FROM   shop.t');
    expect(rewriteDumpForms('CREATE TABLE t (a text COLLATE pg_catalog."C", b text COLLATE pg_catalog."default")'))
      .toBe('CREATE TABLE t (a text COLLATE  "C", b text  )');
    expect(rewriteDumpForms('PREPARE q(pg_catalog.oid, text) AS SELECT $1, $2'))
      .toBe('PREPARE q AS SELECT CAST($1 AS INTEGER), CAST($2 AS text)');
  });

  it('reads a macro pg_dump wrote as a function back as the macro, and refuses other functions', () => {
    expect(rewriteDumpForms('CREATE FUNCTION shop.add_tax(price "any", rate "any") RETURNS "any"\n    LANGUAGE sql\n    AS $$(price * (1 + rate))$$'))
      .toBe('CREATE MACRO shop.add_tax(price, rate) AS (price * (1 + rate))');
    expect(rewriteDumpForms("CREATE FUNCTION main.rows_of(n \"any\") RETURNS TABLE LANGUAGE sql AS 'SELECT * FROM range(n)'"))
      .toBe('CREATE MACRO main.rows_of(n) AS TABLE SELECT * FROM range(n)');
    expect(rewriteDumpForms('CREATE FUNCTION f(a) AS a + 1')).toBe('CREATE FUNCTION f(a) AS a + 1');
    expect(() => rewriteDumpForms('CREATE FUNCTION f(a integer) RETURNS integer LANGUAGE sql AS $$ SELECT a $$'))
      .toThrow(/aiduck's functions are DuckDB macros/);
  });
});
