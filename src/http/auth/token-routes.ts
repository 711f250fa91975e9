import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AuthenticationError } from '../../iam/authenticator.js';
import { namespaceOfResource } from '../../iam/audit-log.js';
import type { Iam } from '../../iam/iam.js';
import { ANONYMOUS, principalRef, type AuthenticatedPrincipal, type Principal } from '../../iam/principal.js';
import { grantScopes, parseScopes } from '../../iam/scopes.js';
import { readCredentials } from './credentials.js';
import { TOKEN_FORM_LIMIT } from '../plugins/unread-body.js';

function queryValues(request: FastifyRequest, name: string): string[] {
  const url = new URL(request.url, 'http://localhost');
  return url.searchParams.getAll(name);
}

/**
 * Docker token authentication (GET /auth/token with Basic credentials or none) and its OAuth2 form
 * (POST /auth/token, grant_type password or refresh_token), plus the JWKS of the signing keys.
 */
export async function tokenRoutes(app: FastifyInstance, options: { iam: Iam }): Promise<void> {
  const { iam } = options;

  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: TOKEN_FORM_LIMIT }, (_request, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });

  const issue = async (principal: Principal, scopes: string[], source: string) => {
    const access = await grantScopes(iam.authorizer, principal, parseScopes(scopes));
    const accountId = principal.kind === 'anonymous' ? null : principal.accountId;
    const apiKeyId = principal.kind === 'anonymous' ? null : principal.apiKeyId;
    const session = principal.kind === 'user' ? principal.session : null;
    const issued = await iam.tokens.issue(principalRef(principal), accountId, apiKeyId, access, session);
    // A rollout fetches a token per pull: batched like pulls, one row per principal, address and grant.
    const granted = access.filter((a) => a.actions.length > 0).map((a) => `${a.type}:${a.name}:${a.actions.join(',')}`);
    if (principal.kind !== 'anonymous') iam.audit.recordBatched({
      accountId, actor: principal, action: 'token.issue', resource: granted.length > 0 ? granted.join(' ').slice(0, 500) : 'login', outcome: 'success', source,
      namespace: namespaceOfResource(access.find((a) => a.type === 'repository' && a.actions.length > 0)?.name ?? ''),
    });
    return { issued, access };
  };

  const refreshFor = (principal: AuthenticatedPrincipal) => iam.tokens.issueRefreshToken(principal.kind, principal.id, principal.accountId, principal.apiKeyId);

  const unauthorized = (reply: FastifyReply, message: string, retryAfter = 0) => {
    if (retryAfter > 0) reply.header('Retry-After', String(retryAfter));
    return reply.code(retryAfter > 0 ? 429 : 401)
      .header('WWW-Authenticate', `Basic realm="${iam.tokens.service}"`)
      .send({ errors: [{ code: retryAfter > 0 ? 'TOOMANYREQUESTS' : 'UNAUTHORIZED', message, detail: null }] });
  };

  app.get('/auth/token', async (request, reply) => {
    const credentials = readCredentials(request);
    let principal: Principal = ANONYMOUS;
    if (credentials.scheme === 'basic') {
      try {
        principal = await iam.authenticator.basic(credentials.username, credentials.password, request.ip);
      } catch (err) {
        if (err instanceof AuthenticationError) return unauthorized(reply, err.message, err.retryAfter);
        throw err;
      }
    } else if (credentials.scheme !== 'none') {
      return unauthorized(reply, 'use Basic credentials (username and password, or iamapikey and an API key)');
    }
    const { issued } = await issue(principal, queryValues(request, 'scope'), request.ip);
    const body: Record<string, unknown> = { token: issued.token, access_token: issued.token, expires_in: issued.expiresIn, issued_at: issued.issuedAt };
    if (principal.kind !== 'anonymous' && queryValues(request, 'offline_token')[0] === 'true') body.refresh_token = await refreshFor(principal);
    return reply.header('Cache-Control', 'no-store').send(body);
  });

  app.post('/auth/token', async (request, reply) => {
    const form = (request.body ?? {}) as Record<string, string | undefined>;
    const oauthError = (status: number, error: string, description: string) =>
      reply.code(status).header('Cache-Control', 'no-store').send({ error, error_description: description });
    let principal: AuthenticatedPrincipal | undefined;
    if (form.grant_type === 'password') {
      if (!form.username || form.password === undefined) return oauthError(400, 'invalid_request', 'grant_type=password needs username and password');
      try {
        principal = await iam.authenticator.basic(form.username, form.password, request.ip);
      } catch (err) {
        if (err instanceof AuthenticationError) {
          if (err.retryAfter > 0) reply.header('Retry-After', String(err.retryAfter));
          return oauthError(err.retryAfter > 0 ? 429 : 401, 'invalid_grant', err.message);
        }
        throw err;
      }
    } else if (form.grant_type === 'refresh_token') {
      if (!form.refresh_token) return oauthError(400, 'invalid_request', 'grant_type=refresh_token needs refresh_token');
      principal = await iam.authenticator.refresh(form.refresh_token);
      if (!principal) return oauthError(401, 'invalid_grant', 'the refresh token is invalid, expired or revoked: log in again');
    } else {
      return oauthError(400, 'unsupported_grant_type', 'grant_type must be password or refresh_token');
    }
    const { issued, access } = await issue(principal, form.scope ? [form.scope] : [], request.ip);
    const body: Record<string, unknown> = {
      access_token: issued.token, token_type: 'Bearer', expires_in: issued.expiresIn, issued_at: issued.issuedAt,
      scope: access.filter((a) => a.actions.length > 0).map((a) => `${a.type}:${a.name}:${a.actions.join(',')}`).join(' '),
    };
    if (form.grant_type === 'password' && form.access_type === 'offline') body.refresh_token = await refreshFor(principal);
    if (form.grant_type === 'refresh_token') body.refresh_token = form.refresh_token;
    return reply.header('Cache-Control', 'no-store').send(body);
  });

  // OAuth 2.0 token revocation (RFC 7009) of a refresh token: the web console's sign-out. The token
  // itself is the credential; the answer is 200 whether or not it was one, so nothing is learnt.
  app.post('/auth/revoke', async (request, reply) => {
    const form = (request.body ?? {}) as Record<string, string | undefined>;
    if (!form.token) return reply.code(400).header('Cache-Control', 'no-store').send({ error: 'invalid_request', error_description: 'give the refresh token to revoke as token' });
    await iam.tokens.revokeRefreshToken(form.token);
    return reply.header('Cache-Control', 'no-store').send({});
  });

  const jwks = async (_request: FastifyRequest, reply: FastifyReply) => {
    // Just after a start the keys may still be loading (TokenService.init runs once the port is open).
    await iam.tokens.init();
    return reply.header('Cache-Control', 'max-age=60').send(iam.tokens.jwks());
  };
  app.get('/auth/jwks.json', jwks);
  app.get('/.well-known/jwks.json', jwks);
}
