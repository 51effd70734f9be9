import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { startTestServer, type TestServer } from './helpers/server.js';

// chunk_text: documents cut into overlapping character chunks, then embedded and searched.
describe('chunk_text', () => {
  let server: TestServer;
  let c: pg.Client;
  const docs = Array.from({ length: 40 }, (_, i) => ({ id: i, body: `document ${i}: ` + 'ducks swim on the quiet lake; '.repeat(i % 9) + 'é'.repeat(i % 3) }));

  beforeAll(async () => {
    server = await startTestServer();
    c = await server.client();
    await c.query('CREATE TABLE docs (id INTEGER, body VARCHAR)');
    for (const d of docs) await c.query('INSERT INTO docs VALUES ($1, $2)', [d.id, d.body]);
    await c.query(`INSERT INTO docs VALUES (100, ''), (101, NULL)`);
  });
  afterAll(async () => server?.stop());

  it('cuts every document into chunks of at most size characters that overlap and cover it all', async () => {
    const size = 50;
    const overlap = 10;
    const r = await c.query(`SELECT doc_id, position, start_char, chunk FROM chunk_text('docs', id => 'id', text => 'body', size => ${size}, overlap => ${overlap})
      ORDER BY doc_id, position`);
    for (const d of docs) {
      const chunks = r.rows.filter((x) => x.doc_id === d.id);
      expect(chunks.map((x) => x.position)).toEqual(chunks.map((_, i) => i));
      let rebuilt = '';
      for (const [i, ch] of chunks.entries()) {
        expect(ch.chunk.length).toBeLessThanOrEqual(size);
        expect(ch.start_char).toBe(1 + i * (size - overlap));
        expect(d.body.slice(ch.start_char - 1, ch.start_char - 1 + size)).toBe(ch.chunk);
        rebuilt = rebuilt.slice(0, ch.start_char - 1) + ch.chunk;
      }
      expect(rebuilt).toBe(d.body);
    }
    expect(r.rows.some((x) => x.doc_id === 100 || x.doc_id === 101)).toBe(false);
  });

  it('feeds a searchable table: CREATE TABLE chunks AS ..., embed, vector_search', async () => {
    await c.query(`CREATE TABLE chunks AS SELECT * FROM chunk_text('docs', id => 'id', text => 'body', size => 60, overlap => 15)`);
    await c.query(`CREATE TABLE embedded AS SELECT doc_id, position, chunk, ai_embed('builtin:hash-embed-256', chunk) AS embedding FROM chunks`);
    const wanted = (await c.query(`SELECT chunk FROM chunks WHERE doc_id = 7 AND position = 0`)).rows[0].chunk as string;
    const r = await c.query(`SELECT doc_id, position, score FROM vector_search('embedded', $$${wanted}$$, model => 'builtin:hash-embed-256', k => 1)`);
    expect(r.rows[0]).toMatchObject({ doc_id: 7, position: 0 });
    expect(r.rows[0].score).toBeCloseTo(1, 5);
  });

  it('refuses sizes that do not make sense', async () => {
    await expect(c.query(`SELECT * FROM chunk_text('docs', id => 'id', text => 'body', size => 10, overlap => 10)`)).rejects.toMatchObject({ code: '22023' });
    await expect(c.query(`SELECT * FROM chunk_text('docs', id => 'id', text => 'body', size => 0)`)).rejects.toMatchObject({ code: '22023' });
  });

  it("unit => 'tokens' cuts whole words by the tokens of a model, overlapping, covering every word", async () => {
    const size = 6;
    const overlap = 2;
    const r = await c.query(`SELECT doc_id, position, start_char, chunk FROM chunk_text('docs', id => 'id', text => 'body', size => ${size},
      overlap => ${overlap}, unit => 'tokens', model => 'builtin:hash-embed-256') ORDER BY doc_id, position`);
    const words = (t: string): string[] => t.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
    for (const d of docs) {
      const chunks = r.rows.filter((x) => x.doc_id === d.id);
      expect(chunks.length).toBeGreaterThan(0);
      let covered = 0;
      for (const [i, ch] of chunks.entries()) {
        expect(ch.position).toBe(i);
        expect(d.body.slice(ch.start_char - 1, ch.start_char - 1 + ch.chunk.length)).toBe(ch.chunk);
        const n = words(ch.chunk).length;
        expect(n === 1 || n <= size).toBe(true);
        const end = ch.start_char - 1 + ch.chunk.length;
        if (i > 0) {
          const shared = words(d.body.slice(ch.start_char - 1, covered)).length;
          expect(shared).toBeLessThanOrEqual(overlap);
        }
        covered = Math.max(covered, end);
      }
      expect(d.body.slice(covered).trim()).toBe('');
    }
    await expect(c.query(`SELECT * FROM chunk_text('docs', id => 'id', text => 'body', unit => 'tokens')`)).rejects.toMatchObject({ code: '22004' });
    await expect(c.query(`SELECT * FROM chunk_text('docs', id => 'id', text => 'body', unit => 'pages')`)).rejects.toMatchObject({ code: '22023' });
  });
});
