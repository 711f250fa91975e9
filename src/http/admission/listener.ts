import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { TLS_MIN_VERSION, type TlsCredentials } from '../tls.js';
import { admissionPlugin, type AdmissionOptions } from './plugin.js';

/**
 * The listener of enforcement.listen: only the admission webhook, with its own certificate
 * (enforcement.tlsCert: the name the cluster calls it by, e.g. a Service's DNS name, signed by the
 * CA in the webhook configuration's caBundle), so the registry's public certificate need not name it.
 */
export async function listenForAdmission(options: AdmissionOptions & { address: string; tls?: TlsCredentials; logger: Logger }): Promise<FastifyInstance> {
  const split = options.address.lastIndexOf(':');
  const host = options.address.slice(0, split).replace(/^\[|\]$/g, '');
  const port = Number(options.address.slice(split + 1));
  const app = Fastify({
    loggerInstance: options.logger as FastifyBaseLogger,
    keepAliveTimeout: 72_000,
    forceCloseConnections: 'idle',
    ...(options.tls ? { https: { cert: options.tls.cert, key: options.tls.key, minVersion: TLS_MIN_VERSION } } : {}),
  } as Parameters<typeof Fastify>[0]) as unknown as FastifyInstance;
  app.setNotFoundHandler(async (request, reply) => reply.code(404).send({ message: `only POST /admission/validate and /admission/mutate are served here, not ${request.method} ${request.url.split('?')[0]}` }));
  await app.register(admissionPlugin, options);
  await app.listen({ host, port });
  return app;
}
