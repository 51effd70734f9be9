import { appendFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The runtime's result cache: persistence, torn lines after a crash, and its memory budget.
process.env['AIDUCK_CACHE_MEMORY_MB'] = '1';
const { ResultCache } = await import('../src/runtime/result-cache.js');

describe('ResultCache', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'aiduck-cache-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reloads what it stored, and an entry after a torn last line survives the next reload', () => {
    const a = new ResultCache(dir, 'model-a');
    a.putAll([[ResultCache.key('embed', 'x'), new Float32Array([1, 2, 3])], [ResultCache.key('gen', 'q'), 'answer']]);
    const file = join(dir, readdirSync(dir)[0]!);
    appendFileSync(file, '{"k":"torn","s":"half a li'); // a crash in the middle of an append
    const b = new ResultCache(dir, 'model-a');
    expect(Array.from(b.get(ResultCache.key('embed', 'x')) as Float32Array)).toEqual([1, 2, 3]);
    expect(b.get('torn')).toBeUndefined();
    b.putAll([[ResultCache.key('gen', 'after'), 'kept']]);
    const c = new ResultCache(dir, 'model-a');
    expect(c.get(ResultCache.key('gen', 'after'))).toBe('kept');
    expect(c.get(ResultCache.key('gen', 'q'))).toBe('answer');
    expect(new ResultCache(dir, 'model-b').get(ResultCache.key('gen', 'q'))).toBeUndefined();
  });

  it('keeps within its memory budget by dropping the oldest entries', () => {
    const m = new ResultCache(null, 'model-c');
    for (let i = 0; i < 2000; i++) m.putAll([[`k${i}`, new Float32Array(256)]]); // about 2 MB against a 1 MB budget
    expect(m.get('k0')).toBeUndefined();
    expect(m.get('k1999')).toBeInstanceOf(Float32Array);
  });

  it('over the budget, the least recently written model gives way before the one being written', () => {
    const old = new ResultCache(null, 'model-old');
    for (let i = 0; i < 900; i++) old.putAll([[`o${i}`, new Float32Array(256)]]);
    const fresh = new ResultCache(null, 'model-fresh');
    fresh.putAll(Array.from({ length: 100 }, (_, i): [string, string] => [`f${i}`, 'answer']));
    for (let i = 0; i < 100; i++) expect(fresh.get(`f${i}`)).toBe('answer');
  });
});
