import type { FastifyInstance } from 'fastify';
import { ProblemError } from '../../errors/problem.js';
import type { Iam } from '../../iam/iam.js';
import type { Caller } from '../../iam/iam-service.js';
import { atLeast, type Role } from '../../iam/roles.js';
import { findNamespace } from '../../metadata/namespaces.js';
import { principalLabel } from '../../iam/principal.js';
import type { QuotaChange, QuotaService } from '../../ops/quotas.js';
import type { RetentionService } from '../../ops/retention.js';
import { GlobError } from '../../oci/globs.js';
import { immutabilityRules, MAX_RULES, setImmutabilityRules, type ImmutableTagRule } from '../../registry/immutability.js';

export interface OpsRouteOptions {
  iam: Iam;
  quotas: QuotaService;
  retention: RetentionService;
}

const nsParam = { type: 'object', required: ['name'], properties: { name: { type: 'string', minLength: 1, maxLength: 100 } } } as const;
const dryRunQuery = { type: 'object', additionalProperties: false, properties: { dryRun: { type: 'boolean', default: false } } } as const;

const ruleSchema = {
  type: 'object', required: ['tags'], additionalProperties: false,
  properties: { repository: { type: 'string', minLength: 1, maxLength: 128, default: '**' }, tags: { type: 'string', minLength: 1, maxLength: 128 } },
} as const;

