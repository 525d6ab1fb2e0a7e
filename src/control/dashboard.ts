/**
 * The dashboard's static assets (src/ui/: one HTML page, one stylesheet, one script, an icon),
 * served at the admin address: `/` is the page, `/ui/NAME` the rest. No build step and no CDN:
 * the files ship in the package as they are (package.json "files" lists src/ui) and are found
 * from this module's own location, which is the same two folders up from src/control/ (tsx)
 * and dist/control/ (compiled).
 *
 * Every answer carries a strict Content-Security-Policy: scripts and styles only from this
 * origin (no inline script, no eval), connections only back to it, and no framing.
 */
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';

/** Where the assets are: `<package root>/src/ui/`. */
export const UI_DIR = fileURLToPath(new URL('../../src/ui/', import.meta.url));

/** The policy for the page and every asset. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** The files served, by URL path: only these (no path is ever joined from the request). */
const ASSETS: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/index.html': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/ui/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/ui/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
  '/ui/icon.svg': { file: 'icon.svg', type: 'image/svg+xml' },
  '/favicon.ico': { file: 'icon.svg', type: 'image/svg+xml' },
};

/** Headers every dashboard answer carries. */
export function securityHeaders(): Record<string, string> {
  return {
    'content-security-policy': CONTENT_SECURITY_POLICY,
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
  };
}

const cache = new Map<string, Buffer>();

/** Serves a dashboard asset for GET/HEAD `path`; false when `path` is not one. */
export async function serveAsset(req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean> {
  const asset = ASSETS[path];
  if (!asset || (req.method !== 'GET' && req.method !== 'HEAD')) return false;
  let body = cache.get(asset.file);
  if (!body) {
    try {
      body = await readFile(UI_DIR + asset.file);
    } catch (err) {
      const text = `the dashboard's ${asset.file} is missing from ${UI_DIR} (${(err as Error).message}); reinstall evenkeel\n`;
      res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8', ...securityHeaders() });
      res.end(text);
      return true;
    }
    cache.set(asset.file, body);
  }
  req.resume();
  // no-cache (revalidate), not no-store: the page is small, and a new version must show at once after an upgrade.
  res.writeHead(200, { 'content-type': asset.type, 'content-length': body.length, 'cache-control': 'no-cache', ...securityHeaders() });
  res.end(req.method === 'HEAD' ? undefined : body);
  return true;
}
