import type { FastifyInstance } from 'fastify';
import { ProblemError } from '../../errors/problem.js';
import type { Iam } from '../../iam/iam.js';
import type { Caller } from '../../iam/iam-service.js';
import { namespaceOf } from '../../iam/namespace-names.js';
import { principalLabel, type AuthenticatedPrincipal } from '../../iam/principal.js';
import { atLeast } from '../../iam/roles.js';
import { findNamespace } from '../../metadata/namespaces.js';
import { isValidRepositoryName } from '../../oci/names.js';
import type { Enforcement } from '../../enforcement/enforcement.js';
import { describeDenial, PolicyEvaluator } from '../../enforcement/evaluate.js';
import { PolicyError, SEVERITY_LIMITS, type PolicyScope } from '../../enforcement/policy.js';
import type { StoredPolicy } from '../../enforcement/policy-store.js';
import { RegistryFacts } from '../../enforcement/registry-facts.js';
import type { ScanService } from '../../scanner/scan-service.js';
import { requireRepository } from './image-routes.js';

export interface PolicyRouteOptions {
  iam: Iam;
  scanner: ScanService;
  enforcement: Enforcement;
  now: () => number;
}

const globList = { type: 'array', maxItems: 100, items: { type: 'string', minLength: 1, maxLength: 253 } } as const;

/** Documents the rules; parsePolicy checks them with messages that say how to write them. */
const policyBody = {
  type: 'object',
  description: 'Image policy rules (see "Deployment enforcement" in the README). Unknown rules are refused.',
  properties: {
    registries: { ...globList, description: 'cluster-wide default only: hosts of other registries (globs) whose images are admitted' },
    namespaces: { ...globList, description: 'repositories of this registry that are admitted: team-a, team-a/app*, team-*' },
    signedBy: { ...globList, description: 'names of trusted keys; a signature by one of them must verify' },
    vulnerabilities: {
      type: 'object',
      properties: {
        maxSeverity: { type: 'string', description: `one of ${SEVERITY_LIMITS.map((s) => s.toLowerCase()).join(', ')} (any case)` },
        maxScanAgeDays: { type: 'integer', minimum: 1, maximum: 3650 },
        allowUnsupportedOs: { type: 'boolean' },
      },
    },
    requireDigest: { type: 'boolean' },
  },
} as const;

const policyView = {
  type: 'object',
  properties: {
    scope: { type: 'string', enum: ['cluster', 'account', 'namespace', 'repository'] },
    target: { type: 'string' },
    policy: { type: 'object', additionalProperties: true },
    updated: { type: 'string' },
    updatedBy: { type: 'string' },
  },
} as const;

const nsParam = { type: 'object', required: ['name'], properties: { name: { type: 'string', minLength: 1, maxLength: 100 } } } as const;
const repoParam = { type: 'object', required: ['repository'], properties: { repository: { type: 'string', minLength: 1, maxLength: 255 } } } as const;

/** A place a policy applies, with the rights to read and to change it checked. */
interface Place {
  scope: PolicyScope;
  accountId: number | null;
  target: string;
  principal: AuthenticatedPrincipal;
}

