import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ProblemError } from '../../errors/problem.js';
import { AuthenticationError } from '../../iam/authenticator.js';
import type { Iam } from '../../iam/iam.js';
import type { Caller } from '../../iam/iam-service.js';
import { ANONYMOUS, type Principal } from '../../iam/principal.js';
import { readCredentials } from '../auth/credentials.js';
import swagger from '@fastify/swagger';
import { auditRoutes } from './audit-routes.js';
import { gcRoutes } from './gc-routes.js';
import { iamRoutes } from './iam-routes.js';
import { imageRoutes } from './image-routes.js';
import { opsRoutes } from './ops-routes.js';
import { permissionRoutes } from './permission-routes.js';
import { statsRoutes } from './stats-routes.js';
import { scannerRoutes } from './scanner-routes.js';
import { policyRoutes } from './policy-routes.js';
import type { Enforcement } from '../../enforcement/enforcement.js';
import { trustRoutes } from './trust-routes.js';
import { webhookRoutes } from './webhook-routes.js';
import type { WebhookService } from '../../events/webhooks.js';
import type { ScanService } from '../../scanner/scan-service.js';
import type { SignatureVerifier } from '../../trust/signature-verifier.js';
import type { ExemptionService } from '../../scanner/exemptions.js';
import type { VulnDb } from '../../scanner/vulndb.js';
import { RegistryError } from '../../oci/errors.js';
import { isStorageFull } from '../../storage/full.js';
import { reportStorageFull } from '../storage-full.js';
import type { Registry } from '../../registry/registry.js';
import type { GarbageCollector } from '../../registry/garbage-collector.js';
import type { QuotaService } from '../../ops/quotas.js';
import type { RetentionService } from '../../ops/retention.js';
import { API_BODY_LIMIT } from '../plugins/unread-body.js';
import { DATABASE_RETRY_AFTER_SECONDS, DATABASE_UNAVAILABLE_MESSAGE, failedOnDatabase } from '../plugins/unavailable.js';

declare module 'fastify' {
  interface FastifyRequest {
    caller: Caller;
  }
}

/** The management API under /api/v1: JSON in and out, problem+json errors, Basic or Bearer auth. */
export interface ApiOptions {
  iam: Iam;
  registry: Registry;
  gc: GarbageCollector;
  quotas: QuotaService;
  retention: RetentionService;
  scanner: ScanService;
  /** Signature verdicts (the Signed column), cached while keys and signatures are unchanged. */
  signatures: SignatureVerifier;
  exemptions: ExemptionService;
  vulndb: VulnDb;
  enforcement: Enforcement;
  webhooks: WebhookService;
  publicUrl: string;
  /** The clock (tests move it). */
  now: () => number;
}

