import type { FastifyInstance } from 'fastify';
import type { Readiness } from '../ops/readiness.js';

export interface HealthOptions {
  readiness: Readiness;
}

/**
 * Probes, unauthenticated and outside /v2/ and /api/: /livez (the process answers: restart it when
 * not), /readyz (it can serve: send it traffic; 503 with the failing checks when not), /healthz (the
 * same as /readyz, the name HAProxy and older tooling use).
 */
export async function healthRoutes(app: FastifyInstance, options: HealthOptions): Promise<void> {
  app.get('/livez', async (_request, reply) => reply.header('Cache-Control', 'no-store').send({ status: 'ok' }));

  const ready = async (_request: unknown, reply: import('fastify').FastifyReply) => {
    const report = await options.readiness.check();
    return reply.code(report.ready ? 200 : 503).header('Cache-Control', 'no-store')
      .send({ status: report.ready ? 'ready' : 'not ready', checks: report.checks });
  };
  app.get('/readyz', ready);
  app.get('/healthz', ready);
}
