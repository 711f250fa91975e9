import Fastify, { type FastifyBaseLogger, type FastifyHttpOptions, type FastifyInstance } from 'fastify';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerOptions, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Logger } from 'pino';
import { distributionPlugin, registryNotFound } from './distribution/plugin.js';
import { DeferredSurface } from './deferred-surface.js';
import { tokenRoutes } from './auth/token-routes.js';
import type { ApiOptions } from './api/plugin.js';
import type { AdmissionOptions } from './admission/plugin.js';
import { healthRoutes } from './health.js';
import { countRequests, metricsRoutes } from './metrics.js';
import type { Metrics } from '../metrics/metrics.js';
import type { Readiness } from '../ops/readiness.js';
import { RequestLogController } from './plugins/request-log.js';
import { lazyValidatorFactory } from './plugins/lazy-validators.js';
import { lazySerializerFactory } from './plugins/lazy-serializers.js';
import { abortIdleBodies } from './plugins/idle-body.js';
import { API_BODY_LIMIT, finishUnreadBody, refuseOversizedBeforeContinue } from './plugins/unread-body.js';
import { TLS_MIN_VERSION } from './tls.js';
import { enterAuditScope } from './plugins/audit-scope.js';
import { DATABASE_RETRY_AFTER_SECONDS, DATABASE_UNAVAILABLE_MESSAGE, failedOnDatabase } from './plugins/unavailable.js';

export interface AppOptions extends ApiOptions {
  logger: Logger;
  keepAliveTimeout: number;
  /** http.trustProxy: which peers' X-Forwarded-For/-Proto/-Host are believed (request.ip, protocol, host). */
  trustProxy: boolean | string[];
  /** Seconds a client has to send a request's headers (0: no limit). */
  headersTimeout: number;
  /** Seconds a request body may send nothing before the connection is closed (0: no limit). */
  requestIdleTimeout: number;
  readiness: Readiness;
  metrics: Metrics;
  /** metrics.token: the bearer token of GET /metrics on this port (empty: refused here). */
  metricsToken: string;
  /** False when enforcement.listen serves the admission webhook on a port of its own. */
  admissionOnMainListener: boolean;
  /** Told of each image the admission webhook denies (webhook events). */
  onPolicyDenial?: AdmissionOptions['onDenial'];
  /** console.enabled: serve the web console at / (consoleDir: its built files, found in dist/console by default). */
  console?: boolean;
  consoleDir?: string;
  /** http.tlsCert and http.tlsKey, read: HTTPS (HTTP/1.1) instead of plain HTTP. */
  tls?: { cert: Buffer; key: Buffer };
  /** Milliseconds after the port opens before the management API and console are built unasked (default 1000). */
  deferredSurfaceDelayMs?: number;
}

/** Paths the registry itself answers before anything else is built (see DeferredSurface). */
const FIRST_EXACT = new Set(['/v2', '/auth/token', '/auth/revoke', '/auth/jwks.json', '/.well-known/jwks.json', '/livez', '/readyz', '/healthz', '/metrics']);

export function servedFirst(url: string | undefined): boolean {
  const end = url ? url.search(/[?#]/) : -1;
  const pathname = url ? (end >= 0 ? url.slice(0, end) : url) : '/';
  return pathname.startsWith('/v2/') || pathname.startsWith('/extensions/v2/') || FIRST_EXACT.has(pathname);
}

/**
 * The HTTP layer: plugins for each API surface, one structured log line per request. One HTTP
 * server, two Fastify instances built alike: the registry's routes (Distribution API, token,
 * health, metrics) are ready when the port opens; the management API, admission webhook and
 * console are built just after (DeferredSurface), and the server hands each request to the one
 * whose paths it is on.
 */
export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const server = createServer(options);
  refuseOversizedBeforeContinue(server, options.logger);
  abortIdleBodies(server, options.requestIdleTimeout * 1000, options.logger);

  const later = new DeferredSurface(async (capture) => {
    // Their modules load here too, after the port opens.
    const [{ apiPlugin }, { admissionPlugin }, { consolePlugin, defaultConsoleDir }] = await Promise.all([
      import('./api/plugin.js'), import('./admission/plugin.js'), import('./console/plugin.js'),
    ]);
    // Never listens: the registry's server hands it its requests.
    const app = createInstance(options, (handler) => { capture(handler); return createHttpServer(); });
    app.setNotFoundHandler(registryNotFound);
    await app.register(apiPlugin, { ...options, prefix: '/api/v1' });
    if (options.admissionOnMainListener) await app.register(admissionPlugin, { iam: options.iam, scanner: options.scanner, enforcement: options.enforcement, now: options.now, ...(options.onPolicyDenial ? { onDenial: options.onPolicyDenial } : {}) });
    if (options.console !== false) {
      const dir = options.consoleDir ?? defaultConsoleDir();
      await app.register(consolePlugin, dir ? { dir } : {});
    }
    return app;
  }, options.logger);

  const app = createInstance(options, (handler) => {
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      if (servedFirst(req.url)) handler(req, res);
      else later.handle(req, res);
    });
    return server;
  });
  await app.register(distributionPlugin, { registry: options.registry, iam: options.iam, publicUrl: options.publicUrl, now: options.now });
  await app.register(tokenRoutes, { iam: options.iam });
  await app.register(healthRoutes, { readiness: options.readiness });
  await app.register(metricsRoutes, { metrics: options.metrics, token: options.metricsToken });
  // Built a moment after the port opens, unless a request for them comes first.
  server.once('listening', () => later.readySoon(options.deferredSurfaceDelayMs ?? 1000));
  app.addHook('onClose', async () => { await later.close(); });
  return app;
}

