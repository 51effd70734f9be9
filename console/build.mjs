// Bundles the console's page (console/src, Preact and Chart.js from node_modules) into dist/console,
// the files `aiduck serve` sends: nothing is loaded from elsewhere at run time.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const out = here('../dist/console/');
mkdirSync(out, { recursive: true });
await build({
  entryPoints: { app: here('src/main.tsx') },
  bundle: true,
  minify: true,
  format: 'esm',
  target: 'es2022',
  jsx: 'automatic',
  jsxImportSource: 'preact',
  legalComments: 'eof',
  outdir: out,
  logLevel: 'warning',
});
for (const f of ['index.html', 'app.css', 'favicon.svg']) copyFileSync(here(f), out + f);