/** Image policies of deployment enforcement under /api/v1/policies/images (IAM policies are /iam/policies). */
export async function policyRoutes(app: FastifyInstance, options: PolicyRouteOptions): Promise<void> {
  const { iam, enforcement } = options;
  const store = enforcement.policies;

  const cluster = async (caller: Caller, change: boolean): Promise<Place> => {
    const principal = change
      ? await iam.service.requireOperator(caller, 'image-policy.set', 'cluster-wide image policy', 'changing the cluster-wide default image policy')
      : iam.service.requireAuthenticated(caller);
    return { scope: 'cluster', accountId: null, target: '', principal };
  };
  const account = async (caller: Caller, change: boolean): Promise<Place> => {
    const principal = change ? await iam.service.requireManager(caller, 'image-policy.set', 'account image policy') : iam.service.requireAuthenticated(caller);
    return { scope: 'account', accountId: principal.accountId, target: '', principal };
  };
  const namespace = async (caller: Caller, name: string, change: boolean): Promise<Place> => {
    const principal = iam.service.requireAuthenticated(caller);
    const row = await findNamespace(iam.db, name);
    if (!row || row.account_id !== principal.accountId || !(await iam.authorizer.canSeeNamespace(principal, principal.accountId, name))) {
      throw new ProblemError('not-found', `namespace ${name} is not one of your account's namespaces`);
    }
    if (change && !atLeast(await iam.authorizer.roleIn(principal, principal.accountId, name, ''), 'manager')) {
      iam.audit.record({ accountId: principal.accountId, actor: principal, action: 'image-policy.set', resource: `namespace ${name}`, outcome: 'deny', source: caller.source });
      throw new ProblemError('forbidden', `changing the image policy of namespace ${name} needs the Manager role on it; ask an account Manager`);
    }
    return { scope: 'namespace', accountId: principal.accountId, target: name, principal };
  };
  const repository = async (caller: Caller, name: string, change: boolean): Promise<Place> => {
    if (!isValidRepositoryName(name) || !name.includes('/')) throw new ProblemError('bad-request', `"${name.slice(0, 200)}" is not a repository name: write <namespace>/<repository>`);
    const principal = iam.service.requireAuthenticated(caller);
    const { namespace: ns, path } = namespaceOf(name);
    const row = await findNamespace(iam.db, ns);
    if (!row || row.account_id !== principal.accountId) throw new ProblemError('not-found', `no image repository ${name} in your account`);
    // A policy may be set before the first push: the namespace is the account's, the repository need not exist.
    if (!change) await requireRepository(iam, caller, name, 'pull');
    else if (!atLeast(await iam.authorizer.roleIn(principal, principal.accountId, ns, path), 'manager')) {
      iam.audit.record({ accountId: principal.accountId, actor: principal, action: 'image-policy.set', resource: `repository ${name}`, outcome: 'deny', source: caller.source });
      throw new ProblemError(await iam.authorizer.canSeeNamespace(principal, principal.accountId, ns) ? 'forbidden' : 'not-found',
        `changing the image policy of ${name} needs the Manager role on it; ask an account Manager`);
    }
    return { scope: 'repository', accountId: principal.accountId, target: name, principal };
  };

  const read = async (place: Place): Promise<StoredPolicy> => {
    const found = await store.get(place.scope, place.accountId, place.target);
    if (!found) throw new ProblemError('not-found', `${describePlace(place)} has no image policy: set one with ${setCommand(place)}`);
    return found;
  };
  const write = async (caller: Caller, place: Place, body: unknown): Promise<StoredPolicy> => {
    try {
      const before = await store.get(place.scope, place.accountId, place.target);
      const saved = await store.set(place.scope, place.accountId, place.target, body, principalLabel(place.principal));
      iam.audit.record({ accountId: place.accountId ?? place.principal.accountId, actor: place.principal, action: 'image-policy.set', resource: describePlace(place), outcome: 'success', source: caller.source, detail: { before: before?.policy ?? null, policy: saved.policy } });
      return saved;
    } catch (err) {
      if (err instanceof PolicyError) throw new ProblemError('bad-request', `${err.message} (see "Deployment enforcement" in the README)`);
      throw err;
    }
  };
  const remove = async (caller: Caller, place: Place): Promise<void> => {
    if (!(await store.remove(place.scope, place.accountId, place.target))) throw new ProblemError('not-found', `${describePlace(place)} has no image policy to remove`);
    iam.audit.record({ accountId: place.accountId ?? place.principal.accountId, actor: place.principal, action: 'image-policy.remove', resource: describePlace(place), outcome: 'success', source: caller.source });
  };

  const routes: Array<{ url: string; params?: object; place: (caller: Caller, params: Record<string, string>, change: boolean) => Promise<Place> }> = [
    { url: '/policies/images/cluster', place: (c, _p, change) => cluster(c, change) },
    { url: '/policies/images/account', place: (c, _p, change) => account(c, change) },
    { url: '/policies/images/namespaces/:name', params: nsParam, place: (c, p, change) => namespace(c, p.name!, change) },
    { url: '/policies/images/repositories/:repository', params: repoParam, place: (c, p, change) => repository(c, p.repository!, change) },
  ];
  for (const route of routes) {
    const params = route.params ? { params: route.params } : {};
    app.get<{ Params: Record<string, string> }>(route.url, { schema: { ...params, response: { 200: policyView } } }, async (request) => read(await route.place(request.caller, request.params, false)));
    app.put<{ Params: Record<string, string> }>(route.url, { schema: { ...params, body: policyBody, response: { 200: policyView } } }, async (request) => write(request.caller, await route.place(request.caller, request.params, true), request.body));
    app.delete<{ Params: Record<string, string> }>(route.url, { schema: params }, async (request, reply) => {
      await remove(request.caller, await route.place(request.caller, request.params, true));
      return reply.code(204).send();
    });
  }

  app.get('/policies/images', { schema: { response: { 200: { type: 'object', properties: { policies: { type: 'array', items: policyView } } } } } }, async (request) => {
    const principal = iam.service.requireAuthenticated(request.caller);
    const policies: StoredPolicy[] = [];
    for (const policy of await store.list(principal.accountId)) {
      // As reading each one: Reader on the namespace, or pull on the repository.
      if (policy.scope === 'namespace' && !(await iam.authorizer.canSeeNamespace(principal, principal.accountId, policy.target))) continue;
      if (policy.scope === 'repository' && !(await iam.authorizer.repositoryAccess(principal, policy.target)).actions.has('pull')) continue;
      policies.push(policy);
    }
    return { policies };
  });

  app.post<{ Body: { image: string } }>('/policies/images/check', {
    schema: {
      body: { type: 'object', required: ['image'], additionalProperties: false, properties: { image: { type: 'string', minLength: 1, maxLength: 1024 } } },
      response: {
        200: {
          type: 'object',
          properties: {
            image: { type: 'string' }, allowed: { type: 'boolean' }, digest: { type: 'string' }, pinned: { type: 'string' }, message: { type: 'string' },
            policy: { type: 'object', properties: { scope: { type: 'string' }, target: { type: 'string' } } },
            failures: { type: 'array', items: { type: 'object', properties: { rule: { type: 'string' }, message: { type: 'string' } } } },
          },
        },
      },
    },
  }, async (request) => {
    const principal = iam.service.requireAuthenticated(request.caller);
    // The webhook's question, with the caller's rights: a developer sees what the cluster would see
    // when the cluster's service ID has the same access.
    const evaluator = new PolicyEvaluator({ policies: store, facts: new RegistryFacts(iam.db, iam.authorizer, options.scanner, principal), signatures: enforcement.signatures, now: options.now });
    const decision = await evaluator.evaluate(request.body.image, { accountId: principal.accountId, registryHosts: enforcement.registryHosts(request.host), pinning: false });
    return { ...decision, message: decision.allowed ? `image ${decision.image} is allowed${decision.policy ? ` by ${describePlace({ scope: decision.policy.scope, target: decision.policy.target })}` : ''}` : describeDenial(decision) };
  });
}

function describePlace(place: Pick<Place, 'scope' | 'target'>): string {
  switch (place.scope) {
    case 'cluster': return 'the cluster-wide default';
    case 'account': return 'the account';
    case 'namespace': return `namespace ${place.target}`;
    case 'repository': return `repository ${place.target}`;
  }
}

function setCommand(place: Pick<Place, 'scope' | 'target'>): string {
  const where = place.scope === 'cluster' ? '--cluster' : place.scope === 'account' ? '--account' : `--${place.scope} ${place.target}`;
  return `wharf policy set ${where}`;
}
