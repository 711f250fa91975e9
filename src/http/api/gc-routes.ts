import type { FastifyInstance } from 'fastify';
import { ProblemError } from '../../errors/problem.js';
import type { Iam } from '../../iam/iam.js';
import { principalLabel } from '../../iam/principal.js';
import { recentRuns } from '../../metadata/gc-runs.js';
import { GcBusyError, type GarbageCollector } from '../../registry/garbage-collector.js';

export interface GcRouteOptions {
  iam: Iam;
  gc: GarbageCollector;
}

/** Garbage collection on demand and its recent runs: registry-wide, so the registry operator's alone. */
export async function gcRoutes(app: FastifyInstance, options: GcRouteOptions): Promise<void> {
  const { iam, gc } = options;

  app.post<{ Querystring: { dryRun?: boolean } }>('/gc', {
    schema: { querystring: { type: 'object', additionalProperties: false, properties: { dryRun: { type: 'boolean', default: false } } } },
  }, async (request) => {
    const principal = await iam.service.requireOperator(request.caller, 'gc.run', 'registry', 'garbage collection');
    const dryRun = request.query.dryRun ?? false;
    try {
      const report = await gc.run({ dryRun, trigger: principalLabel(principal) });
      iam.audit.record({ accountId: principal.accountId, actor: principal, action: 'gc.run', resource: 'registry', outcome: 'success', source: request.caller.source, detail: { ...report } });
      return report;
    } catch (err) {
      if (err instanceof GcBusyError) throw new ProblemError('conflict', err.message);
      throw err;
    }
  });

  app.get<{ Querystring: { limit?: number } }>('/gc', {
    schema: { querystring: { type: 'object', additionalProperties: false, properties: { limit: { type: 'integer', minimum: 1, maximum: 100, default: 20 } } } },
  }, async (request) => {
    await iam.service.requireOperator(request.caller, 'gc.list', 'registry', 'garbage collection history');
    const rows = await recentRuns(iam.db, request.query.limit ?? 20);
    return rows.map((r) => ({
      id: Number(r.id), trigger: r.trigger, dryRun: r.dry_run === 1,
      started: new Date(Number(r.started_at)).toISOString(),
      finished: r.finished_at === null ? null : new Date(Number(r.finished_at)).toISOString(),
      linksRemoved: Number(r.links_removed), blobsRemoved: Number(r.blobs_removed), bytesFreed: Number(r.bytes_freed),
      orphansRemoved: Number(r.orphans_removed), error: r.error,
    }));
  });
}
