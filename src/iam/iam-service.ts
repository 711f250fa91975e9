import type { Kysely } from 'kysely';
import { ProblemError } from '../errors/problem.js';
import type { Database, PrincipalKind, Role, SubjectKind } from '../metadata/schema.js';
import { findAccount, listAccounts } from '../metadata/accounts.js';
import { createAccount } from './accounts.js';
import * as apiKeys from '../metadata/api-keys.js';
import * as namespaces from '../metadata/namespaces.js';
import { countImagesByRepositoryUnder, countImagesUnder, removeRepositoriesUnder } from '../metadata/namespace-repositories.js';
import * as policies from '../metadata/policies.js';
import * as principals from '../metadata/principals.js';
import { revokeRefreshTokensOf } from '../metadata/tokens.js';
import { AccountGuard, type Caller } from './account-guard.js';
import type { AuditLog } from './audit-log.js';
import type { AuditFilter } from '../metadata/audit.js';
import type { Authorizer } from './authorizer.js';
import type { Authenticator } from './authenticator.js';
import { namespaceNameProblem } from './namespace-names.js';
import { principalLabel, type AuthenticatedPrincipal } from './principal.js';
import { CredentialService } from './credentials.js';
import { hashPassword } from './secrets.js';
import { checkPassword, checkUsername } from './user-rules.js';

export type { Caller } from './account-guard.js';

const OBJECT_NAME = /^[a-zA-Z0-9][a-zA-Z0-9._-]{0,63}$/;

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

/**
 * Account administration: namespaces, users, service IDs, API keys, access groups and policies.
 * Every change is checked against the caller's role and written to the audit log.
 */
