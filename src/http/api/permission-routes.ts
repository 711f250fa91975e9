import type { FastifyInstance } from 'fastify';
import type { Iam } from '../../iam/iam.js';
import { listNamespaces } from '../../metadata/namespaces.js';

const role = { type: ['string', 'null'], enum: ['reader', 'writer', 'manager', null] } as const;

/**
 * What the caller may do, so a client (the web console) offers only that: the role on the account
 * and on each namespace it sees. The API still checks every request; this only spares people
 * buttons that would be refused.
 */
export async function permissionRoutes(app: FastifyInstance, options: { iam: Iam }): Promise<void> {
  const { iam } = options;

  app.get('/permissions', {
    schema: {
      description: 'Your role on the account and on each namespace you see. Reader: pull; Writer: push, tag, delete and restore images; '
        + 'Manager: also namespaces, quotas, retention, exemptions and IAM (account Managers) or retention (namespace Managers).',
      response: {
        200: {
          type: 'object', required: ['accountRole', 'namespaces'],
          properties: {
            accountRole: role,
            namespaces: { type: 'array', items: { type: 'object', required: ['name', 'role'], properties: { name: { type: 'string' }, role } } },
          },
        },
      },
    },
  }, async (request) => {
    const principal = iam.service.requireAuthenticated(request.caller);
    const accountRole = await iam.authorizer.accountRole(principal, principal.accountId);
    const namespaces = [];
    for (const ns of await listNamespaces(iam.db, principal.accountId)) {
      if (!(await iam.authorizer.canSeeNamespace(principal, principal.accountId, ns.name))) continue;
      namespaces.push({ name: ns.name, role: await iam.authorizer.roleIn(principal, principal.accountId, ns.name, '') });
    }
    return { accountRole, namespaces };
  });
}