export async function apiPlugin(app: FastifyInstance, options: ApiOptions): Promise<void> {
  const { iam } = options;
  app.decorateRequest('caller', null as unknown as Caller);

  app.addHook('onRequest', async (request) => {
    if (request.url === '/api/v1/openapi.json') {
      request.caller = { principal: ANONYMOUS, source: request.ip };
      return;
    }
    request.caller = { principal: await authenticate(request, iam), source: request.ip };
  });

  app.setErrorHandler(async (error: unknown, request, reply) => {
    let problem: ProblemError;
    if (isStorageFull(error)) problem = problemFromRegistry(await reportStorageFull(error, request.log, options.registry.ctx.store));
    else if (error instanceof ProblemError) problem = error;
    else if (error instanceof RegistryError) problem = problemFromRegistry(error);
    else if ((error as { validation?: unknown }).validation) problem = new ProblemError('bad-request', (error as Error).message);
    else if (failedOnDatabase(error, request)) problem = new ProblemError('unavailable', DATABASE_UNAVAILABLE_MESSAGE, { retryAfter: DATABASE_RETRY_AFTER_SECONDS });
    else if ((error as { statusCode?: number }).statusCode && (error as { statusCode: number }).statusCode < 500) {
      const status = (error as { statusCode: number }).statusCode;
      problem = status === 413
        ? new ProblemError('payload-too-large', `the request body is larger than the ${API_BODY_LIMIT} bytes the API takes`, { limit: API_BODY_LIMIT })
        : new ProblemError(status === 404 ? 'not-found' : 'bad-request', (error as Error).message);
    } else {
      request.log.error({ err: error }, 'API request failed');
      problem = new ProblemError('internal', 'the request could not be completed; the error is in the server log');
    }
    if (problem.status === 401) {
      // A refused Bearer token is challenged as one (RFC 6750): a Basic challenge would make a
      // browser (the web console's fetch) pop up its own password dialog instead of signing in again.
      const bearer = readCredentials(request).scheme === 'bearer';
      reply.header('WWW-Authenticate', bearer ? `Bearer realm="${iam.tokens.service}", error="invalid_token"` : `Basic realm="${iam.tokens.service}"`);
    }
    if (typeof problem.extra.retryAfter === 'number') reply.header('Retry-After', String(problem.extra.retryAfter));
    await reply.code(problem.status).type('application/problem+json').send(problem.toBody(request.url.split('?')[0]));
  });

  app.setNotFoundHandler(async (request) => {
    throw new ProblemError('not-found', `no API route ${request.method} ${request.url.split('?')[0]}`);
  });

  // Registered first in this scope, so it sees exactly the API's routes and their schemas.
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'Wharf management API', version: '1', description: 'Namespaces, images, trash, quotas, retention, image policies, trusted keys, webhooks, audit and IAM of a Wharf registry. Errors are application/problem+json.' },
      components: {
        securitySchemes: {
          basic: { type: 'http', scheme: 'basic', description: 'username and password, or iamapikey and an API key' },
          bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'a token from /auth/token' },
        },
      },
      security: [{ basic: [] }, { bearer: [] }],
    },
  });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  await app.register(iamRoutes, { iam });
  await app.register(permissionRoutes, { iam });
  await app.register(statsRoutes, { iam, scanner: options.scanner, now: options.now });
  await app.register(auditRoutes, { iam });
  await app.register(imageRoutes, {
    iam, registry: options.registry, images: options.registry.images, scanner: options.scanner, signatures: options.signatures,
    registryHost: (host) => (options.publicUrl ? new URL(options.publicUrl).host : host ?? 'localhost'),
  });
  await app.register(opsRoutes, { iam, quotas: options.quotas, retention: options.retention });
  await app.register(gcRoutes, { iam, gc: options.gc });
  await app.register(scannerRoutes, { iam, scanner: options.scanner, exemptions: options.exemptions, vulndb: options.vulndb });
  await app.register(policyRoutes, { iam, scanner: options.scanner, enforcement: options.enforcement, now: options.now });
  await app.register(trustRoutes, { iam, registry: options.registry });
  await app.register(webhookRoutes, { iam, webhooks: options.webhooks });
}

async function authenticate(request: FastifyRequest, iam: Iam): Promise<Principal> {
  const credentials = readCredentials(request);
  if (credentials.scheme === 'none') return ANONYMOUS;
  if (credentials.scheme === 'invalid') throw new ProblemError('unauthorized', 'the Authorization header must be Basic or Bearer');
  if (credentials.scheme === 'bearer') {
    const verified = await iam.authenticator.bearer(credentials.token);
    if (!verified) throw new ProblemError('unauthorized', 'the token is invalid or expired: log in again (wharf login)');
    // A registry token scoped to repositories is a pull/push credential handed to clients, not a login:
    // only an unscoped token (wharf login's) acts as its holder here.
    if (verified.claims.access.some((entry) => entry.actions.length > 0)) {
      throw new ProblemError('unauthorized', 'registry tokens with repository scopes are not accepted by the management API: log in with wharf login (or use Basic credentials)');
    }
    return verified.principal;
  }
  try {
    return await iam.authenticator.basic(credentials.username, credentials.password, request.ip);
  } catch (err) {
    if (err instanceof AuthenticationError) {
      throw err.reason === 'rate-limited'
        ? new ProblemError('too-many-requests', err.message, { retryAfter: err.retryAfter })
        : new ProblemError('unauthorized', err.message);
    }
    throw err;
  }
}

/** Registry errors met through the API, in the API's problem types. */
function problemFromRegistry(error: RegistryError): ProblemError {
  const extra = { code: error.code, ...(error.detail && typeof error.detail === 'object' ? { registryDetail: error.detail } : {}) };
  if (error.status === 404) return new ProblemError('not-found', error.message, extra);
  if (error.code === 'DENIED' && (error.detail as { quota?: string } | null)?.quota) return new ProblemError('quota-exceeded', error.message, extra);
  if (error.status === 403) return new ProblemError('forbidden', error.message, extra);
  if (error.status === 409) return new ProblemError('conflict', error.message, extra);
  if (error.status === 401) return new ProblemError('unauthorized', error.message, extra);
  if (error.status === 429) return new ProblemError('too-many-requests', error.message, extra);
  if (error.status === 507) return new ProblemError('storage-full', error.message, extra);
  if (error.status === 503) return new ProblemError('unavailable', error.message, { ...extra, ...(error.headers['Retry-After'] ? { retryAfter: Number(error.headers['Retry-After']) } : {}) });
  if (error.status >= 500) return new ProblemError('internal', error.message, extra);
  return new ProblemError('bad-request', error.message, extra);
}
