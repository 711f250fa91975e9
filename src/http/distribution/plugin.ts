import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { RegistryError } from '../../oci/errors.js';
import type { Registry } from '../../registry/registry.js';
import { ABSENT } from './absent.js';
import { blobs } from './blobs.js';
import { catalog, referrers, tags } from './discovery.js';
import type { Handler, Visibility } from './handler.js';
import { byMethod } from './handler.js';
import { requiredAccess } from './access.js';
import { admit } from './gate.js';
import { DistributionAudit } from './audit.js';
import type { Iam } from '../../iam/iam.js';
import { ANONYMOUS, type Principal } from '../../iam/principal.js';
import { manifests } from './manifests.js';
import { matchRoute, splitUrl, type DistributionRoute } from './routes.js';
import { uploads } from './uploads.js';
import { signatures } from './signature-routes.js';
import { isStorageFull } from '../../storage/full.js';
import { reportStorageFull } from '../storage-full.js';
import { DATABASE_RETRY_AFTER_SECONDS, DATABASE_UNAVAILABLE_MESSAGE, failedOnDatabase } from '../plugins/unavailable.js';

const base: Handler<{ family: 'base' }> = byMethod({
  GET: async ({ reply }) => { await reply.code(200).type('application/json').send('{}'); },
  HEAD: async ({ reply }) => { await reply.code(200).header('Content-Length', 0).send(); },
});

const FAMILIES: { [F in DistributionRoute['family']]: Handler<Extract<DistributionRoute, { family: F }>> } = {
  base, catalog, tags, manifests, blobs, uploads, referrers, signatures,
};

/** OCI Distribution API under /v2/: one dispatcher, one handler module per route family. */
export interface DistributionOptions {
  registry: Registry;
  iam: Iam;
  publicUrl: string;
  now: () => number;
}

const EVERYTHING: Visibility = { canPull: async () => true };

export async function distributionPlugin(app: FastifyInstance, options: DistributionOptions): Promise<void> {
  const { registry, iam } = options;
  const audit = new DistributionAudit(iam.audit, registry);

  // Bodies stay unread streams: blobs are piped to storage, manifests read with a size limit.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, _payload, done) => done(null));

  app.addHook('onRequest', async (_request, reply) => setRegistryHeaders(reply));

  app.setErrorHandler(async (error: unknown, request, reply) => {
    const answer = isStorageFull(error) ? await reportStorageFull(error, request.log, registry.ctx.store) : toRegistryError(error, request);
    await sendRegistryError(answer, request, reply);
  });

  app.setNotFoundHandler(registryNotFound);

  const dispatch = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const { pathname, query } = splitUrl(request.url);
    const route = matchRoute(pathname);
    if (!route) throw unknownEndpoint(request.method, pathname);
    let visibility = EVERYTHING;
    let principal: Principal = ANONYMOUS;
    let absent = false;
    if (iam.enabled) {
      ({ principal, absent } = await admit(request, requiredAccess(route, request.method), options));
      visibility = visibilityFor(iam, principal);
    }
    const handler = (absent ? ABSENT : FAMILIES)[route.family] as Handler<DistributionRoute>;
    const previous = absent ? null : await audit.before(route, request.method);
    try {
      await handler({ registry, principal, visibility, route, query, request, reply });
    } catch (err) {
      audit.failed(route, principal, request, err);
      throw err;
    }
    audit.after(route, principal, request, reply, previous);
  };

  for (const url of ['/v2', '/v2/', '/v2/*', '/extensions/v2/*']) {
    app.route({ method: ['GET', 'HEAD', 'PUT', 'POST', 'PATCH', 'DELETE'], url, handler: dispatch, exposeHeadRoute: false });
  }
}

/** What any path nobody serves answers, in the registry's error format (as registries' clients expect from any 404). */
export async function registryNotFound(request: FastifyRequest, reply: FastifyReply): Promise<void> {
  setRegistryHeaders(reply);
  await sendRegistryError(unknownEndpoint(request.method, splitUrl(request.url).pathname), request, reply);
}

function setRegistryHeaders(reply: FastifyReply): void {
  reply.header('Docker-Distribution-API-Version', 'registry/2.0');
  // containers/image reads this from its unauthenticated ping of /v2/ (a 401 too) and then stores and
  // reads simple signatures through /extensions/v2/ with no lookaside configuration on the client.
  reply.header('X-Registry-Supports-Signatures', '1');
}

function unknownEndpoint(method: string, pathname: string): RegistryError {
  return new RegistryError('NAME_UNKNOWN', `no such endpoint: ${method} ${pathname.slice(0, 200)}`, null, { status: 404 });
}

/** Pull rights of the admitted principal, remembered per namespace path for the request's duration. */
function visibilityFor(iam: Iam, principal: Principal): Visibility {
  const known = new Map<string, Promise<boolean>>();
  return {
    canPull(repository: string) {
      let answer = known.get(repository);
      if (!answer) {
        answer = iam.authorizer.repositoryAccess(principal, repository).then((a) => a.actions.has('pull'));
        known.set(repository, answer);
      }
      return answer;
    },
  };
}

function toRegistryError(error: unknown, request: FastifyRequest): RegistryError {
  if (error instanceof RegistryError) return error;
  if (failedOnDatabase(error, request)) {
    return new RegistryError('UNAVAILABLE', DATABASE_UNAVAILABLE_MESSAGE, null, { headers: { 'Retry-After': String(DATABASE_RETRY_AFTER_SECONDS) } });
  }
  const err = error as NodeJS.ErrnoException & { statusCode?: number };
  if (err.code === 'ERR_STREAM_PREMATURE_CLOSE' || err.code === 'ECONNRESET' || err.message === 'aborted') {
    request.log.info({ err: { code: err.code, message: err.message } }, 'client went away during the request');
    return new RegistryError('BLOB_UPLOAD_INVALID', 'the request body ended before it was complete', null);
  }
  if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
    return new RegistryError('UNSUPPORTED', err.message, null, { status: err.statusCode });
  }
  request.log.error({ err }, 'request failed');
  return new RegistryError('UNKNOWN', 'internal error: the registry could not complete the request', null);
}

async function sendRegistryError(error: RegistryError, request: FastifyRequest, reply: FastifyReply): Promise<void> {
  if (reply.sent || reply.raw.headersSent) return;
  const body = JSON.stringify(error.toBody());
  // A body left unread (a refused upload) is drained or the connection closed by finishUnreadBody.
  reply.code(error.status).headers(error.headers).type('application/json; charset=utf-8').header('Content-Length', Buffer.byteLength(body));
  await reply.send(request.method === 'HEAD' ? undefined : body);
}
