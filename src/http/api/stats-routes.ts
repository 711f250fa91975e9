import type { FastifyInstance } from 'fastify';
import type { Iam } from '../../iam/iam.js';
import type { ScanService } from '../../scanner/scan-service.js';
import { listNamespaces } from '../../metadata/namespaces.js';
import { accountFigures, SEVERITIES } from '../../ops/account-figures.js';

/** GET /stats: the figures behind the web console's pictures, read-only. */
export async function statsRoutes(app: FastifyInstance, options: { iam: Iam; scanner: ScanService; now: () => number }): Promise<void> {
  const { iam } = options;

  app.get<{ Querystring: { days?: number } }>('/stats', {
    schema: {
      description: 'Storage per namespace (now and at each day\'s snapshot), manifests pushed and images pulled per UTC day, and open vulnerabilities by severity, '
        + 'over the namespaces you may read whole (a Reader of single repositories sees none of a namespace\'s totals).',
      querystring: { type: 'object', additionalProperties: false, properties: { days: { type: 'integer', minimum: 1, maximum: 90, default: 30 } } },
      response: {
        200: {
          type: 'object', required: ['days', 'namespaces', 'vulnerabilities', 'scannedImages'],
          properties: {
            days: { type: 'array', items: { type: 'object', required: ['day', 'pushes', 'pulls'], properties: { day: { type: 'string' }, pushes: { type: 'integer' }, pulls: { type: 'integer' } } } },
            namespaces: {
              type: 'array',
              items: {
                type: 'object', required: ['name', 'storageBytes', 'history'],
                properties: { name: { type: 'string' }, storageBytes: { type: 'integer' }, history: { type: 'array', items: { type: ['integer', 'null'] } } },
              },
            },
            vulnerabilities: { type: 'object', required: [...SEVERITIES], properties: Object.fromEntries(SEVERITIES.map((s) => [s, { type: 'integer' }])) },
            scannedImages: { type: 'integer' },
          },
        },
      },
    },
  }, async (request) => {
    const principal = iam.service.requireAuthenticated(request.caller);
    const whole: string[] = [];
    for (const ns of await listNamespaces(iam.db, principal.accountId)) {
      if ((await iam.authorizer.readAccess(principal, ns.name)).whole) whole.push(ns.name);
    }
    return accountFigures(iam.db, principal.accountId, whole, options.now(), request.query.days ?? 30,
      (images) => options.scanner.openVulnerabilities(images, principal.accountId));
  });
}
