import type { FastifyInstance } from 'fastify';
import { ProblemError } from '../../errors/problem.js';
import type { Iam } from '../../iam/iam.js';
import type { Caller } from '../../iam/iam-service.js';
import { atLeast } from '../../iam/roles.js';
import { principalLabel } from '../../iam/principal.js';
import { findNamespace } from '../../metadata/namespaces.js';
import type { WebhookRow } from '../../metadata/webhooks.js';
import { GlobError } from '../../oci/globs.js';
import { PAYLOAD_FORMATS } from '../../events/payloads.js';
import { EVENT_TYPES } from '../../events/types.js';
import { normalizeSpec, webhookView, WebhookSpecError, type WebhookService, type WebhookSpec } from '../../events/webhooks.js';

export interface WebhookRouteOptions {
  iam: Iam;
  webhooks: WebhookService;
}

const idParam = { type: 'object', required: ['id'], properties: { id: { type: 'integer', minimum: 1 } } } as const;

const webhookSchema = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    url: { type: 'string' },
    namespace: { type: ['string', 'null'], description: 'null: every namespace of the account' },
    format: { type: 'string', enum: [...PAYLOAD_FORMATS] },
    repositories: { type: 'string', description: 'glob over full repository names' },
    events: { type: 'array', items: { type: 'string', enum: [...EVENT_TYPES] } },
    createdBy: { type: 'string' },
    created: { type: 'string', format: 'date-time' },
  },
} as const;

const deliverySchema = {
  type: 'object',
  properties: {
    id: { type: 'integer' }, eventId: { type: 'string' }, eventType: { type: 'string' }, repository: { type: 'string' },
    state: { type: 'string', enum: ['pending', 'delivered', 'failed'] }, attempts: { type: 'integer' },
    responseStatus: { type: ['integer', 'null'] }, lastError: { type: ['string', 'null'] },
    created: { type: 'string' }, nextAttempt: { type: ['string', 'null'] }, finished: { type: ['string', 'null'] },
  },
} as const;

/**
 * /api/v1/webhooks: subscriptions of an account (every namespace) or of one namespace. Managing one
 * needs the Manager role on its scope; another tenant's webhook answers like a missing one.
 */
