import type { Kysely } from 'kysely';
import { ProblemError } from '../errors/problem.js';
import * as apiKeys from '../metadata/api-keys.js';
import * as principals from '../metadata/principals.js';
import type { Database, PrincipalKind } from '../metadata/schema.js';
import { revokeRefreshTokensOf, revokeRefreshTokensOfKey } from '../metadata/tokens.js';
import type { AccountGuard, Caller } from './account-guard.js';
import { AuthenticationError, type Authenticator } from './authenticator.js';
import type { Authorizer } from './authorizer.js';
import type { AuthenticatedPrincipal } from './principal.js';
import { atLeast } from './roles.js';
import { generateApiKey, hashPassword } from './secrets.js';
import { checkPassword } from './user-rules.js';

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

/**
 * Passwords and API keys. The rules that keep a stolen credential from becoming a takeover: your own
 * password changes only with the current one and a password login; keys are minted only from a
 * password login (or by a Manager for a service ID); nobody touches the credentials of someone with
 * more authority; a password change ends the user's refresh tokens and every token issued before it.
 */
export class CredentialService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly guard: AccountGuard,
    private readonly authorizer: Authorizer,
    private readonly authenticator: Authenticator,
    private readonly now: () => number,
  ) {}

  /** Your own password (with the current one), or as a Manager another user's of no more authority. */
  async setPassword(caller: Caller, userId: number, password: string, currentPassword?: string): Promise<void> {
    const principal = this.guard.requireAuthenticated(caller);
    const self = principal.kind === 'user' && principal.id === userId;
    if (self) {
      this.guard.requirePasswordLogin(caller, principal, 'user.password', `user ${principal.name}`, 'changing your password');
      if (currentPassword === undefined) {
        throw new ProblemError('bad-request', 'changing your own password needs your current password too ("currentPassword"): wharf iam user passwd asks for it');
      }
    } else {
      await this.guard.requireManager(caller, 'user.password', `user #${userId}`);
    }
    const user = await principals.findUser(this.db, userId);
    if (!user || user.account_id !== principal.accountId) throw new ProblemError('not-found', `user #${userId} is not in your account`);
    if (!self) await this.guard.requireAuthorityOver(caller, principal, { kind: 'user', id: userId }, 'user.password', `user ${user.username}`);
    checkPassword(password);
    if (self) await this.verifyCurrentPassword(caller, principal, currentPassword!);
    await principals.updatePassword(this.db, userId, await hashPassword(password));
    // The new hash changes the user's session stamp, so their registry tokens end with the refresh tokens.
    await revokeRefreshTokensOf(this.db, 'user', userId, this.now());
    this.authenticator.forgetUser(userId);
    this.guard.changed(caller, principal, 'user.password', `user ${user.username}`, { self });
  }

  /** As a login: a wrong current password counts as a failed login, so a stolen token cannot guess it. */
  private async verifyCurrentPassword(caller: Caller, principal: AuthenticatedPrincipal, currentPassword: string): Promise<void> {
    let matches = false;
    try {
      const verified = await this.authenticator.basic(principal.name, currentPassword, caller.source);
      // An API key of the user is no current password.
      matches = verified.kind === principal.kind && verified.id === principal.id && verified.apiKeyId === null;
    } catch (err) {
      if (!(err instanceof AuthenticationError)) throw err;
      if (err.reason === 'rate-limited') throw new ProblemError('too-many-requests', err.message, { retryAfter: err.retryAfter });
    }
    if (!matches) {
      this.guard.denied(caller, principal, 'user.password', `user ${principal.name}`, 'wrong current password');
      throw new ProblemError('forbidden', 'the current password is wrong: the password was not changed');
    }
  }

  async listApiKeys(caller: Caller) {
    const principal = this.guard.requireAuthenticated(caller);
    const manager = atLeast(await this.authorizer.accountRole(principal, principal.accountId), 'manager');
    const rows = await apiKeys.listApiKeys(this.db, principal.accountId, manager ? undefined : { kind: principal.kind, id: principal.id });
    return rows.map((k) => ({
      id: k.id, prefix: `wharf_${k.prefix}`, owner: `${k.principal_kind}:${k.principal_id}`, description: k.description,
      created: iso(k.created_at), lastUsed: iso(k.last_used_at), revoked: iso(k.revoked_at),
    }));
  }

  /** Creates a key for the caller (password login only), or (Managers) for a service ID of the account. The key is returned once. */
  async createApiKey(caller: Caller, description: string, serviceId?: number) {
    const principal = this.guard.requireAuthenticated(caller);
    let owner: { kind: PrincipalKind; id: number; name: string } = { kind: principal.kind, id: principal.id, name: principal.name };
    const forItself = serviceId === undefined || (principal.kind === 'service' && principal.id === serviceId);
    if (forItself) {
      this.guard.requirePasswordLogin(caller, principal, 'apikey.create', `${principal.kind} ${principal.name}`, 'creating an API key');
    } else {
      await this.guard.requireManager(caller, 'apikey.create', `service ID #${serviceId}`);
      const service = await principals.findServiceId(this.db, serviceId);
      if (!service || service.account_id !== principal.accountId) throw new ProblemError('not-found', `service ID #${serviceId} is not in your account`);
      await this.guard.requireAuthorityOver(caller, principal, { kind: 'service', id: service.id }, 'apikey.create', `service ID ${service.name}`);
      owner = { kind: 'service', id: service.id, name: service.name };
    }
    const generated = generateApiKey();
    const id = await apiKeys.insertApiKey(this.db, { accountId: principal.accountId, kind: owner.kind, principalId: owner.id, prefix: generated.prefix, hash: generated.hash, description: description.slice(0, 500), now: this.now() });
    this.guard.changed(caller, principal, 'apikey.create', `${owner.kind} ${owner.name}`, { apiKeyId: id, prefix: `wharf_${generated.prefix}` });
    return { id, apiKey: generated.key, prefix: `wharf_${generated.prefix}`, owner: `${owner.kind}:${owner.id}`, description, created: iso(this.now()) };
  }

  /** Your own key, or as a Manager the key of a principal of no more authority. */
  async revokeApiKey(caller: Caller, id: number): Promise<void> {
    const principal = this.guard.requireAuthenticated(caller);
    const key = await apiKeys.findApiKey(this.db, id);
    if (!key || key.account_id !== principal.accountId) throw new ProblemError('not-found', `API key #${id} is not in your account`);
    const own = key.principal_kind === principal.kind && key.principal_id === principal.id;
    if (!own) {
      await this.guard.requireManager(caller, 'apikey.revoke', `API key #${id}`);
      await this.guard.requireAuthorityOver(caller, principal, { kind: key.principal_kind, id: key.principal_id }, 'apikey.revoke', `API key wharf_${key.prefix}`);
    }
    await apiKeys.revokeApiKey(this.db, id, this.now());
    await revokeRefreshTokensOfKey(this.db, id, this.now());
    this.guard.changed(caller, principal, 'apikey.revoke', `API key wharf_${key.prefix}`);
  }
}
