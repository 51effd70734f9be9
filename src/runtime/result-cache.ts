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

/**
 * Results of one model version, keyed by (operation, parameters, input). Kept in memory and,
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

  get size(): number {
    return this.entries.size;
  }

  /** Stores a batch of results with one append. */
  putAll(items: Array<[string, CachedValue]>): void {
    if (!items.length) return;
    const lines: string[] = [];
    for (const [k, v] of items) {
      this.entries.set(k, v);
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
      if (line.s !== undefined) this.entries.set(line.k, line.s);
      else if (line.f !== undefined) {
        const b = Buffer.from(line.f, 'base64');
        this.entries.set(line.k, new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)));
      } else if (line.c) this.entries.set(line.k, line.c);
    }
  }
}
