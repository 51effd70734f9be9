import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { CALL_REWRITES, FUNCTIONS, MODEL_CALLING, MODEL_COMMANDS, PARAMETERS, QUERY_COMMANDS } from '../udfs/catalog.js';
import { writeTestModels } from '../src/testmodels/index.js';
import { startOpenAIServer, type OpenAITestServer } from './helpers/openai-server.js';
import { startReferencePostgres } from './helpers/reference-postgres.mjs';
import { startTestServer, type TestServer } from './helpers/server.js';

// The catalog of SQL functions is the one list everything else is derived from: registration, the
// descriptions and examples users see, and the checks of every call's arguments.

let server: TestServer;
let openai: OpenAITestServer;
let models: string;
let c: pg.Client;

beforeAll(async () => {
  models = mkdtempSync(join(tmpdir(), 'aiduck-catalog-models-'));
  await writeTestModels(models);
  openai = await startOpenAIServer();
  server = await startTestServer({ importDirs: [models] });
  c = await server.client();
  // The models the examples name.
  await c.query(`SELECT * FROM register_model('llm', 'openai:${openai.url}', endpoint_model => 'm')`);
  await c.query(`SELECT * FROM register_model('classifier', '${join(models, 'tiny-nli-classifier')}')`);
  await c.query(`SELECT * FROM register_model('summarizer', '${join(models, 'tiny-t5-summarizer')}', task => 'summarization')`);
}, 120_000);
afterAll(async () => {
  await server?.stop();
  await openai?.close();
  rmSync(models, { recursive: true, force: true });
});

/** The error a statement fails with (code, message, hint), or null when it runs. */
async function failure(client: pg.Client, sql: string): Promise<{ code: string; message: string; hint: string | undefined } | null> {
  try {
    await client.query(sql);
    return null;
  } catch (err) {
    const e = err as { code: string; message: string; hint?: string };
    return { code: e.code, message: e.message, hint: e.hint };
  }
}

/** A call of a function with NULL for each required argument, and `extra` after them. */
function callOf(name: string, extra: string): string {
  const required = PARAMETERS.get(name)!.filter((p) => p.defaultSql === null).map(() => 'NULL');
  const call = `${name}(${[...required, extra].join(', ')})`;
  const f = FUNCTIONS.find((x) => x.name === name)!;
  return f.kind === 'scalar' ? `SELECT ${call}` : `SELECT * FROM ${call}`;
}

