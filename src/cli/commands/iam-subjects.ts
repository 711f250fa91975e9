import type { ApiClient } from '../api-client.js';
import { resolveByIdOrName } from '../command-kit.js';
import { UsageError } from '../context.js';

export interface User { id: number; username: string; owner: boolean; created: string | null }
export interface ServiceId { id: number; name: string; description: string; created: string | null }
export interface Group { id: number; name: string; created: string | null; members: string[] }

export async function listUsers(api: ApiClient): Promise<User[]> {
  return (await api.get<{ users: User[] }>('/iam/users')).users;
}

export async function listServiceIds(api: ApiClient): Promise<ServiceId[]> {
  return (await api.get<{ serviceIds: ServiceId[] }>('/iam/service-ids')).serviceIds;
}

export async function listGroups(api: ApiClient): Promise<Group[]> {
  return (await api.get<{ groups: Group[] }>('/iam/groups')).groups;
}

export async function findUser(api: ApiClient, ref: string): Promise<User> {
  return resolveByIdOrName(await listUsers(api), ref, (u) => u.username, 'user', 'wharf iam user list');
}

export async function findServiceId(api: ApiClient, ref: string): Promise<ServiceId> {
  return resolveByIdOrName(await listServiceIds(api), ref, (s) => s.name, 'service ID', 'wharf iam serviceid list');
}

export async function findGroup(api: ApiClient, ref: string): Promise<Group> {
  return resolveByIdOrName(await listGroups(api), ref, (g) => g.name, 'access group', 'wharf iam group list');
}

/**
 * `user:<id|name>`, `service:<id|name>` or (where allowed) `group:<id|name>` → the API's
 * `kind:<id>`. Names are looked up; ids pass through unchanged.
 */
export async function subjectRef(api: ApiClient, text: string, allowGroup: boolean): Promise<string> {
  const match = /^(user|service|serviceid|group):(.+)$/.exec(text);
  const kinds = allowGroup ? 'user:<id|name>, service:<id|name> or group:<id|name>' : 'user:<id|name> or service:<id|name>';
  if (!match || (!allowGroup && match[1] === 'group')) throw new UsageError(`"${text}" is not a subject: write ${kinds}`);
  const kind = match[1] === 'serviceid' ? 'service' : match[1]!;
  const ref = match[2]!;
  if (/^\d+$/.test(ref)) return `${kind}:${ref}`;
  const found = kind === 'user' ? await findUser(api, ref) : kind === 'service' ? await findServiceId(api, ref) : await findGroup(api, ref);
  return `${kind}:${found.id}`;
}

/** `user:1` → `user:1 (admin)` when the name is known. */
export function subjectLabel(ref: string, names: Map<string, string>): string {
  const name = names.get(ref);
  return name ? `${ref} (${name})` : ref;
}

/** Names of every user, service ID and group, by subject ref; empty where the caller may not list them. */
export async function subjectNames(api: ApiClient): Promise<Map<string, string>> {
  const names = new Map<string, string>();
  const [users, services, groups] = await Promise.all([
    listUsers(api).catch(() => [] as User[]), listServiceIds(api).catch(() => [] as ServiceId[]), listGroups(api).catch(() => [] as Group[]),
  ]);
  for (const u of users) names.set(`user:${u.id}`, u.username);
  for (const s of services) names.set(`service:${s.id}`, s.name);
  for (const g of groups) names.set(`group:${g.id}`, g.name);
  return names;
}
