import { isValidRepositoryName } from '../oci/names.js';
import type { Authorizer } from './authorizer.js';
import type { Principal } from './principal.js';
import { actionsOf } from './roles.js';
import type { AccessEntry } from './token-service.js';

export interface RequestedScope {
  type: string;
  name: string;
  actions: string[];
}

/**
 * Parses Docker token scopes: `repository:<name>:<actions>` (also `repository(plugin):...`) and
 * `registry:catalog:*`. Several may come space-separated or as repeated parameters. Malformed ones are dropped.
 */
export function parseScopes(values: string[]): RequestedScope[] {
  const scopes: RequestedScope[] = [];
  for (const value of values) {
    for (const text of value.split(' ').filter(Boolean)) {
      const first = text.indexOf(':');
      const last = text.lastIndexOf(':');
      if (first === -1 || last === first) continue;
      const type = text.slice(0, first).replace(/\(.*\)$/, '');
      const name = text.slice(first + 1, last);
      const actions = text.slice(last + 1).split(',').filter(Boolean);
      if (type && name && actions.length > 0) scopes.push({ type, name, actions });
    }
  }
  return scopes;
}

/** What each requested scope may really have: the intersection with IAM, as the token spec asks. */
export async function grantScopes(authorizer: Authorizer, principal: Principal, requested: RequestedScope[]): Promise<AccessEntry[]> {
  const granted: AccessEntry[] = [];
  for (const scope of requested) {
    if (scope.type === 'registry' && scope.name === 'catalog') {
      granted.push({ type: 'registry', name: 'catalog', actions: principal.kind === 'anonymous' ? [] : scope.actions.filter((a) => a === '*') });
      continue;
    }
    if (scope.type !== 'repository' || !isValidRepositoryName(scope.name)) {
      granted.push({ type: scope.type, name: scope.name, actions: [] });
      continue;
    }
    const access = await authorizer.repositoryAccess(principal, scope.name);
    // A push that will create the namespace gets what a Manager has there; asking to pull alone gets nothing,
    // exactly as for another tenant's namespace.
    const pushing = scope.actions.includes('push') || scope.actions.includes('*');
    const allowed = access.createsNamespace ? new Set(pushing ? actionsOf('manager') : []) : access.actions;
    const actions = scope.actions.filter((a) => (a === '*' ? allowed.has('pull') && allowed.has('push') && allowed.has('delete') : a !== 'manage' && allowed.has(a as 'pull')));
    granted.push({ type: 'repository', name: scope.name, actions: [...new Set(actions)] });
  }
  return granted;
}
