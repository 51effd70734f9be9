import { readFile } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

/** Where `npm run build` puts the bundled page (console/build.mjs): dist/console. */
const ASSETS_DIR = fileURLToPath(new URL('../../console/', import.meta.url));

const FILES: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/app.css': { file: 'app.css', type: 'text/css; charset=utf-8' },
  '/favicon.svg': { file: 'favicon.svg', type: 'image/svg+xml' },
};

/**
 * Everything the page loads comes from here: no CDN, no font or script from elsewhere (the CSP
 * header says so to the browser too).
 */
const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

const cache = new Map<string, Buffer>();

/** Serves one of the bundled files; false if `path` is none of them. */
export async function serveStatic(path: string, res: ServerResponse): Promise<boolean> {
  const entry = FILES[path];
  if (!entry) return false;
  let body = cache.get(entry.file);
  if (!body) {
    try {
      body = await readFile(join(ASSETS_DIR, entry.file));
    } catch {
      res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(`the console's files are missing from ${ASSETS_DIR}: build them with npm run build\n`);
      return true;
    }
    cache.set(entry.file, body);
  }
  res.writeHead(200, { 'content-type': entry.type, 'content-length': body.length, 'cache-control': 'no-cache', ...SECURITY_HEADERS });
  res.end(body);
  return true;
}
