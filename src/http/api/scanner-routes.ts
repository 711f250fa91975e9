import type { FastifyInstance } from 'fastify';
import { ProblemError } from '../../errors/problem.js';
import type { Iam } from '../../iam/iam.js';
import { principalLabel } from '../../iam/principal.js';
import { parseImageReference } from '../../oci/reference.js';
import type { ExemptionService } from '../../scanner/exemptions.js';
import { SEVERITY_ORDER, type SeverityLevel } from '../../scanner/osv/schema.js';
import { filterVulnerabilities } from '../../scanner/report.js';
import type { ScanService } from '../../scanner/scan-service.js';
import type { VulnDb } from '../../scanner/vulndb.js';
import { requireRepository } from './image-routes.js';

export interface ScannerRouteOptions {
  iam: Iam;
  scanner: ScanService;
  exemptions: ExemptionService;
  vulndb: VulnDb;
}

const referenceParam = { type: 'object', required: ['reference'], properties: { reference: { type: 'string', minLength: 1, maxLength: 512 } } } as const;

/** Vulnerability Advisor: reports, SBOMs, exemptions and the state of the advisory data. */
export async function scannerRoutes(app: FastifyInstance, options: ScannerRouteOptions): Promise<void> {
  const { iam, scanner, exemptions, vulndb } = options;

  /** The digest an image reference names, after checking the caller may read it. */
  const resolve = async (caller: Parameters<typeof requireRepository>[1], reference: string) => {
    const ref = parseImageReference(reference);
    await requireRepository(iam, caller, ref.name, 'pull');
    return ref;
  };

  app.get<{ Params: { reference: string }; Querystring: { severity?: SeverityLevel; fixable?: boolean } }>('/images/:reference/report', {
    schema: {
      params: referenceParam,
      querystring: {
        type: 'object', additionalProperties: false,
        properties: {
          severity: { type: 'string', enum: [...SEVERITY_ORDER], description: 'only vulnerabilities at this severity or above (status and counts stay the whole image\'s)' },
          fixable: { type: 'boolean', description: 'only vulnerabilities with a fixed version to upgrade to' },
        },
      },
    },
  }, async (request) => {
    const ref = await resolve(request.caller, request.params.reference);
    const digest = await scanner.digestOf(ref);
    const principal = iam.service.requireAuthenticated(request.caller);
    const view = await scanner.report(ref.name, digest, principal.accountId);
    const { severity, fixable } = request.query;
    return { name: ref.name, ...filterVulnerabilities(view, { ...(severity ? { minSeverity: severity } : {}), ...(fixable ? { fixable } : {}) }) };
  });

  app.get<{ Params: { reference: string } }>('/images/:reference/sbom', { schema: { params: referenceParam } }, async (request, reply) => {
    const ref = await resolve(request.caller, request.params.reference);
    const sbom = await scanner.sbom(ref.name, await scanner.digestOf(ref));
    if (!sbom) throw new ProblemError('conflict', `${ref.name} has no completed scan yet: wait until its security status is known (wharf image list)`);
    return reply.type('application/vnd.cyclonedx+json').send(sbom);
  });

  app.get('/exemptions', async (request) => ({ exemptions: await exemptions.list(iam.service.requireAuthenticated(request.caller).accountId) }));

  app.post<{ Body: { issueId: string; scope: 'account' | 'namespace' | 'repository' | 'image'; namespace?: string; repository?: string; digest?: string; reason: string; expiresAt?: string } }>('/exemptions', {
    schema: {
      body: {
        type: 'object', required: ['issueId', 'scope', 'reason'], additionalProperties: false,
        properties: {
          issueId: { type: 'string', maxLength: 100 }, scope: { type: 'string', enum: ['account', 'namespace', 'repository', 'image'] },
          namespace: { type: 'string', maxLength: 100 }, repository: { type: 'string', maxLength: 255 }, digest: { type: 'string', maxLength: 200 },
          reason: { type: 'string', maxLength: 1000 },
          expiresAt: { type: 'string', maxLength: 40, description: 'ISO 8601 date or date-time after which the issue counts again; omit for no end' },
        },
      },
    },
  }, async (request, reply) => {
    const principal = await iam.service.requireManager(request.caller, 'exemption.add', `exemption ${request.body.issueId}`);
    const created = await exemptions.add(principal.accountId, request.body, principalLabel(principal));
    iam.audit.record({ accountId: principal.accountId, actor: principal, action: 'exemption.add', resource: `${request.body.issueId} (${request.body.scope})`, outcome: 'success', source: request.caller.source, detail: { id: created.id } });
    return reply.code(201).send(created);
  });

  app.delete<{ Params: { id: number } }>('/exemptions/:id', {
    schema: { params: { type: 'object', required: ['id'], properties: { id: { type: 'integer', minimum: 1 } } } },
  }, async (request, reply) => {
    const principal = await iam.service.requireManager(request.caller, 'exemption.remove', `exemption #${request.params.id}`);
    await exemptions.remove(principal.accountId, request.params.id);
    iam.audit.record({ accountId: principal.accountId, actor: principal, action: 'exemption.remove', resource: `exemption #${request.params.id}`, outcome: 'success', source: request.caller.source });
    return reply.code(204).send();
  });

  app.get('/vulndb', {
    schema: {
      description: 'The advisory data the Vulnerability Advisor matches against (the same for every account): advisory counts per ecosystem, '
        + 'each feed source with its last sync, age, record count, ETag and last error, and whether the data is stale (older than scanner.staleAfter).',
    },
  }, async (request) => {
    iam.service.requireAuthenticated(request.caller);
    return vulndb.status();
  });
}
