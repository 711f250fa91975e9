import type { FastifyInstance } from 'fastify';
import { ProblemError } from '../../errors/problem.js';
import type { Iam } from '../../iam/iam.js';
import type { Caller } from '../../iam/iam-service.js';
import { principalLabel } from '../../iam/principal.js';
import { atLeast } from '../../iam/roles.js';
import { findNamespace } from '../../metadata/namespaces.js';
import { parseImageReference } from '../../oci/reference.js';
import type { Registry } from '../../registry/registry.js';
import { TrustKeyService, type NewKey } from '../../trust/trust-key-service.js';
import { verifyImageSignatures } from '../../trust/verify-image.js';
import { requireRepository } from './image-routes.js';

export interface TrustRouteOptions {
  iam: Iam;
  registry: Registry;
}

const keyView = {
  type: 'object',
  properties: {
    name: { type: 'string' }, kind: { type: 'string', enum: ['gpg', 'sigstore', 'x509'] }, namespace: { type: ['string', 'null'] },
    fingerprint: { type: 'string' }, identities: { type: 'array', items: { type: 'string' } }, publicKey: { type: 'string' },
    created: { type: 'string' }, createdBy: { type: 'string' },
  },
} as const;

const verdictView = {
  type: 'object',
  properties: {
    format: { type: 'string', enum: ['simple-signing', 'cosign', 'notation'] }, kind: { type: 'string', enum: ['signature', 'attestation'] },
    source: { type: 'string', enum: ['signature-api', 'tag', 'referrer'] }, manifest: { type: 'string' },
    verified: { type: 'boolean' }, key: { type: ['string', 'null'] }, reason: { type: 'string' }, signer: { type: 'string' },
    identity: { type: 'string' }, keyId: { type: 'string' }, predicateType: { type: 'string' },
  },
} as const;

const nameParam = { type: 'object', required: ['name'], properties: { name: { type: 'string', minLength: 1, maxLength: 64 } } } as const;

/** Trusted signing keys of the account (Managers change them, anyone of the account reads them) and the signatures of images. */
export async function trustRoutes(app: FastifyInstance, options: TrustRouteOptions): Promise<void> {
  const { iam, registry } = options;
  const keys = new TrustKeyService(iam.db, registry.ctx.now);

  /** An account key needs an account Manager; a namespace key, a Manager of that namespace of the caller's account. */
  const requireKeyManager = async (caller: Caller, namespace: string | null, action: string, resource: string) => {
    if (namespace === null) return iam.service.requireManager(caller, action, resource);
    const principal = iam.service.requireAuthenticated(caller);
    const row = await findNamespace(iam.db, namespace);
    if (!row || row.account_id !== principal.accountId || !(await iam.authorizer.canSeeNamespace(principal, principal.accountId, namespace))) {
      throw new ProblemError('not-found', `namespace ${namespace} is not one of your account's namespaces`);
    }
    if (!atLeast(await iam.authorizer.roleIn(principal, principal.accountId, namespace, ''), 'manager')) {
      iam.audit.record({ accountId: principal.accountId, actor: principal, action, resource, outcome: 'deny', source: caller.source });
      throw new ProblemError('forbidden', `changing the trusted keys of namespace ${namespace} needs the Manager role on it; ask an account Manager`);
    }
    return principal;
  };

  app.get('/trust/keys', {
    schema: {
      description: 'The public keys your account trusts to sign images: account-wide ones, and those of the namespaces you can see.',
      response: { 200: { type: 'object', properties: { keys: { type: 'array', items: keyView } } } },
    },
  }, async (request) => {
    const principal = iam.service.requireAuthenticated(request.caller);
    const visible = [];
    for (const key of await keys.list(principal.accountId)) {
      if (key.namespace === null || await iam.authorizer.canSeeNamespace(principal, principal.accountId, key.namespace)) visible.push(key);
    }
    return { keys: visible };
  });

  app.post<{ Body: NewKey }>('/trust/keys', {
    schema: {
      description: 'Trusts a public key to sign the account\'s images (or one namespace\'s): kind gpg takes an armored OpenPGP public key, '
        + 'kind sigstore a PEM ECDSA P-256 or Ed25519 public key (cosign.pub), kind x509 a PEM CA certificate (notation). Needs the Manager role (on the namespace for a namespace key).',
      body: {
        type: 'object', required: ['name', 'kind', 'publicKey'], additionalProperties: false,
        properties: {
          name: { type: 'string', minLength: 1, maxLength: 64 }, kind: { type: 'string', enum: ['gpg', 'sigstore', 'x509'] },
          publicKey: { type: 'string', minLength: 1, maxLength: 65536 }, namespace: { type: ['string', 'null'], minLength: 1, maxLength: 100, default: null },
        },
      },
      response: { 201: keyView },
    },
  }, async (request, reply) => {
    const body = { ...request.body, namespace: request.body.namespace ?? null };
    const resource = `trust key ${body.name}`;
    const principal = await requireKeyManager(request.caller, body.namespace, 'trust.key.add', resource);
    const view = await keys.add(principal.accountId, body, principalLabel(principal));
    iam.audit.record({ accountId: principal.accountId, actor: principal, action: 'trust.key.add', resource, outcome: 'success', source: request.caller.source, detail: { kind: view.kind, namespace: view.namespace, fingerprint: view.fingerprint } });
    return reply.code(201).send(view);
  });

  app.delete<{ Params: { name: string } }>('/trust/keys/:name', { schema: { params: nameParam } }, async (request, reply) => {
    const principal = iam.service.requireAuthenticated(request.caller);
    const row = await keys.find(principal.accountId, request.params.name);
    if (row.namespace !== null && !(await iam.authorizer.canSeeNamespace(principal, principal.accountId, row.namespace))) {
      throw new ProblemError('not-found', `your account has no trusted key named ${row.name} (see wharf trust key list)`);
    }
    const resource = `trust key ${row.name}`;
    await requireKeyManager(request.caller, row.namespace, 'trust.key.remove', resource);
    await keys.remove(principal.accountId, row.name);
    iam.audit.record({ accountId: principal.accountId, actor: principal, action: 'trust.key.remove', resource, outcome: 'success', source: request.caller.source, detail: { fingerprint: row.fingerprint } });
    return reply.code(204).send();
  });

  app.get<{ Params: { reference: string } }>('/images/:reference/signatures', {
    schema: {
      description: 'The signatures and attestations an image carries (signature API, cosign tags and referrers, notation), each verified against the keys '
        + 'your account trusts for the image\'s namespace. Needs the Reader role on the repository.',
      params: { type: 'object', required: ['reference'], properties: { reference: { type: 'string', minLength: 1, maxLength: 512 } } },
      response: {
        200: {
          type: 'object',
          properties: { image: { type: 'string' }, digest: { type: 'string' }, verified: { type: 'boolean' }, verifiedBy: { type: 'array', items: { type: 'string' } }, signatures: { type: 'array', items: verdictView } },
        },
      },
    },
  }, async (request) => {
    const ref = parseImageReference(request.params.reference);
    await requireRepository(iam, request.caller, ref.name, 'pull');
    const principal = iam.service.requireAuthenticated(request.caller);
    const manifest = await registry.manifests.get(ref.name, ref.digest ?? ref.tag!);
    const signatures = await verifyImageSignatures(registry.ctx, principal.accountId, ref.name, manifest.digest);
    const verifiedBy = [...new Set(signatures.filter((s) => s.verified && s.key).map((s) => s.key!))].sort();
    return { image: `${ref.name}@${manifest.digest}`, digest: manifest.digest, verified: verifiedBy.length > 0, verifiedBy, signatures };
  });
}
