import { eventOrigin } from '../distribution/handler.js';
import type { FastifyInstance } from 'fastify';
import { ProblemError } from '../../errors/problem.js';
import type { Iam } from '../../iam/iam.js';
import type { Caller } from '../../iam/iam-service.js';
import { namespaceOf } from '../../iam/namespace-names.js';
import { principalLabel, type AuthenticatedPrincipal } from '../../iam/principal.js';
import { atLeast, type Action } from '../../iam/roles.js';
import { findNamespace, listNamespaces } from '../../metadata/namespaces.js';
import { parseImageReference } from '../../oci/reference.js';
import type { Registry } from '../../registry/registry.js';
import type { ImageService } from '../../registry/images.js';
import type { ScanService } from '../../scanner/scan-service.js';
import type { SignatureVerifier } from '../../trust/signature-verifier.js';

export interface ImageRouteOptions {
  iam: Iam;
  registry: Registry;
  images: ImageService;
  scanner: ScanService;
  signatures: SignatureVerifier;
  registryHost: (requestHost: string | undefined) => string;
}

/** Throws not-found for what the caller cannot read (another tenant's image looks like no image), forbidden for a missing write right. */
export async function requireRepository(iam: Iam, caller: Caller, repository: string, action: Action): Promise<void> {
  const principal = iam.service.requireAuthenticated(caller);
  const access = await iam.authorizer.repositoryAccess(principal, repository);
  if (!access.actions.has('pull') || access.createsNamespace) {
    throw new ProblemError('not-found', `no image repository ${repository} in your account`);
  }
  if (!access.actions.has(action)) {
    iam.audit.record({ accountId: principal.accountId, actor: principal, action: `image.${action}`, resource: `repository ${repository}`, outcome: 'deny', source: caller.source });
    throw new ProblemError('forbidden', `${action} on ${repository} needs the ${action === 'pull' ? 'Reader' : 'Writer'} role; ask an account Manager`);
  }
}

/** Namespaces of the caller's account it may see, optionally narrowed to one. */
export async function visibleNamespaces(iam: Iam, caller: Caller, only?: string): Promise<string[]> {
  const principal = iam.service.requireAuthenticated(caller);
  const names: string[] = [];
  for (const ns of await listNamespaces(iam.db, principal.accountId)) {
    if (only !== undefined && ns.name !== only) continue;
    if (await iam.authorizer.canSeeNamespace(principal, principal.accountId, ns.name)) names.push(ns.name);
  }
  return names;
}

/** Where a trashed image's namespace stands, and which of its images the caller may see. */
interface TrashNamespace {
  /** active: the account's; removed: nobody's (a restore re-creates it); taken: another account's since. */
  state: 'active' | 'removed' | 'taken';
  visible(repository: string): boolean;
}

/**
 * In a namespace of the account, the caller sees trashed images of the repositories it may read (as
 * GET /images). A namespace the account has removed has no policies left: only its Managers see it.
 */
async function trashNamespace(iam: Iam, principal: AuthenticatedPrincipal, namespace: string): Promise<TrashNamespace> {
  const row = await findNamespace(iam.db, namespace);
  if (row?.account_id === principal.accountId) {
    const access = await iam.authorizer.canSeeNamespace(principal, principal.accountId, namespace)
      ? await iam.authorizer.readAccess(principal, namespace) : undefined;
    return { state: 'active', visible: (repository) => access?.covers(repository) ?? false };
  }
  const manager = atLeast(await iam.authorizer.accountRole(principal, principal.accountId), 'manager');
  return { state: row ? 'taken' : 'removed', visible: () => manager };
}

const referenceParam = { type: 'object', required: ['reference'], properties: { reference: { type: 'string', minLength: 1, maxLength: 512 } } } as const;

