import { ProblemError } from '../errors/problem.js';
import type { PrincipalKind } from '../metadata/schema.js';
import type { AuditLog } from './audit-log.js';
import type { Authenticator } from './authenticator.js';
import type { Authorizer } from './authorizer.js';
import { principalLabel, type AuthenticatedPrincipal, type Principal } from './principal.js';
import { atLeast, ROLES } from './roles.js';

export interface Caller {
  principal: Principal;
  source: string;
}

/** Above every role: the account owner (in the default account, the registry operator). */
const OWNER_AUTHORITY = ROLES.length + 1;

/**
 * The checks every account administration action starts with: who is calling, with which role, and
 * whether they may act on another principal's credentials. Refusals are audited.
 */
export class AccountGuard {
  constructor(
    private readonly authorizer: Authorizer,
    private readonly authenticator: Authenticator,
    private readonly audit: AuditLog,
  ) {}

  requireAuthenticated(caller: Caller): AuthenticatedPrincipal {
    if (caller.principal.kind === 'anonymous') throw new ProblemError('unauthorized', 'log in first: send a registry token (wharf login) or Basic credentials');
    return caller.principal;
  }

  async requireManager(caller: Caller, action: string, resource: string): Promise<AuthenticatedPrincipal> {
    const principal = this.requireAuthenticated(caller);
    if (!atLeast(await this.authorizer.accountRole(principal, principal.accountId), 'manager')) {
      this.denied(caller, principal, action, resource, 'Manager role on the account required');
      throw new ProblemError('forbidden', `${action} needs the Manager role on the account; ask an account Manager to grant it`);
    }
    return principal;
  }

  /**
   * Nobody changes the credentials or group memberships of a principal with more authority than
   * themselves: a Manager cannot take over (or lock out) the account owner, whose authority no
   * policy grants. Equal authority is allowed (a Manager may reset another Manager).
   */
  async requireAuthorityOver(caller: Caller, principal: AuthenticatedPrincipal, target: { kind: PrincipalKind; id: number }, action: string, resource: string): Promise<void> {
    if (target.kind === principal.kind && target.id === principal.id) return;
    const other = await this.authenticator.loadPrincipal(target.kind, target.id, null);
    if (!other || other.accountId !== principal.accountId) return;
    if ((await this.authorityOf(other)) <= (await this.authorityOf(principal))) return;
    this.denied(caller, principal, action, resource, 'target has more authority');
    throw new ProblemError('forbidden', other.kind === 'user' && other.owner
      ? `${action} is not allowed on ${principalLabel(other)}: the account owner's credentials and groups are theirs alone to change`
      : `${action} is not allowed on ${principalLabel(other)}, who has more authority in the account than you: ask the account owner`);
  }

  /**
   * Minting keys and changing passwords take a password login: a leaked API key (or a token obtained
   * with one) must not be able to create credentials that outlive its revocation.
   */
  requirePasswordLogin(caller: Caller, principal: AuthenticatedPrincipal, action: string, resource: string, what: string): void {
    if (principal.kind === 'user' && principal.apiKeyId === null) return;
    this.denied(caller, principal, action, resource, principal.kind === 'service' ? 'service ID acting on itself' : 'authenticated with an API key');
    throw new ProblemError('forbidden', principal.kind === 'service'
      ? `a service ID cannot ${what} for itself: an account Manager does it for the service ID`
      : `${what} needs a password login, not an API key (or a token obtained with one): log in with your password (wharf login -u ${principal.name}) and try again`);
  }

  changed(caller: Caller, principal: AuthenticatedPrincipal, action: string, resource: string, detail?: Record<string, unknown>): void {
    this.audit.record({ accountId: principal.accountId, actor: principal, action, resource, outcome: 'success', source: caller.source, ...(detail ? { detail } : {}) });
  }

  denied(caller: Caller, principal: AuthenticatedPrincipal, action: string, resource: string, reason: string): void {
    this.audit.record({ accountId: principal.accountId, actor: principal, action, resource, outcome: 'deny', source: caller.source, detail: { reason } });
  }

  private async authorityOf(principal: AuthenticatedPrincipal): Promise<number> {
    if (principal.kind === 'user' && principal.owner) return OWNER_AUTHORITY;
    const role = await this.authorizer.accountRole(principal, principal.accountId);
    return role === null ? 0 : ROLES.indexOf(role) + 1;
  }
}
