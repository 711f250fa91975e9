import { manifestTooLarge, MAX_MANIFEST_BYTES } from '../../oci/manifest.js';
import { RegistryError } from '../../oci/errors.js';
import { MANIFEST_MEDIA_TYPES, baseMediaType } from '../../oci/media-types.js';
import { readBody } from './body.js';
import { principalLabel } from '../../iam/principal.js';
import { byMethod, eventOrigin, v2Path, type Handler, type HandlerContext } from './handler.js';

type ManifestRoute = { family: 'manifests'; name: string; reference: string };

/**
 * Whether a client's Accept list takes `mediaType`. A list naming no manifest type at all
 * (or no Accept header) takes anything, as older clients expect.
 */
function accepts(acceptHeader: string | undefined, mediaType: string): boolean {
  if (!acceptHeader) return true;
  const accepted = acceptHeader.split(',').map((part) => baseMediaType(part));
  if (accepted.some((t) => t === mediaType || t === '*/*' || t === 'application/*')) return true;
  return !accepted.some((t) => MANIFEST_MEDIA_TYPES.includes(t));
}

async function pull({ registry, route, principal, request, reply }: HandlerContext<ManifestRoute>): Promise<void> {
  const manifest = await registry.manifests.get(route.name, route.reference);
  if (!accepts(request.headers.accept, manifest.mediaType)) {
    throw new RegistryError('MANIFEST_UNKNOWN', `manifest ${route.reference} is a ${manifest.mediaType}, which the Accept header does not list`, { mediaType: manifest.mediaType });
  }
  reply.code(200)
    .header('Content-Type', manifest.mediaType)
    .header('Content-Length', manifest.content.length)
    .header('Docker-Content-Digest', manifest.digest)
    .header('ETag', `"${manifest.digest}"`);
  if (request.method === 'GET') {
    registry.manifests.pulled(route.name, manifest.digest, {
      ...(route.reference.includes(':') ? {} : { tag: route.reference }),
      mediaType: manifest.mediaType, size: manifest.content.length, origin: eventOrigin(principal, request),
    });
  }
  await reply.send(request.method === 'HEAD' ? undefined : manifest.content);
}

async function push({ registry, route, principal, request, reply }: HandlerContext<ManifestRoute>): Promise<void> {
  const content = await readBody(request.raw, MAX_MANIFEST_BYTES, manifestTooLarge);
  const result = await registry.manifests.put(route.name, route.reference, content, request.headers['content-type'], eventOrigin(principal, request));
  reply.code(201)
    .header('Location', v2Path(route.name, 'manifests', result.digest))
    .header('Docker-Content-Digest', result.digest)
    .header('Content-Length', 0);
  if (result.subject) reply.header('OCI-Subject', result.subject);
  await reply.send();
}

async function remove({ registry, route, principal, request, reply }: HandlerContext<ManifestRoute>): Promise<void> {
  await registry.manifests.delete(route.name, route.reference, principalLabel(principal), eventOrigin(principal, request));
  await reply.code(202).header('Content-Length', 0).send();
}

export const manifests: Handler<ManifestRoute> = byMethod({ GET: pull, HEAD: pull, PUT: push, DELETE: remove });
