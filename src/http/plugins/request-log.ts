import { LogController, type FastifyReply, type FastifyRequest } from 'fastify';

/** One structured line per request, written when it completes (fastify's default writes two). */
export class RequestLogController extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    const line = {
      method: request.method,
      url: request.url.length > 512 ? `${request.url.slice(0, 512)}…` : request.url,
      status: reply.statusCode,
      ms: Math.round(reply.elapsedTime * 10) / 10,
      remote: request.ip,
      bytesIn: Number(request.headers['content-length'] ?? 0) || undefined,
      ua: request.headers['user-agent'],
      err: error ? { message: error.message, code: (error as NodeJS.ErrnoException).code } : undefined,
    };
    if (error || reply.statusCode >= 500) request.log.error(line, 'request');
    else request.log.info(line, 'request');
  }
}