describe('the SQL function catalog', () => {
  it('names each function once, with a description and an example, and commands under their own names', () => {
    const names = FUNCTIONS.map((f) => f.name);
    expect(new Set(names).size).toBe(names.length);
    for (const f of FUNCTIONS) {
      expect(f.description.length, f.name).toBeGreaterThan(10);
      // a table function behind a view is shown through its view
      const shown = ({ ai_running_jobs: 'ai\\.running_jobs', aiduck_stat_activity: 'pg_stat_activity' } as Record<string, string>)[f.name] ?? f.name;
      expect(f.example, f.name).toMatch(new RegExp(`\\b${shown}\\b`));
      if (f.command) expect([f.kind, f.command.name]).toEqual(['model-command', f.name]);
      if (f.query) expect([f.kind, f.query.name]).toEqual(['query-command', f.name]);
    }
    expect(MODEL_COMMANDS.map((c) => c.name).sort()).toEqual(['delete_model_alias', 'delete_model_tag', 'delete_model_version', 'fit_classifier', 'log_metric', 'log_run',
      'merge_adapter', 'register_model', 'set_model_alias', 'set_model_description', 'set_model_tag', 'train_lora']);
    expect(QUERY_COMMANDS.map((c) => c.name).sort()).toEqual(['chunk_text', 'evaluate_retriever', 'vector_search']);
    expect([...CALL_REWRITES.keys()].sort()).toEqual(['ai_embed', 'ai_query', 'array', 'from_json', 'named_struct']);
    expect(MODEL_CALLING.has('ai_query') && MODEL_CALLING.has('ai_embed') && !MODEL_CALLING.has('precision_at_k')).toBe(true);
  });

  it('creates every function in DuckDB (the rewrite-only named_struct and array aside)', async () => {
    const r = await c.query('SELECT DISTINCT function_name FROM duckdb_functions()');
    const present = new Set(r.rows.map((row: { function_name: string }) => row.function_name));
    const missing = FUNCTIONS.filter((f) => !['named_struct', 'array'].includes(f.name) && !present.has(f.name)).map((f) => f.name);
    expect(missing).toEqual([]);
  });

  it('every function is in the README\'s SQL reference', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    expect(FUNCTIONS.filter((f) => !readme.includes(`\`${f.name}(`)).map((f) => f.name)).toEqual([]);
  });

  it('describes every function in SQL: ai.functions, and the comment \\df+ and duckdb_functions() show', async () => {
    const listed = await c.query('SELECT name, kind, arguments, description, example FROM ai.functions ORDER BY name');
    expect(listed.rows.map((r) => r.name)).toEqual(FUNCTIONS.map((f) => f.name).sort());
    const byName = new Map(listed.rows.map((r) => [r.name as string, r]));
    expect(byName.get('ai_query')).toMatchObject({
      kind: 'scalar',
      arguments: 'model text, request "any", modelParameters "any" DEFAULT NULL, responseFormat text DEFAULT NULL, failOnError boolean DEFAULT true, returnType text DEFAULT NULL',
    });
    expect(byName.get('train_lora')!.arguments).toMatch(/^name text, base_model text, training_data text, r integer DEFAULT 8, /);
    expect(byName.get('ai_judge')!.arguments).toContain('scale integer DEFAULT 3, min_score integer DEFAULT 0');
    for (const r of listed.rows) expect(`${r.name}: ${String(r.arguments)}`).not.toMatch(/__/);
    // Each macro users call carries its description and example as its comment.
    const comments = await c.query('SELECT function_name, comment FROM duckdb_functions() WHERE comment IS NOT NULL');
    const commented = new Map(comments.rows.map((r) => [r.function_name as string, r.comment as string]));
    for (const f of FUNCTIONS.filter((x) => x.macro || x.command || x.query)) {
      expect(commented.get(f.name), f.name).toBe(`${f.description}\nExample: ${f.example}`);
    }
  });

  it('runs the example of every scalar function', async () => {
    for (const f of FUNCTIONS.filter((x) => x.kind === 'scalar')) {
      expect(await failure(c, f.example), f.example).toBeNull();
    }
    // The Databricks spellings give what their DuckDB equivalents give.
    const r = await c.query(`SELECT array(named_struct('role', 'user', 'content', 'hi')) = [{'role': 'user', 'content': 'hi'}] AS same,
      from_json('{"a": 1, "b": ["x"]}', 'STRUCT<a: INT, b: ARRAY<STRING>>') = {'a': 1, 'b': ['x']} AS read`);
    expect(r.rows[0]).toEqual({ same: true, read: true });
  });

  it('refuses an unknown named argument of every function and command, naming it and listing the valid ones', async () => {
    for (const [name, params] of PARAMETERS) {
      const err = await failure(c, callOf(name, 'no_such_argument => 1'));
      expect(err, name).toMatchObject({ code: '42883', message: `${name} has no argument named no_such_argument` });
      for (const p of params) expect(err!.hint, name).toContain(p.name);
      expect(`${err!.message} ${err!.hint}`, name).not.toMatch(/__|Macro|macro/);
    }
    // The seeds' two examples, and a near miss.
    expect(await failure(c, "SELECT * FROM train_lora('bot', 'base', 'chats', load_in_4bit => true)")).toMatchObject({
      code: '42883', message: 'train_lora has no argument named load_in_4bit', hint: expect.stringContaining('lora_alpha =>'),
    });
    expect(await failure(c, "SELECT ai_query('llm', 'hi', returnType => 'STRING')")).toBeNull();
    expect(await failure(c, "SELECT ai_query('llm', 'hi', responseformt => 'STRING')")).toMatchObject({
      code: '42883', message: 'ai_query has no argument named responseformt (did you mean responseFormat?)',
    });
  });

  it('takes arguments with defaults by position too, as Postgres does', async () => {
    const r = await c.query(`SELECT ai_similarity('ducks on a lake', 'a lake with ducks', 'builtin:hash-embed-256') AS s,
      ai_similarity('ducks on a lake', 'a lake with ducks') AS d`);
    expect(r.rows[0].s).toBeCloseTo(r.rows[0].d, 6);
    expect(await failure(c, "SELECT ai_similarity('a', 'b', 'builtin:hash-embed-256', 'x')")).toMatchObject({ code: '42883', message: 'ai_similarity takes at most 3 arguments, not 4' });
  });

  it('reports a mistake in a call with the SQLSTATE PostgreSQL 15 gives for the same mistake', async () => {
    const reference = await startReferencePostgres();
    const theirs = new pg.Client({ host: reference.host, port: reference.port, user: reference.user, database: reference.database });
    try {
      await theirs.connect();
      await theirs.query("CREATE FUNCTION sim(a text, b text, model text DEFAULT 'x') RETURNS float8 LANGUAGE sql AS 'SELECT 0.5'");
      const cases: Array<[string, string]> = [
        // unknown name, a name twice, a positional argument after a named one, too many, a missing one
        ["sim('a', 'b', modle => 'm')", "ai_similarity('a', 'b', modle => 'm')"],
        ["sim('a', 'b', model => 'm', model => 'n')", "ai_similarity('a', 'b', model => 'm', model => 'n')"],
        ["sim(a => 'a', 'b')", "ai_similarity(a => 'a', 'b')"],
        ["sim('a', 'b', 'm', 'n')", "ai_similarity('a', 'b', 'm', 'n')"],
        ["sim('a')", "ai_similarity('a')"],
      ];
      for (const [postgres, aiduck] of cases) {
        const expected = await failure(theirs, `SELECT ${postgres}`);
        expect(expected, postgres).not.toBeNull();
        expect((await failure(c, `SELECT ${aiduck}`))?.code, aiduck).toBe(expected!.code);
      }
      // A function called alone in a select list names its column, as Postgres does.
      const mine = await c.query("SELECT ai_similarity('a', 'b'), to_json(named_struct('a', 1)), 1 AS one");
      const ref = await theirs.query("SELECT sim('a', 'b'), to_json(json_build_object('a', 1)), 1 AS one");
      expect(mine.fields.map((f) => f.name)).toEqual(ref.fields.map((f) => f.name.replace('sim', 'ai_similarity')));
    } finally {
      await theirs.end().catch(() => undefined);
      await reference.stop();
    }
  }, 120_000);
});
