import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

// The code's one direction (docs/ARCHITECTURE.md): server → engine → session → (pg emulation, SQL
// rewriting, SQL functions) → (registry, runtime, jobs) → (llm, onnx) → errors. Each area lists
// what it may import; an import against the direction fails here, so the layering stays as it is.

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

const ALLOWED: Readonly<Record<string, readonly string[]>> = {
  // where the package is and its version: anything may ask
  package: [],
  errors: [],
  sqltext: ['errors', 'package'],
  protocol: ['errors'],
  onnx: ['errors'],
  llm: ['errors', 'onnx'],
  runtime: ['errors', 'llm', 'onnx', 'package'],
  registry: ['errors', 'runtime', 'sqltext'],
  jobs: ['errors', 'llm'],
  functions: ['errors', 'sqltext', 'registry', 'runtime', 'jobs'],
  udfs: ['errors', 'sqltext', 'functions', 'registry', 'runtime', 'jobs', 'llm'],
  pg: ['errors', 'sqltext', 'protocol', 'functions'],
  rewrite: ['errors', 'sqltext', 'pg', 'functions', 'udfs'],
  session: ['errors', 'sqltext', 'protocol', 'pg', 'rewrite', 'functions', 'udfs', 'registry', 'jobs'],
  engine: ['errors', 'sqltext', 'protocol', 'session', 'pg', 'functions', 'udfs', 'registry', 'runtime', 'jobs', 'package'],
  server: ['errors', 'protocol', 'engine', 'console'],
  // the web console: an HTTP server whose only way to the data is a Postgres client of the server's own port
  console: ['package'],
  // fixtures: the test models, written by `aiduck testmodels` and the tests, never imported by the product
  testmodels: ['errors', 'llm', 'onnx'],
  shell: ['server', 'sqltext', 'errors'],
  cli: ['server', 'shell', 'testmodels', 'package', 'errors'],
};

/** The area a file belongs to: its folder under src/ (or its name, for src/*.ts), or udfs. */
function areaOf(file: string): string {
  const parts = relative(root, file).split('/');
  if (parts[0] === 'udfs') return 'udfs';
  if (parts[0] !== 'src') return 'outside';
  return parts.length === 2 ? parts[1]!.replace(/\.[jt]s$/, '') : parts[1]!;
}

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

const files = [...sources(join(root, 'src')), ...sources(join(root, 'udfs'))];

/** Every module a file imports or starts as a worker (relative specifiers). */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/(?:from\s+|import\s*\(\s*|new URL\(\s*)'(\.{1,2}\/[^']+)'/g)].map((m) => m[1]!);
  return specs.map((s) => normalize(join(dirname(file), s)));
}

describe('architecture', () => {
  it('every area is listed, and imports only what its layer allows', () => {
    const violations: string[] = [];
    for (const file of files) {
      const from = areaOf(file);
      expect(ALLOWED[from], `${relative(root, file)}: area "${from}" is not in the dependency rule`).toBeDefined();
      for (const target of importsOf(file)) {
        const to = areaOf(target);
        if (to !== from && !ALLOWED[from]!.includes(to)) violations.push(`${relative(root, file)} imports ${relative(root, target)} (${from} → ${to})`);
      }
    }
    expect(violations).toEqual([]);
  });

  it('the rule itself has no cycle', () => {
    const visiting = new Set<string>();
    const done = new Set<string>();
    const visit = (a: string, path: string[]): void => {
      if (done.has(a)) return;
      if (visiting.has(a)) throw new Error(`cycle: ${[...path, a].join(' → ')}`);
      visiting.add(a);
      for (const b of ALLOWED[a] ?? []) visit(b, [...path, a]);
      visiting.delete(a);
      done.add(a);
    };
    for (const a of Object.keys(ALLOWED)) visit(a, []);
  });

  it('a source file over 400 lines says at its top why it is long', () => {
    const long = files.filter((f) => readFileSync(f, 'utf8').split('\n').length > 410)
      .filter((f) => !/long because/i.test(readFileSync(f, 'utf8').split('\n').slice(0, 12).join('\n')));
    expect(long.map((f) => relative(root, f))).toEqual([]);
  });

  it('catches a reach-back (the check works)', () => {
    const fake = join(root, 'src', 'llm', 'x.ts');
    expect(ALLOWED[areaOf(fake)]!.includes(areaOf(join(root, 'src', 'session', 'session.ts')))).toBe(false);
    expect(importsOf(join(root, 'src', 'session', 'session.ts')).some((t) => areaOf(t) === 'protocol')).toBe(true);
  });
});