/** Quotas of the account, retention, pruning and tag immutability of namespaces. */
export async function opsRoutes(app: FastifyInstance, options: OpsRouteOptions): Promise<void> {
  const { iam, quotas, retention } = options;

  /** The caller's namespace with at least `role` on it; another tenant's answers like a missing one. */
  const namespaceWithRole = async (caller: Caller, name: string, role: Role) => {
    const principal = iam.service.requireAuthenticated(caller);
    const row = await findNamespace(iam.db, name);
    if (!row || row.account_id !== principal.accountId || !(await iam.authorizer.canSeeNamespace(principal, principal.accountId, name))) {
      throw new ProblemError('not-found', `namespace ${name} is not one of your account's namespaces`);
    }
    if (!atLeast(await iam.authorizer.roleIn(principal, principal.accountId, name, ''), role)) {
      throw new ProblemError('forbidden', `this needs the ${role[0]!.toUpperCase()}${role.slice(1)} role on namespace ${name}; ask an account Manager`);
    }
    return row;
  };

  app.get('/quota', async (request) => quotas.view(iam.service.requireAuthenticated(request.caller).accountId));

  app.put<{ Body: QuotaChange }>('/quota', {
    schema: {
      body: {
        type: 'object', additionalProperties: false, minProperties: 1,
        properties: {
          storageBytes: { type: ['integer', 'null'], minimum: 0 },
          pullBytesPerMonth: { type: ['integer', 'null'], minimum: 0 },
          publicPullBytesPerMonth: { type: ['integer', 'null'], minimum: 0 },
        },
      },
    },
  }, async (request) => {
    const principal = await iam.service.requireManager(request.caller, 'quota.set', 'quota');
    const view = await quotas.set(principal.accountId, request.body);
    iam.audit.record({ accountId: principal.accountId, actor: principal, action: 'quota.set', resource: 'quota', outcome: 'success', source: request.caller.source, detail: request.body });
    return view;
  });

  app.get<{ Params: { name: string } }>('/namespaces/:name/retention', { schema: { params: nsParam } }, async (request) => {
    const row = await namespaceWithRole(request.caller, request.params.name, 'reader');
    return { namespace: row.name, ...(await retention.get(row.id)) };
  });

  app.put<{ Params: { name: string }; Querystring: { dryRun?: boolean }; Body: { keepImages: number | null; removeUntagged?: boolean } }>('/namespaces/:name/retention', {
    schema: {
      params: nsParam,
      querystring: dryRunQuery,
      body: { type: 'object', required: ['keepImages'], additionalProperties: false, properties: { keepImages: { type: ['integer', 'null'], minimum: 0 }, removeUntagged: { type: 'boolean' } } },
    },
  }, async (request) => {
    const row = await namespaceWithRole(request.caller, request.params.name, 'manager');
    const current = await retention.get(row.id);
    const proposed = { keepImages: request.body.keepImages, removeUntagged: request.body.removeUntagged ?? current.removeUntagged };
    if (request.query.dryRun) {
      // What the policy would move to the trash at its first run, so a client can ask before setting it.
      const outcome = await retention.run(row.name, proposed, true, '');
      return { namespace: row.name, ...proposed, dryRun: true, ...outcome };
    }
    const policy = await retention.set(row.id, proposed);
    iam.audit.record({ accountId: row.account_id, actor: request.caller.principal, action: 'retention.set', resource: `namespace ${row.name}`, outcome: 'success', source: request.caller.source, detail: { ...policy } });
    return { namespace: row.name, ...policy };
  });

  app.post<{ Params: { name: string }; Querystring: { dryRun?: boolean } }>('/namespaces/:name/retention/run', {
    schema: { params: nsParam, querystring: dryRunQuery },
  }, async (request) => {
    const row = await namespaceWithRole(request.caller, request.params.name, 'manager');
    const policy = await retention.get(row.id);
    if (policy.keepImages === null && !policy.removeUntagged) throw new ProblemError('conflict', `namespace ${row.name} has no retention policy: set one first (wharf retention set)`);
    const dryRun = request.query.dryRun ?? false;
    const outcome = await retention.run(row.name, policy, dryRun, `${principalLabel(request.caller.principal)} (retention)`);
    if (!dryRun) iam.audit.record({ accountId: row.account_id, actor: request.caller.principal, action: 'retention.run', resource: `namespace ${row.name}`, outcome: 'success', source: request.caller.source, detail: { removed: outcome.removed.length } });
    return { namespace: row.name, dryRun, ...outcome };
  });

  app.post<{ Params: { name: string }; Querystring: { dryRun?: boolean } }>('/namespaces/:name/prune-untagged', {
    schema: { params: nsParam, querystring: dryRunQuery },
  }, async (request) => {
    const row = await namespaceWithRole(request.caller, request.params.name, 'writer');
    const dryRun = request.query.dryRun ?? false;
    const outcome = await retention.pruneUntagged(row.name, dryRun, `${principalLabel(request.caller.principal)} (prune-untagged)`);
    if (!dryRun) iam.audit.record({ accountId: row.account_id, actor: request.caller.principal, action: 'retention.prune-untagged', resource: `namespace ${row.name}`, outcome: 'success', source: request.caller.source, detail: { removed: outcome.removed.length } });
    return { namespace: row.name, dryRun, ...outcome };
  });

  app.get<{ Params: { name: string } }>('/namespaces/:name/immutability', { schema: { params: nsParam } }, async (request) => {
    const row = await namespaceWithRole(request.caller, request.params.name, 'reader');
    return { namespace: row.name, rules: await immutabilityRules(iam.db, row.name) };
  });

  app.put<{ Params: { name: string }; Body: { rules: ImmutableTagRule[] } }>('/namespaces/:name/immutability', {
    schema: {
      params: nsParam,
      body: { type: 'object', required: ['rules'], additionalProperties: false, properties: { rules: { type: 'array', maxItems: MAX_RULES, items: ruleSchema } } },
    },
  }, async (request) => {
    const row = await namespaceWithRole(request.caller, request.params.name, 'manager');
    const rules = request.body.rules.map((r) => ({ repository: r.repository ?? '**', tags: r.tags }));
    const before = await immutabilityRules(iam.db, row.name);
    try {
      await setImmutabilityRules(iam.db, row.id, rules);
    } catch (err) {
      if (err instanceof GlobError) throw new ProblemError('bad-request', `${err.message} (see "Immutable tags" in the README)`);
      throw err;
    }
    iam.audit.record({ accountId: row.account_id, actor: request.caller.principal, action: 'immutability.set', resource: `namespace ${row.name}`, outcome: 'success', source: request.caller.source, detail: { before, rules } });
    return { namespace: row.name, rules: await immutabilityRules(iam.db, row.name) };
  });
}
