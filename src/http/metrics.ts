import { createServer, type Server } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { safeEqual } from '../iam/secrets.js';
import type { Metrics } from '../metrics/metrics.js';
import { matchRoute, splitUrl } from './distribution/routes.js';

/** A bounded label for a request: the /v2/ route family, or the surface it belongs to. */
export function routeFamily(rawUrl: string): string {
  const { pathname } = splitUrl(rawUrl);
  if (pathname.startsWith('/v2/') || pathname === '/v2') return matchRoute(pathname)?.family ?? 'v2-unknown';
  if (pathname.startsWith('/api/')) return 'api';
  if (pathname.startsWith('/auth/')) return 'auth';
  if (pathname === '/livez' || pathname === '/readyz' || pathname === '/healthz') return 'health';
  if (pathname === '/metrics') return 'metrics';
  return 'other';
}

export interface MetricsRouteOptions {
  metrics: Metrics;
  /** metrics.token; empty refuses /metrics on this port. */
  token: string;
}

/** Counts every answered request of the app (a root hook, so it sees every plugin's routes). */
export function countRequests(app: FastifyInstance, metrics: Metrics): void {
  app.addHook('onResponse', (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
    const received = Number(request.headers['content-length'] ?? 0);
    const sent = Number(reply.getHeader('content-length') ?? 0);
    metrics.request(routeFamily(request.url), request.method, reply.statusCode, reply.elapsedTime / 1000, Number.isFinite(received) ? received : 0, Number.isFinite(sent) ? sent : 0);
    done();
  });
}

/** GET /metrics, to a holder of the metrics token. */
export async function metricsRoutes(app: FastifyInstance, options: MetricsRouteOptions): Promise<void> {
  const { metrics, token } = options;

  app.get('/metrics', async (request, reply) => {
    if (!token) {
      return reply.code(404).type('text/plain').send('metrics are not served on this port: set metrics.token (WHARF_METRICS_TOKEN) for a bearer token here, or metrics.listen for an internal port\n');
    }
    const given = /^Bearer (.+)$/i.exec(request.headers.authorization ?? '')?.[1] ?? '';
    if (!safeEqual(given, token)) {
      return reply.code(401).header('WWW-Authenticate', 'Bearer realm="metrics"').type('text/plain').send('GET /metrics needs the metrics token: Authorization: Bearer <metrics.token>\n');
    }
    const { contentType, body } = await metrics.text();
    return reply.type(contentType).header('Cache-Control', 'no-store').send(body);
  });
}

/** The separate listener of metrics.listen: /metrics only, no credentials (bind it to an internal address). */
export async function listenForMetrics(metrics: Metrics, address: string): Promise<Server> {
  const split = address.lastIndexOf(':');
  const host = address.slice(0, split).replace(/^\[|\]$/g, '');
  const port = Number(address.slice(split + 1));
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || splitUrl(req.url ?? '/').pathname !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('only GET /metrics is served here\n');
      return;
    }
    metrics.text().then(({ contentType, body }) => {
      res.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store' }).end(body);
    }, (err: unknown) => {
      res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${(err as Error).message}\n`);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => { server.off('error', reject); resolve(); });
  });
  return server;
}
