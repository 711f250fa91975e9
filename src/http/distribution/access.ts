import type { Action } from '../../iam/roles.js';
import type { DistributionRoute } from './routes.js';

/**
 * What a request needs: nothing beyond a login (base, catalog), or an action on a repository.
 * `startsPush` marks the requests that begin a push (a new upload, a mount, a manifest): only these
 * create a free namespace, never a look at it or a request about an upload that cannot exist there.
 * `probe` marks a blob existence check: refused, it is a client looking for a mount source, not a denial to audit.
 */
export type RequiredAccess =
  | { kind: 'login'; scope?: string }
  | { kind: 'repository'; repository: string; action: Action; scopeActions: string; startsPush?: boolean; probe?: boolean };

/** The access each route and method needs (Docker token scope actions: pull, push, delete). */
export function requiredAccess(route: DistributionRoute, method: string): RequiredAccess {
  switch (route.family) {
    case 'base':
      return { kind: 'login' };
    case 'catalog':
      return { kind: 'login', scope: 'registry:catalog:*' };
    case 'manifests':
      if (method === 'PUT') return { kind: 'repository', repository: route.name, action: 'push', scopeActions: 'pull,push', startsPush: true };
      if (method === 'DELETE') return { kind: 'repository', repository: route.name, action: 'delete', scopeActions: 'delete' };
      return { kind: 'repository', repository: route.name, action: 'pull', scopeActions: 'pull' };
    case 'blobs':
      if (method === 'DELETE') return { kind: 'repository', repository: route.name, action: 'delete', scopeActions: 'delete' };
      // skopeo and podman HEAD a layer in every repository they saw it in, before trying to mount it from there.
      return { kind: 'repository', repository: route.name, action: 'pull', scopeActions: 'pull', probe: method === 'HEAD' };
    case 'uploads':
      return { kind: 'repository', repository: route.name, action: 'push', scopeActions: 'pull,push', startsPush: method === 'POST' && !route.uploadId };
    case 'signatures':
      // Adding a signature is part of a push (skopeo copy --sign-by asks for pull,push); reading one, of a pull.
      if (method === 'PUT') return { kind: 'repository', repository: route.name, action: 'push', scopeActions: 'pull,push' };
      return { kind: 'repository', repository: route.name, action: 'pull', scopeActions: 'pull' };
    case 'tags':
    case 'referrers':
      return { kind: 'repository', repository: route.name, action: 'pull', scopeActions: 'pull' };
  }
}
