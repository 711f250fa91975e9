import type { FastifyRequest } from 'fastify';
import type { Iam } from '../../iam/iam.js';
import { AuthenticationError } from '../../iam/authenticator.js';
import { namespaceOf } from '../../iam/namespace-names.js';
import { ANONYMOUS, type Principal } from '../../iam/principal.js';
import type { TokenClaims } from '../../iam/token-service.js';
import { RegistryError } from '../../oci/errors.js';
import { isValidRepositoryName } from '../../oci/names.js';
import { baseUrl, readCredentials } from '../auth/credentials.js';
import type { RequiredAccess } from './access.js';

export interface GateOptions {
  iam: Iam;
  publicUrl: string;
  now: () => number;
}

/** The one answer for "no access": identical whether the repository is another tenant's or nobody's. */
function denied(): RegistryError {
  return new RegistryError('DENIED', 'requested access to the resource is denied', null);
}

function challenge(request: FastifyRequest, options: GateOptions, scope?: string, error?: string): RegistryError {
  const params = [`realm="${baseUrl(request, options.publicUrl)}/auth/token"`, `service="${options.iam.tokens.service}"`];
  if (scope) params.push(`scope="${scope}"`);
  if (error) params.push(`error="${error}"`);
  return new RegistryError('UNAUTHORIZED', 'authentication required', null, {
    headers: { 'WWW-Authenticate': `Bearer ${params.join(',')}` },
  });
}

function tokenGrants(claims: TokenClaims, repository: string, action: string): boolean {
  return claims.access.some((entry) => entry.type === 'repository' && entry.name === repository
    && (entry.actions.includes(action) || entry.actions.includes('*')));
}

/**
 * Authenticates a /v2/ request and checks it may do what its route needs. Anonymous requests get the
 * Docker token challenge; authenticated ones without the right get DENIED; a token lacking a scope that
 * IAM would grant gets the challenge again so the client fetches a better token.
 */
export async function admit(request: FastifyRequest, required: RequiredAccess, options: GateOptions): Promise<Principal> {
  const { iam } = options;
  const credentials = readCredentials(request);
  let principal: Principal = ANONYMOUS;
  let claims: TokenClaims | undefined;
  const scope = required.kind === 'repository' ? `repository:${required.repository}:${required.scopeActions}` : required.scope;

  if (credentials.scheme === 'invalid') throw challenge(request, options, scope, 'invalid_request');
  if (credentials.scheme === 'basic') {
    try {
      principal = await iam.authenticator.basic(credentials.username, credentials.password, request.ip);
    } catch (err) {
      if (err instanceof AuthenticationError && err.reason === 'rate-limited') {
        throw new RegistryError('TOOMANYREQUESTS', err.message, null, { headers: { 'Retry-After': String(err.retryAfter) } });
      }
      if (err instanceof AuthenticationError) throw challenge(request, options, scope);
      throw err;
    }
  } else if (credentials.scheme === 'bearer') {
    const verified = await iam.authenticator.bearer(credentials.token);
    if (!verified) throw challenge(request, options, scope, 'invalid_token');
    ({ principal, claims } = verified);
  }

  if (required.kind === 'login') {
    if (principal.kind === 'anonymous') throw challenge(request, options, scope);
    // The catalog needs its scope in a token (registry:catalog:*), as the token spec has it.
    if (claims && required.scope && !claims.access.some((e) => `${e.type}:${e.name}:${e.actions.join(',')}` === required.scope)) {
      throw challenge(request, options, scope, 'insufficient_scope');
    }
    return principal;
  }

  const { repository, action } = required;
  if (claims && tokenGrants(claims, repository, action)
    && await iam.authorizer.tokenStillApplies(principal, repository, action, options.now(), tokenGrants(claims, repository, 'push'))) {
    return principal;
  }
  if (!isValidRepositoryName(repository)) {
    // Syntax says nothing about tenants; the registry answers NAME_INVALID as it would without auth.
    return principal;
  }
  if (namespaceOf(repository).path === '') {
    throw new RegistryError('NAME_INVALID', `repository names are <namespace>/<repository>: "${repository}" has no namespace`, { name: repository });
  }
  const access = await iam.authorizer.repositoryAccess(principal, repository);
  if (access.actions.has(action)) {
    if (claims) throw challenge(request, options, scope, 'insufficient_scope');
    if (access.createsNamespace && action === 'push') await iam.authorizer.claimNamespace(principal, repository, options.now());
    return principal;
  }
  if (principal.kind === 'anonymous') throw challenge(request, options, scope);
  iam.audit.record({
    accountId: principal.accountId, actor: principal, action: `registry.${action}`, resource: `repository ${repository}`,
    outcome: 'deny', source: request.ip,
  });
  throw denied();
}
