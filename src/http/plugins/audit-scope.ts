import { AsyncResource } from 'node:async_hooks';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { auditRequests } from '../../iam/audit-log.js';

const scopes = new WeakMap<FastifyRequest, AsyncResource>();

/**
 * Runs each request inside its audit scope, so whatever it records carries its request ID. The body
 * parser reads on the socket's callbacks, which lose the scope: the handler is re-entered into it
 * after parsing (as @fastify/request-context does).
 */
export function enterAuditScope(app: FastifyInstance): void {
  app.addHook('onRequest', (request, _reply, done) => {
    auditRequests.run({ requestId: request.id }, () => {
      const scope = new AsyncResource('wharf-audit-scope');
      scopes.set(request, scope);
      scope.runInAsyncScope(done, request.raw);
    });
  });
  app.addHook('preValidation', (request, _reply, done) => {
    const scope = scopes.get(request);
    if (scope) scope.runInAsyncScope(done, request.raw);
    else done();
  });
}
