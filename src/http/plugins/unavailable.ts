import type { FastifyRequest } from 'fastify';
import { isDatabaseUnavailable } from '../../metadata/unavailable.js';

/**
 * The metadata database down for a moment (a PostgreSQL restart takes a few seconds) is answered
 * 503 with Retry-After on every surface, so clients retry instead of failing the push or pull.
 */
export const DATABASE_RETRY_AFTER_SECONDS = 2;

export const DATABASE_UNAVAILABLE_MESSAGE = `the metadata database is unavailable (restarting or unreachable): retry in ${DATABASE_RETRY_AFTER_SECONDS} seconds`;

/**
 * True (and logged, without a stack: the cause is outside Wharf) when the request failed because the
 * database could not serve it. A reset of the client's own connection is not the database's fault.
 */
export function failedOnDatabase(error: unknown, request: FastifyRequest): boolean {
  // ECONNRESET "aborted" is the request's own stream: the client cut its body short.
  if (!isDatabaseUnavailable(error) || request.raw.socket?.destroyed || (error as Error).message === 'aborted') return false;
  request.log.warn({ err: { code: (error as NodeJS.ErrnoException).code, message: (error as Error).message } }, 'metadata database unavailable; answered 503');
  return true;
}
