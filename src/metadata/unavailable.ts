/**
 * Whether an error means the metadata database cannot serve right now (PostgreSQL restarting or
 * failing over, unreachable, out of connections; SQLite locked by another process or failing I/O)
 * rather than a fault of the request or of Wharf. Such requests are worth retrying: the HTTP layer
 * answers them 503 with Retry-After instead of 500.
 */

/** Socket errors of the connection to PostgreSQL. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);

/**
 * PostgreSQL SQLSTATEs: class 08 (connection exception), 57P01 admin_shutdown, 57P02 crash_shutdown,
 * 57P03 cannot_connect_now (starting up or shutting down), 53300 too_many_connections.
 */
const SQLSTATE = /^(08[0-9A-Z]{3}|57P0[123]|53300)$/;

/** What node-postgres says when a connection ends under a query or cannot be had from the pool. */
const PG_MESSAGES = [
  /^Connection terminated/,
  /^timeout exceeded when trying to connect$/,
  /is not queryable$/,
];

/** SQLite: the database is locked by another connection past busy_timeout, or the disk failed an I/O. */
const SQLITE_CODE = /^SQLITE_(BUSY|IOERR)/;

export function isDatabaseUnavailable(error: unknown): boolean {
  // node-postgres and the pool wrap the socket's error as `cause` in places; follow a few links.
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current instanceof Error; depth++) {
    const code = (current as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && (NETWORK_CODES.has(code) || SQLSTATE.test(code) || SQLITE_CODE.test(code))) return true;
    if (PG_MESSAGES.some((pattern) => pattern.test(current instanceof Error ? current.message : ''))) return true;
    current = current.cause;
  }
  return false;
}
