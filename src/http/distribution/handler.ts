import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Registry } from '../../registry/registry.js';
import { RegistryError } from '../../oci/errors.js';
import type { Principal } from '../../iam/principal.js';
import type { EventOrigin } from '../../events/types.js';

/** What the request may see beyond the route it was admitted to (mount sources, catalog entries). */
export interface Visibility {
  canPull(repository: string): Promise<boolean>;
}

export interface HandlerContext<R> {
  registry: Registry;
  /** Who the request acts as (anonymous when authentication is off). */
  principal: Principal;
  visibility: Visibility;
  route: R;
  query: URLSearchParams;
  request: FastifyRequest;
  reply: FastifyReply;
}

export type Handler<R> = (ctx: HandlerContext<R>) => Promise<void>;

/** Dispatches on HTTP method; anything else is 405 with the spec's error body. */
export function byMethod<R>(handlers: Partial<Record<'GET' | 'HEAD' | 'PUT' | 'POST' | 'PATCH' | 'DELETE', Handler<R>>>): Handler<R> {
  return async (ctx) => {
    const handler = handlers[ctx.request.method as keyof typeof handlers];
    if (!handler) {
      throw new RegistryError('UNSUPPORTED', `${ctx.request.method} is not supported here`, { method: ctx.request.method }, {
        headers: { Allow: Object.keys(handlers).join(', ') },
      });
    }
    await handler(ctx);
  };
}

/** Path of a resource under /v2/, for Location headers (relative, as the spec allows). */
export function v2Path(name: string, ...rest: string[]): string {
  return `/v2/${name}/${rest.join('/')}`;
}

/** The request as webhook events report it (Distribution's `request` and `actor`). */
export function eventOrigin(principal: Principal, request: FastifyRequest): EventOrigin {
  return {
    actor: principal.kind === 'anonymous' ? null : principal.name,
    requestId: String(request.id),
    addr: request.ip,
    host: request.host,
    method: request.method,
    userAgent: request.headers['user-agent'] ?? '',
  };
}
