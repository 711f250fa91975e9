import type { Kysely } from 'kysely';
import type { Database } from '../metadata/schema.js';
import { findNamespace, insertNamespace } from '../metadata/namespaces.js';
import { policiesFor, type PolicyRow } from '../metadata/policies.js';
import { namespaceNameProblem, namespaceOf } from './namespace-names.js';
import type { Principal } from './principal.js';
import { actionsOf, atLeast, strongest, type Action, type Role } from './roles.js';

export interface RepositoryAccess {
  /** What the principal may do on the repository; empty means nothing, however the repository stands. */
  actions: Set<Action>;
  /**
   * True when the namespace does not exist yet, its name follows the namespace rules, and a push would
   * create it in the principal's account. Until then the free name grants push only: pulling or deleting
   * there answers exactly as in another tenant's namespace (see Refusal), so the two cannot be told apart.
   */
  createsNamespace: boolean;
}

const NONE: RepositoryAccess = { actions: new Set(), createsNamespace: false };

/** Which repositories of a namespace a principal may pull: all of them (`whole`), or those `covers` says. */
export interface NamespaceReadAccess {
  whole: boolean;
  covers(repository: string): boolean;
}

const READS_ALL: NamespaceReadAccess = { whole: true, covers: () => true };
const READS_NONE: NamespaceReadAccess = { whole: false, covers: () => false };

/**
 * Why a principal without the action is refused, for the registry to answer accordingly:
 * - `absent`: the principal could create namespaces and the namespace is free or another tenant's;
 *   reads and deletes answer as for a repository that does not exist (the spec's answers), alike for both.
 * - `invalid-namespace`: a push would have created the namespace, but its name breaks a rule.
 * - `denied`: no access; `held` (what the principal may do there) only when it may see the namespace.
 */
export type Refusal =
  | { kind: 'absent' }
  | { kind: 'invalid-namespace'; problem: string }
  | { kind: 'denied'; held?: Action[] };

function policyCovers(policy: PolicyRow, namespace: string, path: string): boolean {
  if (policy.namespace === null) return true;
  if (policy.namespace !== namespace) return false;
  if (policy.repository === null) return true;
  if (policy.repository.endsWith('*')) return path.startsWith(policy.repository.slice(0, -1));
  return policy.repository === path;
}

/**
 * Decides `can(principal, action, resource)` from IAM policies. Deny by default: a namespace of
 * another account, and one that does not exist, give the same empty answer.
 */
export class Authorizer {
  constructor(private readonly db: Kysely<Database>, private readonly options: { autoCreateNamespaces: boolean }) {}

  /** The strongest role the principal holds on the account as a whole. */
  async accountRole(principal: Principal, accountId: number): Promise<Role | null> {
    if (principal.kind === 'anonymous' || principal.accountId !== accountId) return null;
    if (principal.kind === 'user' && principal.owner) return 'manager';
    const policies = await policiesFor(this.db, accountId, principal.kind, principal.id);
    return policies.filter((p) => p.namespace === null).reduce<Role | null>((role, p) => strongest(role, p.role), null);
  }

  /** The strongest role on a namespace (or a repository path inside it) of the principal's account. */
  async roleIn(principal: Principal, accountId: number, namespace: string, path: string): Promise<Role | null> {
    if (principal.kind === 'anonymous' || principal.accountId !== accountId) return null;
    if (principal.kind === 'user' && principal.owner) return 'manager';
    const policies = await policiesFor(this.db, accountId, principal.kind, principal.id);
    return policies.filter((p) => policyCovers(p, namespace, path)).reduce<Role | null>((role, p) => strongest(role, p.role), null);
  }

  /** Whether the principal may see the namespace at all (any role on it or on a repository in it). */
  async canSeeNamespace(principal: Principal, accountId: number, namespace: string): Promise<boolean> {
    if (principal.kind === 'anonymous' || principal.accountId !== accountId) return false;
    if (principal.kind === 'user' && principal.owner) return true;
    const policies = await policiesFor(this.db, accountId, principal.kind, principal.id);
    return policies.some((p) => p.namespace === null || p.namespace === namespace);
  }

