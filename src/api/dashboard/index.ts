// The web dashboard's static files on the main port: `/` (index.html) and `/assets/<hashed file>`.
// The dashboard is a plain client of the public APIs (it holds the user's token in memory); this module only serves
// its bundle, with the security headers that keep it that way: a strict Content-Security-Policy (no inline script,
// same-origin connections only, no framing of the dashboard), and a year-long cache for hashed assets.
import { createReadStream } from 'node:fs';
import { readFile, realpath, stat } from 'node:fs/promises';
import { dirname, extname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { publicRoute } from '../http/route-policy.js';

/** Where `npm run build` puts the bundle: dist/dashboard, next to dist/src. */
export const dashboardDir = (): string => join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'dashboard');

/**
 * The policy for every dashboard response. `connect-src 'self'` covers the APIs and the console's websocket on the
 * same origin; `frame-src 'self'` admits only the embedded noVNC page under /console/.
 */
export const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "font-src 'self'",
  "connect-src 'self'",
  "frame-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
};

function secure(reply: FastifyReply): FastifyReply {
  return reply
    .header('content-security-policy', DASHBOARD_CSP)
    .header('x-content-type-options', 'nosniff')
    .header('x-frame-options', 'DENY')
    .header('referrer-policy', 'no-referrer')
    .header('cross-origin-opener-policy', 'same-origin');
}

/** A file directly in dist/dashboard/assets (hashed names have no folders), or null. */
async function assetFile(root: string, name: string): Promise<string | null> {
  if (!/^[A-Za-z0-9._-]+$/.test(name) || name.startsWith('.')) return null;
  try {
    const base = await realpath(join(root, 'assets'));
    const real = await realpath(join(base, name));
    if (!real.startsWith(base + sep)) return null;
    return (await stat(real)).isFile() ? real : null;
  } catch {
    return null;
  }
}

/** Registers `/` and `/assets/*`. Public: nothing here is secret, every API call carries the user's own token. */
export function registerDashboard(app: FastifyInstance, root: string = dashboardDir()): void {
  const index = async (_req: unknown, reply: FastifyReply): Promise<FastifyReply> => {
    let html: string;
    try {
      html = await readFile(join(root, 'index.html'), 'utf8');
    } catch {
      return reply
        .code(503)
        .type('text/plain; charset=utf-8')
        .send('The dashboard is not built on this host: run `npm run build`.\n');
    }
    // index.html names the current hashed assets: always revalidate it.
    return secure(reply).code(200).type(TYPES['.html']!).header('cache-control', 'no-cache').send(html);
  };
  // Static files: public, no policy (the browser holds the token and calls the APIs with it).
  app.get('/', publicRoute(), index);
  app.get('/index.html', publicRoute(), index);
  app.get('/assets/:name', publicRoute(), async (req, reply) => {
    const file = await assetFile(root, (req.params as { name: string }).name);
    if (!file) return reply.code(404).type('text/plain; charset=utf-8').send('Not Found\n');
    const size = (await stat(file)).size;
    return secure(reply)
      .code(200)
      .type(TYPES[extname(file)] ?? 'application/octet-stream')
      .header('content-length', size)
      .header('cache-control', 'public, max-age=31536000, immutable')
      .send(createReadStream(file));
  });
}
