import type { FastifyInstance } from 'fastify';
import type { Iam } from '../../iam/iam.js';
import { ROLES, type Role } from '../../iam/roles.js';

const idParam = { type: 'object', required: ['id'], properties: { id: { type: 'integer', minimum: 1 } } } as const;
const nameParam = { type: 'object', required: ['name'], properties: { name: { type: 'string', minLength: 1, maxLength: 100 } } } as const;

/** IAM administration: whoami, accounts (operator only), namespaces, users, service IDs, API keys, access groups, policies (the audit trail is in audit-routes). */
export async function iamRoutes(app: FastifyInstance, options: { iam: Iam }): Promise<void> {
  const iam = options.iam.service;

  app.get('/whoami', async (request) => iam.whoami(request.caller));

  app.get('/accounts', async (request) => ({ accounts: await iam.listAccounts(request.caller) }));
  app.post<{ Body: { name: string; owner: { username: string; password: string } } }>('/accounts', {
    schema: {
      body: {
        type: 'object', required: ['name', 'owner'], additionalProperties: false,
        properties: {
          name: { type: 'string', maxLength: 100 },
          owner: { type: 'object', required: ['username', 'password'], additionalProperties: false, properties: { username: { type: 'string', maxLength: 100 }, password: { type: 'string', maxLength: 2000 } } },
        },
      },
    },
  }, async (request, reply) => reply.code(201).send(await iam.createAccount(request.caller, {
    name: request.body.name, ownerUsername: request.body.owner.username, ownerPassword: request.body.owner.password,
  })));

  app.get('/namespaces', async (request) => ({ namespaces: await iam.listNamespaces(request.caller) }));
  app.post<{ Body: { name: string } }>('/namespaces', {
    schema: { body: { type: 'object', required: ['name'], additionalProperties: false, properties: { name: { type: 'string', maxLength: 200 } } } },
  }, async (request, reply) => reply.code(201).send(await iam.addNamespace(request.caller, request.body.name)));
  app.patch<{ Params: { name: string }; Body: { publicPull: boolean } }>('/namespaces/:name', {
    schema: { params: nameParam, body: { type: 'object', required: ['publicPull'], additionalProperties: false, properties: { publicPull: { type: 'boolean' } } } },
  }, async (request) => iam.setNamespacePublicPull(request.caller, request.params.name, request.body.publicPull));
  app.delete<{ Params: { name: string }; Querystring: { force?: boolean } }>('/namespaces/:name', {
    schema: { params: nameParam, querystring: { type: 'object', properties: { force: { type: 'boolean', default: false } } } },
  }, async (request, reply) => {
    await iam.removeNamespace(request.caller, request.params.name, request.query.force ?? false);
    return reply.code(204).send();
  });

  app.get('/iam/users', async (request) => ({ users: await iam.listUsers(request.caller) }));
  app.post<{ Body: { username: string; password: string } }>('/iam/users', {
    schema: { body: { type: 'object', required: ['username', 'password'], additionalProperties: false, properties: { username: { type: 'string', maxLength: 100 }, password: { type: 'string', maxLength: 2000 } } } },
  }, async (request, reply) => reply.code(201).send(await iam.createUser(request.caller, request.body.username, request.body.password)));
  app.put<{ Params: { id: number }; Body: { password: string; currentPassword?: string } }>('/iam/users/:id/password', {
    schema: {
      description: 'Sets a password. Your own: send currentPassword, and log in with your password (not an API key or a token obtained with one). '
        + 'Another user\'s: needs the Manager role and no less authority than theirs (only the owner sets the owner\'s). Ends the user\'s refresh tokens and registry tokens.',
      params: idParam,
      body: {
        type: 'object', required: ['password'], additionalProperties: false,
        properties: {
          password: { type: 'string', maxLength: 2000, description: 'the new password' },
          currentPassword: { type: 'string', maxLength: 2000, description: 'the current password; required to change your own' },
        },
      },
    },
  }, async (request, reply) => {
    await iam.setPassword(request.caller, request.params.id, request.body.password, request.body.currentPassword);
    return reply.code(204).send();
  });
  app.delete<{ Params: { id: number } }>('/iam/users/:id', { schema: { params: idParam } }, async (request, reply) => {
    await iam.deleteUser(request.caller, request.params.id);
    return reply.code(204).send();
  });

  app.get('/iam/service-ids', async (request) => ({ serviceIds: await iam.listServiceIds(request.caller) }));
  app.post<{ Body: { name: string; description?: string } }>('/iam/service-ids', {
    schema: { body: { type: 'object', required: ['name'], additionalProperties: false, properties: { name: { type: 'string', maxLength: 100 }, description: { type: 'string', maxLength: 500 } } } },
  }, async (request, reply) => reply.code(201).send(await iam.createServiceId(request.caller, request.body.name, request.body.description ?? '')));
  app.delete<{ Params: { id: number } }>('/iam/service-ids/:id', { schema: { params: idParam } }, async (request, reply) => {
    await iam.deleteServiceId(request.caller, request.params.id);
    return reply.code(204).send();
  });

  app.get('/iam/api-keys', async (request) => ({ apiKeys: await iam.listApiKeys(request.caller) }));
  app.post<{ Body: { description?: string; serviceId?: number } }>('/iam/api-keys', {
    schema: { body: { type: 'object', additionalProperties: false, properties: { description: { type: 'string', maxLength: 500 }, serviceId: { type: 'integer', minimum: 1 } } } },
  }, async (request, reply) => reply.code(201).header('Cache-Control', 'no-store').send(await iam.createApiKey(request.caller, request.body?.description ?? '', request.body?.serviceId)));
  app.delete<{ Params: { id: number } }>('/iam/api-keys/:id', { schema: { params: idParam } }, async (request, reply) => {
    await iam.revokeApiKey(request.caller, request.params.id);
    return reply.code(204).send();
  });

  app.get('/iam/groups', async (request) => ({ groups: await iam.listGroups(request.caller) }));
  app.post<{ Body: { name: string } }>('/iam/groups', {
    schema: { body: { type: 'object', required: ['name'], additionalProperties: false, properties: { name: { type: 'string', maxLength: 100 } } } },
  }, async (request, reply) => reply.code(201).send(await iam.createGroup(request.caller, request.body.name)));
  app.delete<{ Params: { id: number } }>('/iam/groups/:id', { schema: { params: idParam } }, async (request, reply) => {
    await iam.deleteGroup(request.caller, request.params.id);
    return reply.code(204).send();
  });
  const memberParams = { type: 'object', required: ['id', 'member'], properties: { id: { type: 'integer', minimum: 1 }, member: { type: 'string', maxLength: 40 } } } as const;
  app.put<{ Params: { id: number; member: string } }>('/iam/groups/:id/members/:member', { schema: { params: memberParams } }, async (request, reply) => {
    await iam.setGroupMember(request.caller, request.params.id, request.params.member, true);
    return reply.code(204).send();
  });
  app.delete<{ Params: { id: number; member: string } }>('/iam/groups/:id/members/:member', { schema: { params: memberParams } }, async (request, reply) => {
    await iam.setGroupMember(request.caller, request.params.id, request.params.member, false);
    return reply.code(204).send();
  });

  app.get('/iam/policies', async (request) => ({ policies: await iam.listPolicies(request.caller) }));
  app.post<{ Body: { subject: string; role: string; namespace?: string | null; repository?: string | null } }>('/iam/policies', {
    schema: {
      body: {
        type: 'object', required: ['subject', 'role'], additionalProperties: false,
        properties: {
          subject: { type: 'string', maxLength: 40 },
          role: { type: 'string', enum: [...ROLES, 'Reader', 'Writer', 'Manager'] },
          namespace: { type: ['string', 'null'], maxLength: 100 },
          repository: { type: ['string', 'null'], maxLength: 255 },
        },
      },
    },
  }, async (request, reply) => reply.code(201).send(await iam.createPolicy(request.caller, {
    subject: request.body.subject, role: request.body.role.toLowerCase() as Role, namespace: request.body.namespace ?? null, repository: request.body.repository ?? null,
  })));
  app.delete<{ Params: { id: number } }>('/iam/policies/:id', { schema: { params: idParam } }, async (request, reply) => {
    await iam.deletePolicy(request.caller, request.params.id);
    return reply.code(204).send();
  });
}
