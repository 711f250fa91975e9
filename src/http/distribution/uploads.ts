import { RegistryError } from '../../oci/errors.js';
import { parseContentRange, type UploadSession } from '../../registry/uploads.js';
import { contentLength, hasBody } from './body.js';
import { byMethod, v2Path, type Handler, type HandlerContext } from './handler.js';

type UploadRoute = { family: 'uploads'; name: string; uploadId?: string };

export function uploadId(route: UploadRoute): string {
  if (!route.uploadId) throw new RegistryError('UNSUPPORTED', 'this method needs an upload URL: start an upload with POST first', null);
  return route.uploadId;
}

/** 202 with where the upload stands, as POST, PATCH and GET answer. */
async function accepted(reply: HandlerContext<UploadRoute>['reply'], session: UploadSession, status = 202): Promise<void> {
  await reply.code(status)
    .header('Location', v2Path(session.repositoryName, 'blobs', 'uploads', session.id))
    .header('Range', `0-${Math.max(session.size - 1, 0)}`)
    .header('Docker-Upload-UUID', session.id)
    .header('Content-Length', 0)
    .send();
}

async function created(reply: HandlerContext<UploadRoute>['reply'], name: string, digest: string): Promise<void> {
  await reply.code(201)
    .header('Location', v2Path(name, 'blobs', digest))
    .header('Docker-Content-Digest', digest)
    .header('Content-Length', 0)
    .send();
}

/** POST: mount (?mount=&from=), monolithic (?digest=), or a new session. */
async function start({ registry, visibility, route, query, request, reply }: HandlerContext<UploadRoute>): Promise<void> {
  if (route.uploadId) throw new RegistryError('UNSUPPORTED', 'POST starts an upload at /v2/<name>/blobs/uploads/', null);
  const mount = query.get('mount');
  const from = query.get('from');
  // Mounting from a repository the caller cannot pull would be an existence oracle: it becomes a plain upload.
  if (mount !== null && from && await visibility.canPull(from)) {
    const blob = await registry.blobs.mount(route.name, mount, from).catch((err: unknown) => {
      // A bad `from` is a failed mount, not an error: the client gets a session instead.
      if (err instanceof RegistryError && err.code === 'NAME_INVALID') return undefined;
      throw err;
    });
    if (blob) return created(reply, route.name, blob.digest);
  }
  const digest = query.get('digest');
  if (digest !== null) {
    const blob = await registry.uploads.putMonolithic(route.name, digest, request.raw, contentLength(request.raw));
    return created(reply, route.name, blob.digest);
  }
  return accepted(reply, await registry.uploads.start(route.name));
}

async function patch({ registry, route, request, reply }: HandlerContext<UploadRoute>): Promise<void> {
  const range = parseContentRange(request.headers['content-range']);
  const session = await registry.uploads.append(route.name, uploadId(route), request.raw, range, contentLength(request.raw));
  await accepted(reply, session);
}

async function complete({ registry, route, query, request, reply }: HandlerContext<UploadRoute>): Promise<void> {
  const range = parseContentRange(request.headers['content-range']);
  const body = hasBody(request.raw) ? request.raw : undefined;
  const blob = await registry.uploads.complete(route.name, uploadId(route), query.get('digest') ?? undefined, body, range, contentLength(request.raw));
  await created(reply, route.name, blob.digest);
}

async function status({ registry, route, reply }: HandlerContext<UploadRoute>): Promise<void> {
  await accepted(reply, await registry.uploads.get(route.name, uploadId(route)), 204);
}

async function cancel({ registry, route, reply }: HandlerContext<UploadRoute>): Promise<void> {
  await registry.uploads.cancel(route.name, uploadId(route));
  await reply.code(204).send();
}

export const uploads: Handler<UploadRoute> = byMethod({ POST: start, PATCH: patch, PUT: complete, GET: status, DELETE: cancel });