/** Images and the trash (the `ibmcloud cr image-*` and `trash-*` commands). */
export async function imageRoutes(app: FastifyInstance, options: ImageRouteOptions): Promise<void> {
  const { iam, images } = options;

  app.get<{ Querystring: { namespace?: string; repository?: string; tag?: string; untagged?: boolean; securityStatus?: string; limit?: number; cursor?: string } }>('/images', {
    schema: {
      querystring: {
        type: 'object', additionalProperties: false,
        properties: {
          namespace: { type: 'string', maxLength: 100 }, repository: { type: 'string', maxLength: 255 }, tag: { type: 'string', maxLength: 128 },
          untagged: { type: 'boolean' }, securityStatus: { type: 'string', maxLength: 40 },
          limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 }, cursor: { type: 'string', pattern: '^[0-9]{1,9}$' },
        },
      },
    },
  }, async (request) => {
    const q = request.query;
    const namespaces = await visibleNamespaces(iam, request.caller, q.namespace);
    const limit = q.limit ?? 100;
    const offset = q.cursor ? Number(q.cursor) : 0;
    const rows = await images.list({ namespaces, repository: q.repository, tag: q.tag, untaggedOnly: q.untagged }, limit + 1, offset);
    const principal = iam.service.requireAuthenticated(request.caller);
    const readable = new Map<string, boolean>();
    const host = options.registryHost(request.host);
    const visible = [];
    const page = [];
    for (const row of rows.slice(0, limit)) {
      if (!readable.has(row.name)) readable.set(row.name, (await iam.authorizer.repositoryAccess(principal, row.name)).actions.has('pull'));
      if (readable.get(row.name)) page.push(row);
    }
    const statuses = await options.scanner.statuses(page, principal.accountId);
    const signatures = await options.signatures.summaries(principal.accountId, page);
    // Every status is computed against the same advisory data: stale data flags them all.
    const freshness = await options.scanner.dataFreshness();
    for (const row of page) {
      const summary = signatures.get(`${row.name}@${row.digest}`);
      const security = statuses.get(`${row.name}@${row.digest}`);
      const item = {
        ...row, repository: `${host}/${row.name}`, securityStatus: security?.status ?? 'Not scanned',
        // The most severe open (not exempt) vulnerability beside the count: "3 Issues", HIGH.
        highestSeverity: security?.highestSeverity ?? null,
        securityDataStale: freshness.stale, ...(freshness.note ? { securityNote: freshness.note } : {}),
        // The Signed column: signatures it carries, and the trusted keys that verified one.
        signatures: summary?.signatures ?? 0, verifiedBy: summary?.verifiedBy ?? [],
      };
      if (q.securityStatus && item.securityStatus.toLowerCase() !== q.securityStatus.toLowerCase()) continue;
      visible.push(item);
    }
    return { images: visible, ...(rows.length > limit ? { next: String(offset + limit) } : {}) };
  });

  app.get<{ Params: { reference: string } }>('/images/:reference', { schema: { params: referenceParam } }, async (request) => {
    const ref = parseImageReference(request.params.reference);
    await requireRepository(iam, request.caller, ref.name, 'pull');
    return images.inspect(ref);
  });

  app.post<{ Body: { source: string; target: string } }>('/images/tags', {
    schema: { body: { type: 'object', required: ['source', 'target'], additionalProperties: false, properties: { source: { type: 'string', maxLength: 512 }, target: { type: 'string', maxLength: 512 } } } },
  }, async (request, reply) => {
    const source = parseImageReference(request.body.source);
    const target = parseImageReference(request.body.target);
    if (target.digest || !target.tag) throw new ProblemError('bad-request', 'the target must be <namespace>/<repository>:<tag>');
    await requireRepository(iam, request.caller, source.name, 'pull');
    if (target.name !== source.name) {
      const principal = iam.service.requireAuthenticated(request.caller);
      const access = await iam.authorizer.repositoryAccess(principal, target.name);
      if (!access.actions.has('push') || access.createsNamespace) throw new ProblemError('not-found', `no namespace for ${target.name} in your account where you may push`);
    } else {
      await requireRepository(iam, request.caller, source.name, 'push');
    }
    const result = await images.tag(source, { name: target.name, tag: target.tag }, eventOrigin(request.caller.principal, request));
    iam.audit.record({ accountId: iam.service.requireAuthenticated(request.caller).accountId, actor: request.caller.principal, action: 'image.tag', resource: `${target.name}:${target.tag}`, outcome: 'success', source: request.caller.source, detail: { digest: result.digest } });
    return reply.code(201).send(result);
  });

  app.delete<{ Params: { reference: string } }>('/images/:reference', { schema: { params: referenceParam } }, async (request, reply) => {
    const ref = parseImageReference(request.params.reference);
    await requireRepository(iam, request.caller, ref.name, 'delete');
    await images.remove(ref, principalLabel(request.caller.principal), eventOrigin(request.caller.principal, request));
    const { principal } = request.caller;
    iam.audit.record({ accountId: principal.kind === 'anonymous' ? null : principal.accountId, actor: principal, action: 'image.delete', resource: `image ${request.params.reference}`, outcome: 'success', source: request.caller.source });
    return reply.code(204).send();
  });

  app.get('/trash', async (request) => {
    const principal = iam.service.requireAuthenticated(request.caller);
    const seen = new Map<string, TrashNamespace>();
    const items = [];
    for (const item of await images.listTrash(principal.accountId)) {
      const namespace = namespaceOf(item.name).namespace;
      if (!seen.has(namespace)) seen.set(namespace, await trashNamespace(iam, principal, namespace));
      const view = seen.get(namespace)!;
      if (view.visible(item.name)) items.push({ ...item, namespaceState: view.state });
    }
    return { items };
  });

  const trashedImageBody = { type: 'object', required: ['image'], additionalProperties: false, properties: { image: { type: 'string', maxLength: 512 } } } as const;

  /**
   * The trashed image a request names, with the caller's view of its namespace: in an active namespace
   * the caller needs `action` on the repository; in a removed or taken one, to be an account Manager.
   */
  const trashedImageFor = async (caller: Caller, image: string, action: Action, doing: string) => {
    const ref = parseImageReference(image);
    if (!ref.digest) throw new ProblemError('bad-request', `${doing} needs the digest: <namespace>/<repository>@sha256:… (see wharf trash list)`);
    const principal = iam.service.requireAuthenticated(caller);
    const namespace = namespaceOf(ref.name).namespace;
    const view = await trashNamespace(iam, principal, namespace);
    if (view.state === 'active') await requireRepository(iam, caller, ref.name, action);
    else if (!view.visible(ref.name)) throw new ProblemError('not-found', `no image repository ${ref.name} in your account`);
    return { name: ref.name, digest: ref.digest, namespace, principal, state: view.state };
  };

  app.post<{ Body: { image: string } }>('/trash/remove', {
    schema: {
      description: 'Removes a trashed image of your account for good (an index with its platforms): your storage usage goes down now, '
        + 'the bytes at the next garbage collection. Needs the delete right on the repository (account Managers, for a removed namespace).',
      body: trashedImageBody,
    },
  }, async (request) => {
    const { name, digest, principal } = await trashedImageFor(request.caller, request.body.image, 'delete', 'removing from the trash');
    const removed = await images.removeFromTrash(principal.accountId, name, digest);
    iam.audit.record({ accountId: principal.accountId, actor: principal, action: 'trash.remove', resource: `image ${name}@${digest}`, outcome: 'success', source: request.caller.source });
    return removed;
  });

  app.post<{ Body: { image: string } }>('/trash/restore', {
    schema: {
      description: 'Restores a trashed image of your account with its tags. When its namespace was removed, an account Manager\'s restore re-creates it '
        + '(409 when another account has taken the name since).',
      body: trashedImageBody,
    },
  }, async (request) => {
    const { name, digest, namespace, principal, state } = await trashedImageFor(request.caller, request.body.image, 'push', 'restore');
    if (state === 'taken') {
      const trashed = await images.trashed(principal.accountId, name, digest);
      throw new ProblemError('conflict', `namespace ${namespace} was removed from your account and another account now uses the name, so ${name}@${digest} cannot be restored there; `
        + `it stays in your trash until ${new Date(trashed.expires_at).toISOString()} (ask the registry operator if the name must come back)`);
    }
    if (state === 'removed') {
      await images.trashed(principal.accountId, name, digest);
      // The trash is the account's: restoring an image of a removed namespace brings the namespace back.
      await iam.service.addNamespace(request.caller, namespace);
    }
    const restored = await images.restore(principal.accountId, name, digest);
    iam.audit.record({ accountId: principal.accountId, actor: principal, action: 'trash.restore', resource: `image ${name}@${digest}`, outcome: 'success', source: request.caller.source, ...(state === 'removed' ? { detail: { namespaceCreated: true } } : {}) });
    return state === 'removed' ? { ...restored, namespaceCreated: true } : restored;
  });
}
