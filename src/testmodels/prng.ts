import { SeededRandom } from '../llm/seeded-random.js';

/**
 * The seeded generator (mulberry32) with normal draws, so every generated weight is the same on every
 * run and every machine.
 */
export class Prng extends SeededRandom {
  /** Standard normal (Box-Muller). */
  normal(): number {
    const u = 1 - this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** `n` values drawn from N(0, std²). */
  normals(n: number, std: number): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = this.normal() * std;
    return out;
  }
}

/** A 32-bit seed derived from a name, so each model and tensor gets its own stream. */
export function seedFrom(name: string): number {
  let h = 2166136261;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 16777619);
  }
  return h >>> 0;
}
