import type { Role } from '../metadata/schema.js';

export type { Role };

/** Registry actions of the Docker token scope grammar, plus `manage` for account administration. */
export type Action = 'pull' | 'push' | 'delete' | 'manage';

const RANK: Record<Role, number> = { reader: 1, writer: 2, manager: 3 };

export const ROLES: readonly Role[] = ['reader', 'writer', 'manager'];

const ACTIONS: Record<Role, readonly Action[]> = {
  reader: ['pull'],
  writer: ['pull', 'push', 'delete'],
  manager: ['pull', 'push', 'delete', 'manage'],
};

export function actionsOf(role: Role | null): readonly Action[] {
  return role ? ACTIONS[role] : [];
}

export function strongest(a: Role | null, b: Role | null): Role | null {
  if (!a) return b;
  if (!b) return a;
  return RANK[a] >= RANK[b] ? a : b;
}

export function atLeast(role: Role | null, required: Role): boolean {
  return role !== null && RANK[role] >= RANK[required];
}

export function parseRole(text: string): Role | undefined {
  const lower = text.toLowerCase();
  return (ROLES as readonly string[]).includes(lower) ? (lower as Role) : undefined;
}
