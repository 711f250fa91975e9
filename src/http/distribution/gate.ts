import type { FastifyRequest } from 'fastify';
import type { Iam } from '../../iam/iam.js';
import { AuthenticationError } from '../../iam/authenticator.js';
import type { Refusal } from '../../iam/authorizer.js';
import { namespaceOf } from '../../iam/namespace-names.js';
import { ANONYMOUS, type Principal } from '../../iam/principal.js';
import type { Action } from '../../iam/roles.js';
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

export interface Admission {
  principal: Principal;
  /**
   * Answer as for a repository that does not exist, without looking: the namespace is free, or another
   * tenant's, and the caller could create namespaces (see Refusal in iam/authorizer).
   */
  absent: boolean;
}

/** The one answer for "no access" to a namespace the caller cannot see: identical whether it is another tenant's or nobody's. */
export function denied(): RegistryError {
  return new RegistryError('DENIED', 'requested access to the resource is denied', null);
}

const ROLE_FOR: Record<Action, string> = { pull: 'Reader', push: 'Writer', delete: 'Writer', manage: 'Manager' };

/** A refusal in a namespace the caller can see says which right is missing and who can grant it. */
function deniedFor(repository: string, action: Action, refusal: Refusal): RegistryError {
  if (refusal.kind !== 'denied' || !refusal.held) return denied();
  const held = refusal.held.length > 0 ? refusal.held.join(', ') : 'no access to it';
  return new RegistryError('DENIED',
    `${action} access to repository ${repository} is required; you have ${held}: ask a Manager of your account for the ${ROLE_FOR[action]} role on it`,
    { repository, required: action, held: refusal.held });
}

function invalidNamespace(repository: string, problem: string): RegistryError {
  return new RegistryError('NAME_INVALID',
    `${problem}, so a push cannot create it: push to a namespace of your account, or create one first (wharf namespace add)`,
    { name: repository, namespace: namespaceOf(repository).namespace });
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
 * IAM would grant gets the challenge again so the client fetches a better token. A caller who could create
 * the repository's namespace but finds it free (or another tenant's) is admitted to the spec's answers
 * for a repository that does not exist; a free namespace is created by the first request that starts a push.
 */
export async function admit(request: FastifyRequest, required: RequiredAccess, options: GateOptions): Promise<Admission> {
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
  const admitted: Admission = { principal, absent: false };

  if (required.kind === 'login') {
    if (principal.kind === 'anonymous') throw challenge(request, options, scope);
    // The catalog needs its scope in a token (registry:catalog:*), as the token spec has it.
    if (claims && required.scope && !claims.access.some((e) => `${e.type}:${e.name}:${e.actions.join(',')}` === required.scope)) {
      throw challenge(request, options, scope, 'insufficient_scope');
    }
    return admitted;
  }

  const { repository, action } = required;
  // Basic credentials carry no scope: IAM alone decides for them.
  const scopeGranted = !claims || tokenGrants(claims, repository, action);
  if (claims && scopeGranted && await iam.authorizer.tokenStillApplies(principal, repository, action)) return admitted;
  if (!isValidRepositoryName(repository)) {
    // Syntax says nothing about tenants; the registry answers NAME_INVALID as it would without auth.
    return admitted;
  }
  if (namespaceOf(repository).path === '') {
    throw new RegistryError('NAME_INVALID', `repository names are <namespace>/<repository>: "${repository}" has no namespace`, { name: repository });
  }
  const access = await iam.authorizer.repositoryAccess(principal, repository);
  if (access.actions.has(action)) {
    if (!scopeGranted) throw challenge(request, options, scope, 'insufficient_scope');
    if (!access.createsNamespace) return admitted;
    // A free namespace holds no upload session: only a request that starts a push may claim it.
    if (!required.startsPush) return { principal, absent: true };
    if (await iam.authorizer.claimNamespace(principal, repository, options.now())) return admitted;
    // Another account claimed the name a moment ago: it is theirs now.
  }
  if (principal.kind === 'anonymous') throw challenge(request, options, scope);
  const refusal = await iam.authorizer.refusal(principal, repository, action);
  // Nothing is there for this caller to see or remove: not a denial, so not audited either (the audit log
  // of the caller's account would otherwise tell another tenant's namespace from a free name).
  if (refusal.kind === 'absent') return { principal, absent: true };
  if (refusal.kind === 'invalid-namespace') throw invalidNamespace(repository, refusal.problem);
  // A refused blob HEAD is a mount probe (a client checking whether a layer it saw in another repository
  // can be mounted from there); it falls back to an upload, and auditing it filled the trail with denials.
  if (!required.probe) {
    iam.audit.record({
      accountId: principal.accountId, actor: principal, action: `registry.${action}`, resource: `repository ${repository}`,
      outcome: 'deny', source: request.ip,
    });
  }
  throw deniedFor(repository, action, refusal);
}
