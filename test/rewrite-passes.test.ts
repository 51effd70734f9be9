import { describe, expect, it } from 'vitest';
import { rewritePgCatalog } from '../src/rewrite/pg-catalog.js';
import { expandQueryCommands } from '../src/rewrite/query-commands.js';
import { rewrite } from '../src/rewrite/pipeline.js';

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
    const ctx = { dimensionOf: (m: string) => (m === 'emb' ? 8 : null), evaluateArguments: async () => ({}) };
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
    conn.closeSync();
    db.closeSync();
  });
});
