import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { join } from 'node:path';
import { packageRoot } from '../package.js';

/** Where `npm run build` puts the bundled page (console/build.mjs). */
const ASSETS_DIR = join(packageRoot(), 'dist', 'console');

const FILES: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/app.css': { file: 'app.css', type: 'text/css; charset=utf-8' },
  '/favicon.svg': { file: 'favicon.svg', type: 'image/svg+xml' },
};

/**
 * Everything the page loads comes from here: no CDN, no font or script from elsewhere, no inline
 * script, and no <style> element but those carrying this response's nonce (the SQL editor's). Style
 * attributes are allowed: Chromium's own editing writes them while one types into the editor, and
 * they can style nothing but their element.
 */
function securityHeaders(nonce: string): Record<string, string> {
  return {
    'content-security-policy': `default-src 'self'; style-src 'self' 'nonce-${nonce}'; style-src-attr 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'`,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
  };
}

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
  const nonce = randomBytes(16).toString('base64');
  // Only the page itself names the nonce; the other files are sent as they are.
  if (entry.file === 'index.html') body = Buffer.from(body.toString('utf8').replace('{{nonce}}', nonce));
  res.writeHead(200, { 'content-type': entry.type, 'content-length': body.length, 'cache-control': 'no-cache', ...securityHeaders(nonce) });
  res.end(body);
  return true;
}