export async function webhookRoutes(app: FastifyInstance, options: WebhookRouteOptions): Promise<void> {
  const { iam, webhooks } = options;

  /** Whether the caller is Manager of the webhook's scope (the account, or its namespace). */
  const manages = async (caller: Caller, namespace: string | null): Promise<boolean> => {
    const principal = iam.service.requireAuthenticated(caller);
    if (atLeast(await iam.authorizer.accountRole(principal, principal.accountId), 'manager')) return true;
    return namespace !== null && atLeast(await iam.authorizer.roleIn(principal, principal.accountId, namespace, ''), 'manager');
  };

  const scopeOf = (namespace: string | null): string => (namespace ? `namespace ${namespace}` : 'the account');

  /** The caller's webhook `id`, which they manage; others are not found. */
  const managedWebhook = async (caller: Caller, id: number): Promise<WebhookRow> => {
    const principal = iam.service.requireAuthenticated(caller);
    const row = await webhooks.find(id);
    if (!row || Number(row.account_id) !== principal.accountId || !(row.namespace === null || await iam.authorizer.canSeeNamespace(principal, principal.accountId, row.namespace))) {
      throw new ProblemError('not-found', `webhook ${id} is not one of your account's webhooks (wharf webhook list)`);
    }
    if (!(await manages(caller, row.namespace))) {
      throw new ProblemError('forbidden', `webhooks of ${scopeOf(row.namespace)} need the Manager role on it; ask an account Manager`);
    }
    return row;
  };

  app.post<{ Body: WebhookSpec }>('/webhooks', {
    schema: {
      summary: 'Subscribe a receiver to events of the account or of one namespace (Manager role); the answer holds the signing secret, shown only this once',
      body: {
        type: 'object', required: ['url'], additionalProperties: false,
        properties: {
          url: { type: 'string', minLength: 1, maxLength: 2048 },
          namespace: { type: 'string', minLength: 1, maxLength: 100 },
          format: { type: 'string', enum: [...PAYLOAD_FORMATS] },
          repositories: { type: 'string', minLength: 1, maxLength: 128 },
          events: { type: 'array', maxItems: EVENT_TYPES.length, items: { type: 'string' } },
        },
      },
      response: { 201: { ...webhookSchema, properties: { ...webhookSchema.properties, secret: { type: 'string' } } } },
    },
  }, async (request, reply) => {
    const principal = iam.service.requireAuthenticated(request.caller);
    let namespaceId: number | null = null;
    if (request.body.namespace) {
      const ns = await findNamespace(iam.db, request.body.namespace);
      if (!ns || ns.account_id !== principal.accountId || !(await iam.authorizer.canSeeNamespace(principal, principal.accountId, ns.name))) {
        throw new ProblemError('not-found', `namespace ${request.body.namespace} is not one of your account's namespaces`);
      }
      namespaceId = ns.id;
    }
    if (!(await manages(request.caller, request.body.namespace ?? null))) {
      iam.audit.record({ accountId: principal.accountId, actor: principal, action: 'webhook.add', resource: scopeOf(request.body.namespace ?? null), outcome: 'deny', source: request.caller.source });
      throw new ProblemError('forbidden', `webhooks of ${scopeOf(request.body.namespace ?? null)} need the Manager role on it; ask an account Manager${request.body.namespace ? '' : ', or subscribe to one namespace you manage (--namespace)'}`);
    }
    let spec;
    try {
      spec = normalizeSpec(request.body);
    } catch (err) {
      if (err instanceof WebhookSpecError || err instanceof GlobError) throw new ProblemError('bad-request', err.message);
      throw err;
    }
    const created = await webhooks.create(principal.accountId, namespaceId, spec, principalLabel(principal));
    iam.audit.record({ accountId: principal.accountId, actor: principal, action: 'webhook.add', resource: `webhook ${created.id}`, outcome: 'success', source: request.caller.source, detail: { url: created.url.split('?')[0], namespace: created.namespace, events: created.events, repositories: created.repositories } });
    return reply.code(201).send(created);
  });

  app.get('/webhooks', {
    schema: { summary: 'The webhooks the caller manages', response: { 200: { type: 'object', properties: { webhooks: { type: 'array', items: webhookSchema } } } } },
  }, async (request) => {
    const principal = iam.service.requireAuthenticated(request.caller);
    const visible = [];
    for (const row of await webhooks.list(principal.accountId)) {
      if (row.namespace !== null && !(await iam.authorizer.canSeeNamespace(principal, principal.accountId, row.namespace))) continue;
      if (await manages(request.caller, row.namespace)) visible.push(webhookView(row));
    }
    return { webhooks: visible };
  });

  app.get<{ Params: { id: number } }>('/webhooks/:id', { schema: { params: idParam, response: { 200: webhookSchema } } }, async (request) =>
    webhookView(await managedWebhook(request.caller, request.params.id)));

  app.delete<{ Params: { id: number } }>('/webhooks/:id', { schema: { params: idParam } }, async (request, reply) => {
    const row = await managedWebhook(request.caller, request.params.id);
    await webhooks.remove(row.id);
    iam.audit.record({ accountId: Number(row.account_id), actor: request.caller.principal, action: 'webhook.rm', resource: `webhook ${row.id}`, outcome: 'success', source: request.caller.source });
    return reply.code(204).send();
  });

  app.post<{ Params: { id: number } }>('/webhooks/:id/test', {
    schema: { summary: 'Send a signed webhook.test event now and answer how the receiver took it', params: idParam, response: { 200: deliverySchema } },
  }, async (request) => {
    const row = await managedWebhook(request.caller, request.params.id);
    return webhooks.test(row, principalLabel(request.caller.principal));
  });

  app.get<{ Params: { id: number }; Querystring: { limit: number; state?: 'pending' | 'delivered' | 'failed' } }>('/webhooks/:id/deliveries', {
    schema: {
      summary: 'The delivery log of a webhook, newest first',
      params: idParam,
      querystring: {
        type: 'object', additionalProperties: false,
        properties: { limit: { type: 'integer', minimum: 1, maximum: 1000, default: 50 }, state: { type: 'string', enum: ['pending', 'delivered', 'failed'] } },
      },
      response: { 200: { type: 'object', properties: { deliveries: { type: 'array', items: deliverySchema } } } },
    },
  }, async (request) => {
    const row = await managedWebhook(request.caller, request.params.id);
    return { deliveries: await webhooks.deliveries(row.id, request.query.limit, request.query.state) };
  });
}
