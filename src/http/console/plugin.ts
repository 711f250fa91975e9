import { createReadStream, existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ProblemError } from '../../errors/problem.js';

/**
 * The web console at `/`: the files Vite built from web/ into dist/console, with the index page as
 * the answer to every client route (/images/…, /security/…) so a reload or a shared link works.
 * Only GET and HEAD outside the registry's own surfaces reach it; those keep their formats for
 * paths they do not know.
 */
export interface ConsoleOptions {
  /** The built console; absent (a source checkout that was never built) answers with how to build it. */
  dir?: string;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
};

/** Paths owned by other plugins: an unknown one there is that surface's 404, never the console. */
const RESERVED = /^\/(v2|api|admission|auth|token|metrics|livez|readyz|healthz|\.well-known)(\/|$)/;

/** The console's strict policy: it runs only its own bundled code and talks only to this origin. */
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/** dist/console of the package this module belongs to (src/, dist/ or the bundle in dist/bundle). */
export function defaultConsoleDir(): string | undefined {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = path.join(dir, 'dist', 'console');
    if (existsSync(path.join(candidate, 'index.html'))) return candidate;
    if (path.basename(dir) === 'dist' && existsSync(path.join(dir, 'console', 'index.html'))) return path.join(dir, 'console');
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return undefined;
}

export async function consolePlugin(app: FastifyInstance, options: ConsoleOptions): Promise<void> {
  const root = options.dir;

  const serve = async (request: FastifyRequest, reply: FastifyReply) => {
    const pathname = decodeURIComponentSafe(request.url.split('?')[0] ?? '/');
    if (RESERVED.test(pathname)) return notFoundElsewhere(request, reply, pathname);
    if (!root) {
      return reply.code(503).type('text/plain; charset=utf-8')
        .send('The web console is not built: run `npm run build` (it builds web/ into dist/console), or set console.enabled to false.');
    }
    const file = resolveFile(root, pathname);
    const security = (r: FastifyReply) => r.header('Content-Security-Policy', CSP).header('X-Content-Type-Options', 'nosniff').header('Referrer-Policy', 'no-referrer');
    if (file) {
      const ext = path.extname(file);
      // Vite names assets by their content hash: they never change under their name.
      const hashed = pathname.startsWith('/assets/');
      return security(reply).type(CONTENT_TYPES[ext] ?? 'application/octet-stream')
        .header('Cache-Control', hashed ? 'public, max-age=31536000, immutable' : 'no-cache')
        .header('Content-Length', String(statSync(file).size))
        .send(request.method === 'HEAD' ? '' : createReadStream(file));
    }
    // A missing asset is a 404 (a stale page asking for an old bundle), not the index page.
    if (pathname.startsWith('/assets/') || path.extname(pathname) !== '') {
      return reply.code(404).type('text/plain; charset=utf-8').send(`${pathname} is not part of the console: reload the page`);
    }
    const index = path.join(root, 'index.html');
    return security(reply).type('text/html; charset=utf-8').header('Cache-Control', 'no-cache')
      .send(request.method === 'HEAD' ? '' : createReadStream(index));
  };

  app.route({ method: ['GET', 'HEAD'], url: '/', handler: serve, exposeHeadRoute: false });
  app.route({ method: ['GET', 'HEAD'], url: '/*', handler: serve, exposeHeadRoute: false });
}

function decodeURIComponentSafe(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/** The file under root a path names, never outside it; undefined when there is none. */
function resolveFile(root: string, pathname: string): string | undefined {
  if (pathname === '/' || pathname.includes('\0')) return undefined;
  const full = path.resolve(root, `.${path.posix.normalize(pathname)}`);
  if (!full.startsWith(root + path.sep)) return undefined;
  try {
    return statSync(full).isFile() ? full : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The console's catch-all route also matches unknown paths under the other surfaces (the router
 * prefers it to their not-found handlers): they answer in their own formats, as before.
 */
async function notFoundElsewhere(request: FastifyRequest, reply: FastifyReply, pathname: string) {
  if (pathname.startsWith('/api/v1/')) {
    const problem = new ProblemError('not-found', `no API route ${request.method} ${pathname}`);
    return reply.code(problem.status).type('application/problem+json').send(problem.toBody(pathname));
  }
  return reply.code(404).header('Docker-Distribution-API-Version', 'registry/2.0')
    .send({ errors: [{ code: 'NAME_UNKNOWN', message: `no such endpoint: ${request.method} ${pathname.slice(0, 200)}`, detail: null }] });
}
