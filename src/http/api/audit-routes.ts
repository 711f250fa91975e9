import type { FastifyInstance } from 'fastify';
import { ProblemError } from '../../errors/problem.js';
import type { Iam } from '../../iam/iam.js';
import type { AuditFilter } from '../../metadata/audit.js';

interface AuditQuery {
  limit?: number;
  cursor?: string;
  before?: number;
  since?: string;
  until?: string;
  principal?: string;
  action?: string;
  namespace?: string;
  outcome?: string;
}

const eventSchema = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    at: { type: 'string', format: 'date-time' },
    actor: { type: 'string', description: '`user alice`, `service ci`, `anonymous`, or `login <name>` for a login that named no known principal' },
    action: { type: 'string', description: 'login, token.issue, registry.push, registry.pull, registry.delete, registry.tag, image.tag, image.delete, trash.restore, policy.create, quota.set, …' },
    resource: { type: 'string' },
    outcome: { type: 'string', enum: ['allow', 'deny', 'success', 'failure'] },
    source: { type: 'string', description: 'client address' },
    requestId: { type: 'string', nullable: true, description: 'the request ID, as in the server log and the X-Request-Id header' },
    namespace: { type: 'string', nullable: true },
    count: { type: 'integer', description: 'identical events this one stands for (pulls and logins are batched)' },
    detail: { type: 'object', nullable: true, additionalProperties: true },
  },
} as const;

function instant(text: string | undefined, name: string): number | undefined {
  if (text === undefined) return undefined;
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw new ProblemError('bad-request', `${name} must be a date and time such as 2026-11-30T12:00:00Z; "${text}" is not one`);
  return ms;
}

/** GET /api/v1/audit: the caller's account's audit trail, newest first, filtered and paged by cursor. */
export async function auditRoutes(app: FastifyInstance, options: { iam: Iam }): Promise<void> {
  const { iam } = options;
  app.get<{ Querystring: AuditQuery }>('/audit', {
    schema: {
      description: 'Audit events of your account, newest first (Managers only). Follow `next` (or the Link header) with `cursor` for older ones.',
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: {
          limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
          cursor: { type: 'string', pattern: '^[0-9]{1,15}$', description: 'the `next` of the previous page' },
          before: { type: 'integer', minimum: 1, description: 'events with an id below this one (older form of cursor)' },
          since: { type: 'string', maxLength: 40, description: 'date-time: events at or after it' },
          until: { type: 'string', maxLength: 40, description: 'date-time: events before it' },
          principal: { type: 'string', maxLength: 200, description: 'a user or service ID name, or `user <name>` / `service <name>`' },
          action: { type: 'string', minLength: 1, pattern: '^[a-z.-]{0,60}\\*?$', description: 'an action, or a prefix ending in * (registry.*; * alone for all)' },
          namespace: { type: 'string', maxLength: 200 },
          outcome: { type: 'string', enum: ['allow', 'deny', 'success', 'failure'] },
        },
      },
      response: {
        200: { type: 'object', properties: { events: { type: 'array', items: eventSchema }, next: { type: 'string' } } },
      },
    },
  }, async (request, reply) => {
    const q = request.query;
    const filter: AuditFilter = {};
    const before = q.cursor !== undefined ? Number(q.cursor) : q.before;
    if (before !== undefined) filter.before = before;
    const since = instant(q.since, 'since');
    const until = instant(q.until, 'until');
    if (since !== undefined) filter.since = since;
    if (until !== undefined) filter.until = until;
    if (q.principal) filter.principal = q.principal;
    if (q.action) filter.action = q.action;
    if (q.namespace) filter.namespace = q.namespace;
    if (q.outcome) filter.outcome = q.outcome;
    const limit = q.limit ?? 100;
    const page = await iam.service.auditEvents(request.caller, limit, filter);
    if (page.next) {
      const params = new URLSearchParams();
      for (const [key, value] of Object.entries(q)) if (value !== undefined && key !== 'cursor' && key !== 'before') params.set(key, String(value));
      params.set('limit', String(limit));
      params.set('cursor', page.next);
      reply.header('Link', `</api/v1/audit?${params}>; rel="next"`);
    }
    return page.next ? { events: page.events, next: page.next } : { events: page.events };
  });
}
