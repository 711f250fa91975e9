import { parseDigest } from '../../oci/digest.js';
import { RegistryError } from '../../oci/errors.js';
import { MediaType } from '../../oci/media-types.js';
import { blobDeleteDisabled, blobUnknown } from '../../registry/blobs.js';
import { repositoryUnknown } from '../../registry/discovery.js';
import { manifestDeleteDisabled, manifestUnknown, parseReadReference } from '../../registry/manifests.js';
import { parseContentRange, uploadUnknown } from '../../registry/uploads.js';
import { sendJson } from './discovery.js';
import { denied } from './gate.js';
import { byMethod, type Handler, type HandlerContext } from './handler.js';
import type { DistributionRoute } from './routes.js';
import { uploadId } from './uploads.js';

/**
 * The registry's answers for a repository that does not exist, given without reading anything of it:
 * for a caller the gate admitted to "nothing there" (a free namespace, or another tenant's, for one who
 * could create namespaces). Each handler validates in the order the real one does and throws the same
 * errors, so these answers cannot be told from the registry's own for a missing repository; the
 * integration suite compares the two.
 */

type Route<F extends DistributionRoute['family']> = Extract<DistributionRoute, { family: F }>;

/** Requests that start a push are never answered as absent (the gate claims or refuses them); deny by default all the same. */
const refused: Handler<unknown> = async () => { throw denied(); };

async function tagsList({ registry, route, query }: HandlerContext<Route<'tags'>>): Promise<void> {
  registry.discovery.pageSize(query.get('n') ?? undefined);
  throw repositoryUnknown(route.name);
}

async function manifestPull({ route }: HandlerContext<Route<'manifests'>>): Promise<void> {
  parseReadReference(route.name, route.reference);
  throw manifestUnknown(route.name, route.reference);
}

async function manifestDelete({ registry, route }: HandlerContext<Route<'manifests'>>): Promise<void> {
  parseReadReference(route.name, route.reference);
  if (!registry.ctx.settings.deleteEnabled) throw manifestDeleteDisabled();
  throw manifestUnknown(route.name, route.reference);
}

async function blobPull({ route }: HandlerContext<Route<'blobs'>>): Promise<void> {
  throw blobUnknown(parseDigest(route.digest).value);
}

async function blobDelete({ registry, route }: HandlerContext<Route<'blobs'>>): Promise<void> {
  const digest = parseDigest(route.digest).value;
  if (!registry.ctx.settings.deleteEnabled) throw blobDeleteDisabled();
  throw blobUnknown(digest);
}

/** No upload session can be in a repository that does not exist. */
async function uploadSession({ route, request }: HandlerContext<Route<'uploads'>>): Promise<void> {
  if (request.method === 'PATCH' || request.method === 'PUT') parseContentRange(request.headers['content-range']);
  throw uploadUnknown(uploadId(route));
}

async function uploadStart(ctx: HandlerContext<Route<'uploads'>>): Promise<void> {
  if (ctx.route.uploadId) throw new RegistryError('UNSUPPORTED', 'POST starts an upload at /v2/<name>/blobs/uploads/', null);
  await refused(ctx);
}

/** Nothing refers to a subject in a repository that does not exist: the empty index, as the spec asks. */
async function referrersList({ route, query, request, reply }: HandlerContext<Route<'referrers'>>): Promise<void> {
  parseDigest(route.digest);
  if (query.get('artifactType') !== null) reply.header('OCI-Filters-Applied', 'artifactType');
  await sendJson(reply, request.method, { schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [] }, MediaType.OciIndex);
}

/** No image, so no signatures of it: what the real handler answers for a digest it does not hold. */
async function signaturesOfNothing({ route }: HandlerContext<Route<'signatures'>>): Promise<void> {
  const digest = parseDigest(route.digest).value;
  throw manifestUnknown(route.name, digest);
}

/** The absent answer of each route family, with the methods (and so the Allow header) of the real handlers. */
export const ABSENT: { [F in DistributionRoute['family']]: Handler<Route<F>> } = {
  base: refused,
  catalog: refused,
  tags: byMethod({ GET: tagsList, HEAD: tagsList }),
  manifests: byMethod({ GET: manifestPull, HEAD: manifestPull, PUT: refused, DELETE: manifestDelete }),
  blobs: byMethod({ GET: blobPull, HEAD: blobPull, DELETE: blobDelete }),
  uploads: byMethod({ POST: uploadStart, PATCH: uploadSession, PUT: uploadSession, GET: uploadSession, DELETE: uploadSession }),
  referrers: byMethod({ GET: referrersList, HEAD: referrersList }),
  signatures: byMethod({ GET: signaturesOfNothing, HEAD: signaturesOfNothing, PUT: signaturesOfNothing }),
};
