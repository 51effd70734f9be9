import { expect } from 'vitest';

/** A place where aiduck still answers differently from PostgreSQL 15, and why. */
export interface KnownDifference {
  /** A key of the client's output, then object keys and array indexes below it. */
  path: ReadonlyArray<string | number>;
  postgres: unknown;
  aiduck: unknown;
  /** What makes it differ and where it gets fixed. */
  why: string;
}

type Json = unknown;

function at(value: Json, path: ReadonlyArray<string | number>): Json {
  let v = value;
  for (const key of path) v = v === null || typeof v !== 'object' ? undefined : (v as Record<string | number, Json>)[key];
  return v;
}

function replaceAt(value: Json, path: ReadonlyArray<string | number>, replacement: Json): Json {
  if (path.length === 0) return replacement;
  const parent = at(value, path.slice(0, -1));
  if (parent !== null && typeof parent === 'object') (parent as Record<string | number, Json>)[path[path.length - 1]!] = replacement;
  return value;
}

/**
 * Expects aiduck's output to equal PostgreSQL's, except at the listed places, where each side must
 * hold exactly the listed value: a difference that goes away fails the test until its entry is
 * removed, and any other difference fails it.
 */
export function expectSameExcept(postgres: Json, aiduck: Json, known: ReadonlyArray<KnownDifference> = []): void {
  let p = structuredClone(postgres);
  let a = structuredClone(aiduck);
  for (const d of known) {
    const where = d.path.join(' → ') || '(whole value)';
    expect(at(p, d.path), `PostgreSQL at ${where}`).toEqual(d.postgres);
    expect(at(a, d.path), `aiduck at ${where}: ${d.why}`).toEqual(d.aiduck);
    p = replaceAt(p, d.path, '(known difference)');
    a = replaceAt(a, d.path, '(known difference)');
  }
  expect(a).toEqual(p);
}

/** The value with every object key in lower case (pgJDBC finds result columns case-insensitively). */
export function lowerKeys(value: Json): Json {
  if (Array.isArray(value)) return value.map(lowerKeys);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k.toLowerCase(), lowerKeys(v)]));
  }
  return value;
}

/** The value without the named object keys, at any depth (OIDs and sizes that differ by nature). */
export function withoutKeys(value: Json, keys: ReadonlyArray<string>): Json {
  if (Array.isArray(value)) return value.map((v) => withoutKeys(v, keys));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).filter(([k]) => !keys.includes(k)).map(([k, v]) => [k, withoutKeys(v, keys)]));
  }
  return value;
}
