import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import type pg from 'pg';
import { CALL_REWRITES, FUNCTIONS, MODEL_CALLING, MODEL_COMMANDS, QUERY_COMMANDS } from '../udfs/catalog.js';
import { startTestServer, type TestServer } from './helpers/server.js';

// The catalog of SQL functions is the one list everything else is derived from.

let server: TestServer;
let c: pg.Client;

beforeAll(async () => {
  server = await startTestServer();
  c = await server.client();
});
afterAll(async () => {
  await server.stop();
});

describe('the SQL function catalog', () => {
  it('names each function once, with a description, and commands under their own names', () => {
    const names = FUNCTIONS.map((f) => f.name);
    expect(new Set(names).size).toBe(names.length);
    for (const f of FUNCTIONS) {
      expect(f.description.length, f.name).toBeGreaterThan(10);
      if (f.command) expect([f.kind, f.command.name]).toEqual(['model-command', f.name]);
      if (f.query) expect([f.kind, f.query.name]).toEqual(['query-command', f.name]);
    }
    expect(MODEL_COMMANDS.map((c) => c.name).sort()).toEqual(['delete_model_alias', 'fit_classifier', 'merge_adapter', 'register_model', 'set_model_alias', 'train_lora']);
    expect(QUERY_COMMANDS.map((c) => c.name).sort()).toEqual(['chunk_text', 'evaluate_retriever', 'vector_search']);
    expect([...CALL_REWRITES.keys()].sort()).toEqual(['ai_embed', 'ai_query', 'named_struct']);
    expect(MODEL_CALLING.has('ai_query') && MODEL_CALLING.has('ai_embed') && !MODEL_CALLING.has('precision_at_k')).toBe(true);
  });

  it('creates every function in DuckDB (rewrite-only named_struct aside)', async () => {
    const r = await c.query('SELECT DISTINCT function_name FROM duckdb_functions()');
    const present = new Set(r.rows.map((row: { function_name: string }) => row.function_name));
    const missing = FUNCTIONS.filter((f) => f.name !== 'named_struct' && !present.has(f.name)).map((f) => f.name);
    expect(missing).toEqual([]);
  });

  it('every function is in the README\'s SQL reference', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    expect(FUNCTIONS.filter((f) => !readme.includes(`\`${f.name}(`)).map((f) => f.name)).toEqual([]);
  });
});
