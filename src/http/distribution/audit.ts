import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AuditEntry, AuditLog } from '../../iam/audit-log.js';
import type { Principal } from '../../iam/principal.js';
import { RegistryError } from '../../oci/errors.js';
import type { Registry } from '../../registry/registry.js';
import type { DistributionRoute } from './routes.js';

/**
 * What the audit trail keeps of /v2/ requests: pushes (manifest PUT), pulls (manifest GET, batched),
 * deletes (manifests, tags, blobs), tags moved by a push, and pushes or deletes the registry refused.
 * Blob reads, uploads and mount attempts are parts of a pull or push, not events of their own: a
 * mount from a repository the caller cannot read becomes an ordinary upload and is no denial.
 */
export class DistributionAudit {
  constructor(private readonly audit: AuditLog, private readonly registry: Registry) {}

  /** Before the handler: what a push by tag will replace, to tell a moved tag from a new one. */
  async before(route: DistributionRoute, method: string): Promise<string | null> {
    if (route.family !== 'manifests' || method !== 'PUT' || route.reference.includes(':')) return null;
    return this.registry.manifests.get(route.name, route.reference).then((m) => m.digest, () => null);
  }

  after(route: DistributionRoute, principal: Principal, request: FastifyRequest, reply: FastifyReply, previous: string | null): void {
    if (route.family !== 'manifests' && route.family !== 'blobs') return;
    const base = { accountId: principal.kind === 'anonymous' ? null : principal.accountId, actor: principal, source: request.ip, outcome: 'success' as const };
    const digest = String(reply.getHeader('docker-content-digest') ?? '');
    const method = request.method;
    if (route.family === 'manifests') {
      const tag = route.reference.includes(':') ? undefined : route.reference;
      if (method === 'GET' && reply.statusCode === 200) {
        this.audit.recordBatched({ ...base, action: 'registry.pull', resource: `${route.name}@${digest}`, detail: { digest } });
      } else if (method === 'PUT' && reply.statusCode === 201) {
        this.audit.record({ ...base, action: 'registry.push', resource: tag ? `${route.name}:${tag}` : `${route.name}@${digest}`, detail: { digest, ...(tag ? { tag } : {}) } });
        if (tag && previous && previous !== digest) {
          this.audit.record({ ...base, action: 'registry.tag', resource: `${route.name}:${tag}`, detail: { tag, from: previous, to: digest } });
        }
      } else if (method === 'DELETE' && reply.statusCode === 202) {
        this.audit.record({ ...base, action: 'registry.delete', resource: tag ? `${route.name}:${tag}` : `${route.name}@${route.reference}`, detail: tag ? { tag } : { digest: route.reference } });
      }
    } else if (method === 'DELETE' && reply.statusCode === 202) {
      this.audit.record({ ...base, action: 'registry.delete', resource: `${route.name}@${route.digest}`, detail: { blob: route.digest } });
    }
  }

  /** A push or delete the registry refused (an immutable tag, a quota, a missing blob). */
  failed(route: DistributionRoute, principal: Principal, request: FastifyRequest, error: unknown): void {
    const method = request.method;
    const changing = (route.family === 'manifests' && (method === 'PUT' || method === 'DELETE')) || (route.family === 'blobs' && method === 'DELETE');
    if (!changing || !(error instanceof RegistryError)) return;
    const entry: AuditEntry = {
      accountId: principal.kind === 'anonymous' ? null : principal.accountId, actor: principal, source: request.ip,
      action: method === 'PUT' ? 'registry.push' : 'registry.delete',
      resource: route.family === 'manifests' ? `${route.name}:${route.reference}`.replace(/:(sha\d+:)/, '@$1') : `${route.name}@${route.digest}`,
      outcome: error.code === 'DENIED' ? 'deny' : 'failure',
      detail: { code: error.code, message: error.message.slice(0, 300) },
    };
    this.audit.record(entry);
  }
}