  /**
   * What the principal may read in a namespace, decided once for all its repositories (listings,
   * counts, the trash): a Reader limited to one repository sees that repository only.
   */
  async readAccess(principal: Principal, namespace: string): Promise<NamespaceReadAccess> {
    const row = await findNamespace(this.db, namespace);
    if (!row) return READS_NONE;
    if (row.public_pull === 1) return READS_ALL;
    if (principal.kind === 'anonymous' || principal.accountId !== row.account_id) return READS_NONE;
    if (principal.kind === 'user' && principal.owner) return READS_ALL;
    // Every role pulls, so any policy covering a repository lets the principal read it.
    const policies = (await policiesFor(this.db, row.account_id, principal.kind, principal.id)).filter((p) => p.namespace === null || p.namespace === namespace);
    if (policies.some((p) => p.namespace === null || p.repository === null)) return READS_ALL;
    if (policies.length === 0) return READS_NONE;
    return { whole: false, covers: (repository) => policies.some((p) => policyCovers(p, namespace, namespaceOf(repository).path)) };
  }

  async repositoryAccess(principal: Principal, repository: string): Promise<RepositoryAccess> {
    const { namespace, path } = namespaceOf(repository);
    if (path === '') return NONE;
    const row = await findNamespace(this.db, namespace);
    const publicPull = row?.public_pull === 1;
    if (!row) {
      if (!this.options.autoCreateNamespaces || principal.kind === 'anonymous' || namespaceNameProblem(namespace)) return NONE;
      const role = await this.accountRole(principal, principal.accountId);
      return atLeast(role, 'manager') ? { actions: new Set<Action>(['push']), createsNamespace: true } : NONE;
    }
    const role = await this.roleIn(principal, row.account_id, namespace, path);
    const actions = new Set(actionsOf(role));
    if (publicPull) actions.add('pull');
    return { actions, createsNamespace: false };
  }

  /** Why the principal may not do `action` on the repository (see Refusal); only asked after a refusal. */
  async refusal(principal: Principal, repository: string, action: Action): Promise<Refusal> {
    if (principal.kind === 'anonymous') return { kind: 'denied' };
    const { namespace, path } = namespaceOf(repository);
    const row = await findNamespace(this.db, namespace);
    if (row && row.account_id === principal.accountId) {
      if (!(await this.canSeeNamespace(principal, row.account_id, namespace))) return { kind: 'denied' };
      const held = new Set(actionsOf(await this.roleIn(principal, row.account_id, namespace, path)));
      if (row.public_pull === 1) held.add('pull');
      held.delete('manage');
      return { kind: 'denied', held: [...held] };
    }
    // Only someone who could create the namespace has a use for "it does not exist"; a public namespace is no secret.
    if (!atLeast(await this.accountRole(principal, principal.accountId), 'manager') || row?.public_pull === 1) return { kind: 'denied' };
    if (action !== 'push') return { kind: 'absent' };
    // A push to a free name fails only for its name (or with automatic creation off); to a taken one, always.
    const problem = row ? undefined : namespaceNameProblem(namespace);
    return problem && this.options.autoCreateNamespaces ? { kind: 'invalid-namespace', problem } : { kind: 'denied' };
  }

  /**
   * At the start of a push: when the repository's namespace does not exist yet, its name follows the
   * rules and the principal is a Manager of its account, the namespace is created in that account (first
   * push creates it, as on Docker Hub). True when the namespace is then the principal's account's: a
   * concurrent claim by another account wins or loses atomically, never both.
   */
  async claimNamespace(principal: Principal, repository: string, now: number): Promise<boolean> {
    if (principal.kind === 'anonymous' || !this.options.autoCreateNamespaces) return false;
    const { namespace } = namespaceOf(repository);
    if (namespaceNameProblem(namespace)) return false;
    if (!(await findNamespace(this.db, namespace))) {
      if (!atLeast(await this.accountRole(principal, principal.accountId), 'manager')) return false;
      await insertNamespace(this.db, principal.accountId, namespace, now);
    }
    return (await findNamespace(this.db, namespace))?.account_id === principal.accountId;
  }

  /**
   * A token's grant holds while its namespace still belongs to the principal's account (or is public,
   * for pull): a namespace removed and re-created by another tenant within a token's lifetime is not reachable.
   * A grant on a namespace that does not exist yet does not hold here; the gate decides as without a token,
   * so only a request that starts a push creates the namespace, never the token or a look at the name.
   */
  async tokenStillApplies(principal: Principal, repository: string, action: Action): Promise<boolean> {
    const { namespace } = namespaceOf(repository);
    const row = await findNamespace(this.db, namespace);
    if (!row) return false;
    if (principal.kind !== 'anonymous' && row.account_id === principal.accountId) return true;
    return action === 'pull' && row.public_pull === 1;
  }
}