export class IamService {
  readonly guard: AccountGuard;
  readonly credentials: CredentialService;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly authorizer: Authorizer,
    private readonly authenticator: Authenticator,
    private readonly audit: AuditLog,
    private readonly now: () => number,
    /** trashRetentionMs: how long images of a namespace removed with force stay in the trash. */
    private readonly options: { defaultAccount: string; trashRetentionMs: number },
  ) {
    this.guard = new AccountGuard(authorizer, authenticator, audit);
    this.credentials = new CredentialService(db, this.guard, authorizer, authenticator, now);
  }

  requireAuthenticated(caller: Caller): AuthenticatedPrincipal {
    return this.guard.requireAuthenticated(caller);
  }

  async requireManager(caller: Caller, action: string, resource: string): Promise<AuthenticatedPrincipal> {
    return this.guard.requireManager(caller, action, resource);
  }

  private changed(caller: Caller, principal: AuthenticatedPrincipal, action: string, resource: string, detail?: Record<string, unknown>): void {
    this.guard.changed(caller, principal, action, resource, detail);
  }

  async whoami(caller: Caller) {
    const principal = this.requireAuthenticated(caller);
    const account = await findAccount(this.db, principal.accountId);
    const role = await this.authorizer.accountRole(principal, principal.accountId);
    return {
      kind: principal.kind, id: principal.id, name: principal.name,
      account: { id: principal.accountId, name: account?.name ?? '' },
      owner: principal.kind === 'user' && principal.owner,
      accountRole: role,
      viaApiKey: principal.apiKeyId !== null,
    };
  }

  // Accounts

  /** The owner of the default (bootstrap) account is the registry operator: the only one who sees and creates accounts. */
  async requireOperator(caller: Caller, action: string, resource: string, doing: string): Promise<AuthenticatedPrincipal> {
    const principal = this.requireAuthenticated(caller);
    const account = await findAccount(this.db, principal.accountId);
    if (principal.kind !== 'user' || !principal.owner || account?.name !== this.options.defaultAccount) {
      this.audit.record({ accountId: principal.accountId, actor: principal, action, resource, outcome: 'deny', source: caller.source, detail: { reason: 'owner of the default account required' } });
      throw new ProblemError('forbidden', `${doing} needs the owner of the default account (the registry operator)`);
    }
    return principal;
  }

  /** Every tenant, for the registry operator. */
  async listAccounts(caller: Caller) {
    await this.requireOperator(caller, 'account.list', 'accounts', 'listing accounts');
    return (await listAccounts(this.db)).map((a) => ({ id: a.id, name: a.name, owners: a.owners, namespaces: a.namespaces, created: iso(a.created_at) }));
  }

  /** A new tenant and its owner. Only the registry operator may. */
  async createAccount(caller: Caller, input: { name: string; ownerUsername: string; ownerPassword: string }) {
    const principal = await this.requireOperator(caller, 'account.create', `account ${input.name.slice(0, 100)}`, 'creating accounts');
    const created = await createAccount(this.db, input, this.now());
    this.changed(caller, principal, 'account.create', `account ${input.name}`, { owner: input.ownerUsername });
    this.audit.record({ accountId: created.accountId, actor: principal, action: 'account.create', resource: `account ${input.name}`, outcome: 'success', source: caller.source, detail: { owner: input.ownerUsername } });
    return { id: created.accountId, name: input.name, owner: { id: created.ownerId, username: input.ownerUsername }, created: iso(this.now()) };
  }

  // Namespaces

  async listNamespaces(caller: Caller) {
    const principal = this.requireAuthenticated(caller);
    const rows = await namespaces.listNamespaces(this.db, principal.accountId);
    const visible = [];
    for (const row of rows) {
      if (await this.authorizer.canSeeNamespace(principal, principal.accountId, row.name)) {
        visible.push({ name: row.name, publicPull: row.public_pull === 1, created: iso(row.created_at), imageCount: await this.visibleImageCount(principal, row.name) });
      }
    }
    return visible;
  }

  /** Images of the namespace the principal may read: a Reader of one repository counts that repository's. */
  private async visibleImageCount(principal: AuthenticatedPrincipal, namespace: string): Promise<number> {
    const access = await this.authorizer.readAccess(principal, namespace);
    if (access.whole) return countImagesUnder(this.db, namespace);
    const counts = await countImagesByRepositoryUnder(this.db, namespace);
    return counts.filter((c) => access.covers(c.name)).reduce((sum, c) => sum + c.images, 0);
  }

  async addNamespace(caller: Caller, name: string) {
    const principal = await this.requireManager(caller, 'namespace.add', `namespace ${name}`);
    const problem = namespaceNameProblem(name);
    if (problem) throw new ProblemError('bad-request', problem);
    if (!(await namespaces.insertNamespace(this.db, principal.accountId, name, this.now()))) {
      throw new ProblemError('conflict', `namespace name "${name}" is already in use in this registry: choose another name`);
    }
    this.changed(caller, principal, 'namespace.add', `namespace ${name}`);
    return { name, publicPull: false, created: iso(this.now()), imageCount: 0 };
  }

  /** The namespace, when it belongs to the caller's account; otherwise the same not-found as a missing one. */
  private async ownNamespace(principal: AuthenticatedPrincipal, name: string) {
    const row = await namespaces.findNamespace(this.db, name);
    if (!row || row.account_id !== principal.accountId) throw new ProblemError('not-found', `namespace ${name} is not one of your account's namespaces`);
    return row;
  }

  async removeNamespace(caller: Caller, name: string, force: boolean) {
    const principal = await this.requireManager(caller, 'namespace.remove', `namespace ${name}`);
    const row = await this.ownNamespace(principal, name);
    const images = await countImagesUnder(this.db, name);
    if (images > 0 && !force) {
      throw new ProblemError('conflict', `namespace ${name} holds ${images} image(s): remove them first, or remove the namespace with force (its images go to the trash)`, { imageCount: images });
    }
    const now = this.now();
    await this.db.transaction().execute(async (trx) => {
      await removeRepositoriesUnder(trx, name, { by: principalLabel(principal), now, expiresAt: now + this.options.trashRetentionMs });
      await policies.deleteNamespacePolicies(trx, principal.accountId, name);
      await namespaces.deleteNamespace(trx, row.id);
    });
    this.changed(caller, principal, 'namespace.remove', `namespace ${name}`, { force, images });
  }

  async setNamespacePublicPull(caller: Caller, name: string, publicPull: boolean) {
    const principal = await this.requireManager(caller, 'namespace.update', `namespace ${name}`);
    const row = await this.ownNamespace(principal, name);
    await namespaces.setPublicPull(this.db, row.id, publicPull);
    this.changed(caller, principal, 'namespace.update', `namespace ${name}`, { publicPull });
    return { name, publicPull };
  }

  // Users

  async listUsers(caller: Caller) {
    const principal = await this.requireManager(caller, 'user.list', 'users');
    const rows = await principals.listUsers(this.db, principal.accountId);
    return rows.map((u) => ({ id: u.id, username: u.username, owner: u.owner === 1, created: iso(u.created_at) }));
  }

  async createUser(caller: Caller, username: string, password: string) {
    const principal = await this.requireManager(caller, 'user.create', `user ${username}`);
    checkUsername(username);
    checkPassword(password);
    if (await principals.findUserByName(this.db, username)) throw new ProblemError('conflict', `username ${username} is taken: choose another`);
    const id = await principals.insertUser(this.db, { accountId: principal.accountId, username, passwordHash: await hashPassword(password), owner: false, now: this.now() });
    this.changed(caller, principal, 'user.create', `user ${username}`);
    return { id, username, owner: false, created: iso(this.now()) };
  }

  // Passwords and API keys: the rules live in credentials.ts; these keep one entry point for callers.

  async setPassword(caller: Caller, userId: number, password: string, currentPassword?: string): Promise<void> {
    return this.credentials.setPassword(caller, userId, password, currentPassword);
  }

  async deleteUser(caller: Caller, userId: number) {
    const principal = await this.requireManager(caller, 'user.delete', `user #${userId}`);
    const user = await principals.findUser(this.db, userId);
    if (!user || user.account_id !== principal.accountId) throw new ProblemError('not-found', `user #${userId} is not in your account`);
    if (user.owner === 1) throw new ProblemError('conflict', 'the account owner cannot be deleted');
    await this.removePrincipal('user', userId);
    await principals.deleteUser(this.db, userId);
    this.authenticator.forgetUser(userId);
    this.changed(caller, principal, 'user.delete', `user ${user.username}`);
  }

  private async removePrincipal(kind: PrincipalKind, id: number): Promise<void> {
    const now = this.now();
    await apiKeys.revokeApiKeysOf(this.db, kind, id, now);
    await revokeRefreshTokensOf(this.db, kind, id, now);
    await policies.deletePoliciesOf(this.db, kind, id);
    await policies.removeFromAllGroups(this.db, kind, id);
  }

  // Service IDs

  async listServiceIds(caller: Caller) {
    const principal = await this.requireManager(caller, 'serviceid.list', 'service IDs');
    const rows = await principals.listServiceIds(this.db, principal.accountId);
    return rows.map((s) => ({ id: s.id, name: s.name, description: s.description, created: iso(s.created_at) }));
  }

  async createServiceId(caller: Caller, name: string, description: string) {
    const principal = await this.requireManager(caller, 'serviceid.create', `service ID ${name}`);
    if (!OBJECT_NAME.test(name)) throw new ProblemError('bad-request', 'a service ID name is 1 to 64 letters, digits, ".", "_" or "-", starting with a letter or digit');
    if (await principals.findServiceIdByName(this.db, principal.accountId, name)) throw new ProblemError('conflict', `service ID ${name} already exists in your account`);
    const id = await principals.insertServiceId(this.db, principal.accountId, name, description, this.now());
    this.changed(caller, principal, 'serviceid.create', `service ID ${name}`);
    return { id, name, description, created: iso(this.now()) };
  }

  async deleteServiceId(caller: Caller, id: number) {
    const principal = await this.requireManager(caller, 'serviceid.delete', `service ID #${id}`);
    const service = await principals.findServiceId(this.db, id);
    if (!service || service.account_id !== principal.accountId) throw new ProblemError('not-found', `service ID #${id} is not in your account`);
    await this.removePrincipal('service', id);
    await principals.deleteServiceId(this.db, id);
    this.changed(caller, principal, 'serviceid.delete', `service ID ${service.name}`);
  }

  // API keys

  async listApiKeys(caller: Caller) {
    return this.credentials.listApiKeys(caller);
  }

  async createApiKey(caller: Caller, description: string, serviceId?: number) {
    return this.credentials.createApiKey(caller, description, serviceId);
  }

  async revokeApiKey(caller: Caller, id: number): Promise<void> {
    return this.credentials.revokeApiKey(caller, id);
  }

  // Access groups

  async listGroups(caller: Caller) {
    const principal = await this.requireManager(caller, 'group.list', 'access groups');
    const rows = await policies.listGroups(this.db, principal.accountId);
    return rows.map((g) => ({ id: g.id, name: g.name, created: iso(g.created_at), members: g.members.map((m) => `${m.kind}:${m.id}`) }));
  }

  async createGroup(caller: Caller, name: string) {
    const principal = await this.requireManager(caller, 'group.create', `group ${name}`);
    if (!OBJECT_NAME.test(name)) throw new ProblemError('bad-request', 'a group name is 1 to 64 letters, digits, ".", "_" or "-", starting with a letter or digit');
    if (await policies.findGroupByName(this.db, principal.accountId, name)) throw new ProblemError('conflict', `group ${name} already exists in your account`);
    const id = await policies.insertGroup(this.db, principal.accountId, name, this.now());
    this.changed(caller, principal, 'group.create', `group ${name}`);
    return { id, name, created: iso(this.now()), members: [] as string[] };
  }

  private async ownGroup(principal: AuthenticatedPrincipal, id: number) {
    const group = await policies.findGroup(this.db, id);
    if (!group || group.account_id !== principal.accountId) throw new ProblemError('not-found', `group #${id} is not in your account`);
    return group;
  }

  async deleteGroup(caller: Caller, id: number) {
    const principal = await this.requireManager(caller, 'group.delete', `group #${id}`);
    const group = await this.ownGroup(principal, id);
    await policies.deleteGroup(this.db, id);
    this.changed(caller, principal, 'group.delete', `group ${group.name}`);
  }

  async setGroupMember(caller: Caller, groupId: number, member: string, present: boolean) {
    const principal = await this.requireManager(caller, present ? 'group.member.add' : 'group.member.remove', `group #${groupId}`);
    const group = await this.ownGroup(principal, groupId);
    const subject = await this.ownSubject(principal, member, false);
    // Taking a principal out of a group can take away its access: not for someone above the caller.
    if (!present) await this.guard.requireAuthorityOver(caller, principal, subject as { kind: PrincipalKind; id: number }, 'group.member.remove', `group ${group.name}`);
    if (present) await policies.addGroupMember(this.db, groupId, subject.kind as PrincipalKind, subject.id);
    else await policies.removeGroupMember(this.db, groupId, subject.kind as PrincipalKind, subject.id);
    this.changed(caller, principal, present ? 'group.member.add' : 'group.member.remove', `group ${group.name}`, { member });
  }

  /** `user:<id>`, `service:<id>` or (when allowed) `group:<id>`, checked to be in the caller's account. */
  private async ownSubject(principal: AuthenticatedPrincipal, ref: string, allowGroup: boolean): Promise<{ kind: SubjectKind; id: number }> {
    const match = /^(user|service|group):(\d{1,15})$/.exec(ref);
    if (!match || (!allowGroup && match[1] === 'group')) {
      throw new ProblemError('bad-request', `subject "${ref.slice(0, 60)}" must be user:<id>, service:<id>${allowGroup ? ' or group:<id>' : ''}`);
    }
    const kind = match[1] as SubjectKind;
    const id = Number(match[2]);
    const row = kind === 'user' ? await principals.findUser(this.db, id)
      : kind === 'service' ? await principals.findServiceId(this.db, id)
        : await policies.findGroup(this.db, id);
    if (!row || row.account_id !== principal.accountId) throw new ProblemError('not-found', `${ref} is not in your account`);
    return { kind, id };
  }

  // Policies

  async listPolicies(caller: Caller) {
    const principal = await this.requireManager(caller, 'policy.list', 'policies');
    const rows = await policies.listPolicies(this.db, principal.accountId);
    return rows.map(policyView);
  }

  async createPolicy(caller: Caller, input: { subject: string; role: Role; namespace?: string | null; repository?: string | null }) {
    const principal = await this.requireManager(caller, 'policy.create', `policy for ${input.subject}`);
    const subject = await this.ownSubject(principal, input.subject, true);
    const namespace = input.namespace ?? null;
    const repository = input.repository ?? null;
    if (repository !== null && namespace === null) throw new ProblemError('bad-request', 'a repository scope needs its namespace');
    if (namespace !== null) await this.ownNamespace(principal, namespace);
    if (repository !== null && !/^[a-z0-9][a-z0-9._/-]*\*?$/.test(repository)) {
      throw new ProblemError('bad-request', 'repository scope must be a repository path inside the namespace, optionally ending in "*" for a prefix');
    }
    const row = { account_id: principal.accountId, subject_kind: subject.kind, subject_id: subject.id, role: input.role, namespace, repository, created_at: this.now() };
    const id = await policies.insertPolicy(this.db, row);
    this.changed(caller, principal, 'policy.create', `${input.subject} ${input.role} on ${scopeLabel(namespace, repository)}`, { policyId: id });
    return policyView({ id, ...row });
  }

  async deletePolicy(caller: Caller, id: number) {
    const principal = await this.requireManager(caller, 'policy.delete', `policy #${id}`);
    const row = await policies.findPolicy(this.db, id);
    if (!row || row.account_id !== principal.accountId) throw new ProblemError('not-found', `policy #${id} is not in your account`);
    await policies.deletePolicy(this.db, id);
    this.changed(caller, principal, 'policy.delete', `${row.subject_kind}:${row.subject_id} ${row.role} on ${scopeLabel(row.namespace, row.repository)}`, { policyId: id });
  }

  /** The caller's account's audit trail (Managers only): tenants never see each other's. */
  async auditEvents(caller: Caller, limit: number, filter: AuditFilter = {}) {
    const principal = await this.requireManager(caller, 'audit.read', 'audit log');
    return this.audit.list(principal.accountId, limit, filter);
  }

  label(caller: Caller): string {
    return principalLabel(caller.principal);
  }
}

function scopeLabel(namespace: string | null, repository: string | null): string {
  if (namespace === null) return 'account';
  return repository === null ? `namespace ${namespace}` : `repository ${namespace}/${repository}`;
}

function policyView(row: policies.PolicyRow) {
  return {
    id: row.id, subject: `${row.subject_kind}:${row.subject_id}`, role: row.role,
    scope: row.namespace === null ? 'account' : row.repository === null ? 'namespace' : 'repository',
    namespace: row.namespace, repository: row.repository, created: iso(row.created_at),
  };
}
