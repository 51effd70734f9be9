import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export type CachedValue = string | Float32Array | { labels: string[]; scores: number[] };

interface Line {
  k: string;
  s?: string;
  f?: string;
  c?: { labels: string[]; scores: number[] };
}

/** Memory the caches of all models may hold together; the oldest entries go first beyond it. */
const MEMORY_BUDGET = Number(process.env['AIDUCK_CACHE_MEMORY_MB'] ?? 4096) * 1024 * 1024;
let memoryUsed = 0;
/** Every cache, least recently written first: over the budget, the others give way before the one being written. */
const caches = new Set<ResultCache>();

const sizeOf = (v: CachedValue): number =>
  64 + (typeof v === 'string' ? v.length * 2 : v instanceof Float32Array ? v.byteLength : 16 * v.labels.length + JSON.stringify(v.labels).length * 2);

/**
 * Results of one model version, keyed by (operation, parameters, input). Kept in memory (within
 * AIDUCK_CACHE_MEMORY_MB for all models together, the oldest dropped first) and,
 * for a persistent database, appended to a log file per model version, so a job re-run after a
 * crash or a cancel recomputes only what is missing. A torn last line is ignored on load.
 */
export class ResultCache {
  private readonly entries = new Map<string, CachedValue>();
  private readonly file: string | null;

  constructor(dir: string | null, modelIdentity: string) {
    this.file = dir ? join(dir, `${createHash('sha256').update(modelIdentity).digest('hex').slice(0, 32)}.jsonl`) : null;
    if (dir) mkdirSync(dir, { recursive: true });
    if (this.file && existsSync(this.file)) this.load(this.file);
  }

  /** A crash can leave a torn last line; the next append must not be glued to it. */
  private tornTail = false;

  static key(scope: string, input: string): string {
    return createHash('sha256').update(scope).update('\0').update(input).digest('base64url').slice(0, 24);
  }

  get(key: string): CachedValue | undefined {
    return this.entries.get(key);
  }

  private remember(k: string, v: CachedValue): void {
    const old = this.entries.get(k);
    if (old !== undefined) memoryUsed -= sizeOf(old);
    this.entries.set(k, v);
    memoryUsed += sizeOf(v);
    caches.delete(this);
    caches.add(this);
    if (memoryUsed <= MEMORY_BUDGET) return;
    for (const cache of caches) {
      if (cache.evictUntilWithinBudget(k)) return;
    }
  }

  /** Drops this cache's oldest entries (Map order is insertion order) until within the budget. */
  private evictUntilWithinBudget(keep: string): boolean {
    for (const [oldKey, oldValue] of this.entries) {
      if (memoryUsed <= MEMORY_BUDGET) return true;
      if (oldKey === keep) return false;
      this.entries.delete(oldKey);
      memoryUsed -= sizeOf(oldValue);
    }
    return memoryUsed <= MEMORY_BUDGET;
  }

  /** Stores a batch of results with one append. */
  putAll(items: Array<[string, CachedValue]>): void {
    if (!items.length) return;
    const lines: string[] = [];
    for (const [k, v] of items) {
      this.remember(k, v);
      if (!this.file) continue;
      const line: Line = typeof v === 'string' ? { k, s: v } : v instanceof Float32Array
        ? { k, f: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64') }
        : { k, c: v };
      lines.push(JSON.stringify(line));
    }
    if (this.file) {
      appendFileSync(this.file, (this.tornTail ? '\n' : '') + lines.join('\n') + '\n');
      this.tornTail = false;
    }
  }

  private load(file: string): void {
    const content = readFileSync(file, 'utf8');
    this.tornTail = content.length > 0 && !content.endsWith('\n');
    for (const text of content.split('\n')) {
      if (!text) continue;
      let line: Line;
      try {
        line = JSON.parse(text) as Line;
      } catch {
        continue;
      }
      if (line.s !== undefined) this.remember(line.k, line.s);
      else if (line.f !== undefined) {
        const b = Buffer.from(line.f, 'base64');
        this.remember(line.k, new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)));
      } else if (line.c) this.remember(line.k, line.c);
    }
  }
}