/** The HTTP(S) server both instances answer on, with the timeouts Fastify would have given it. */
function createServer(options: AppOptions): Server {
  const serverOptions: ServerOptions = {
    requestTimeout: 0,
    headersTimeout: options.headersTimeout * 1000,
    // Node checks the headers timeout on this period; the default (30 s) would stretch a short one.
    connectionsCheckingInterval: options.headersTimeout > 0 ? Math.min(Math.max(options.headersTimeout * 250, 100), 30_000) : 30_000,
  };
  // An https.Server is a net.Server with the same request events: typed as plain HTTP for the plugins.
  const server = options.tls
    ? createHttpsServer({ ...serverOptions, cert: options.tls.cert, key: options.tls.key, minVersion: TLS_MIN_VERSION }) as unknown as Server
    : createHttpServer(serverOptions);
  server.keepAliveTimeout = options.keepAliveTimeout * 1000;
  // Uploads of big layers over slow links must not be cut by a request timeout: slow clients are
  // bounded by the headers timeout and the body idle timeout (abortIdleBodies) instead.
  server.requestTimeout = 0;
  return server;
}

/** A Fastify instance with the registry's request handling: ids, logs, metrics, audit scope, errors. */
function createInstance(options: AppOptions, serverFactory: (handler: (req: IncomingMessage, res: ServerResponse) => void) => Server): FastifyInstance {
  const app = Fastify({
    loggerInstance: options.logger as FastifyBaseLogger,
    logController: new RequestLogController(),
    schemaController: { compilersFactory: { buildValidator: lazyValidatorFactory(), buildSerializer: lazySerializerFactory() } },
    keepAliveTimeout: options.keepAliveTimeout * 1000,
    trustProxy: options.trustProxy,
    bodyLimit: API_BODY_LIMIT,
    requestTimeout: 0,
    serverFactory,
    // Only so Fastify's "Server listening at" line says https: the server itself comes from createServer.
    ...(options.tls ? { https: {} } : {}),
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    routerOptions: { ignoreTrailingSlash: false, maxParamLength: 2048 },
    // Requests Node's parser refuses (a raw non-ASCII byte in the path, a broken header) still get
    // the registry's error format rather than a bare HTML-less 400.
    clientErrorHandler: (err, socket) => {
      if (!socket.writable) return;
      const timedOut = (err as NodeJS.ErrnoException).code === 'ERR_HTTP_REQUEST_TIMEOUT';
      const message = timedOut
        ? `the request headers did not arrive within ${options.headersTimeout} seconds (http.headersTimeout): send them at once`
        : `malformed HTTP request: ${(err as NodeJS.ErrnoException).code ?? err.message}`;
      const body = JSON.stringify({ errors: [{ code: 'UNSUPPORTED', message, detail: null }] });
      socket.end(`HTTP/1.1 ${timedOut ? '408 Request Timeout' : '400 Bad Request'}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    },
    genReqId: (req) => (typeof req.headers['x-request-id'] === 'string' && /^[\w.-]{1,64}$/.test(req.headers['x-request-id']) ? req.headers['x-request-id'] : crypto.randomUUID()),
  } as FastifyHttpOptions<Server>);

  app.addHook('onSend', finishUnreadBody);
  countRequests(app, options.metrics);
  enterAuditScope(app);

  // Routes without an error format of their own (the token endpoint) answer a database that is down
  // for a moment in the registry's format too; anything else gets Fastify's default handling.
  app.setErrorHandler(async (error: unknown, request, reply) => {
    if (!failedOnDatabase(error, request)) throw error;
    await reply.code(503).header('Retry-After', String(DATABASE_RETRY_AFTER_SECONDS))
      .send({ errors: [{ code: 'UNAVAILABLE', message: DATABASE_UNAVAILABLE_MESSAGE, detail: null }] });
  });
  return app;
}
