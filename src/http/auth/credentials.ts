import type { FastifyRequest } from 'fastify';

export type Credentials =
  | { scheme: 'none' }
  | { scheme: 'basic'; username: string; password: string }
  | { scheme: 'bearer'; token: string }
  | { scheme: 'invalid' };

/** Reads the Authorization header without ever logging it. */
export function readCredentials(request: FastifyRequest): Credentials {
  const header = request.headers.authorization;
  if (!header) return { scheme: 'none' };
  const space = header.indexOf(' ');
  if (space === -1) return { scheme: 'invalid' };
  const scheme = header.slice(0, space).toLowerCase();
  const value = header.slice(space + 1).trim();
  if (scheme === 'bearer' && value) return { scheme: 'bearer', token: value };
  if (scheme === 'basic') {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon <= 0) return { scheme: 'invalid' };
    return { scheme: 'basic', username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  return { scheme: 'invalid' };
}

/**
 * The URL clients reach us at, for the token realm: http.publicUrl whenever it is set, so no request
 * header can move it. Otherwise the request's own: protocol and host come from X-Forwarded-Proto and
 * X-Forwarded-Host only when the peer is a trusted proxy (http.trustProxy), else from the connection
 * and the Host header.
 */
export function baseUrl(request: FastifyRequest, publicUrl: string): string {
  if (publicUrl) return publicUrl.replace(/\/+$/, '');
  return `${request.protocol}://${request.host || 'localhost'}`;
}
