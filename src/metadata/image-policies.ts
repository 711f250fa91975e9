import type { Kysely } from 'kysely';
import type { Database, ImagePolicyTable } from './schema.js';

type Db = Kysely<Database>;

export type ImagePolicyScope = ImagePolicyTable['scope'];

export interface ImagePolicyRow {
  scope: ImagePolicyScope;
  target: string;
  policy: string;
  updatedAt: number;
  updatedBy: string;
}

/** The unique key of the place a policy applies (see migration 0017). */
export function scopeKey(scope: ImagePolicyScope, accountId: number | null, target: string): string {
  if (scope === 'cluster') return 'cluster';
  if (scope === 'account') return `account:${accountId}`;
  return `${scope}:${accountId}:${target}`;
}

const fromRow = (r: Pick<ImagePolicyTable, 'scope' | 'target' | 'policy' | 'updated_at' | 'updated_by'>): ImagePolicyRow => ({
  scope: r.scope, target: r.target, policy: r.policy, updatedAt: Number(r.updated_at), updatedBy: r.updated_by,
});

export async function findImagePolicy(db: Db, scope: ImagePolicyScope, accountId: number | null, target: string): Promise<ImagePolicyRow | undefined> {
  const row = await db.selectFrom('image_policies').select(['scope', 'target', 'policy', 'updated_at', 'updated_by'])
    .where('scope_key', '=', scopeKey(scope, accountId, target)).executeTakeFirst();
  return row && fromRow(row);
}

/**
 * The policies that could apply to a repository of the account, in one query: its own, its
 * namespace's, the account's and the cluster default (the caller picks the most specific).
 */
export async function candidateImagePolicies(db: Db, accountId: number, repository: string): Promise<ImagePolicyRow[]> {
  const namespace = repository.split('/')[0]!;
  const keys = [scopeKey('repository', accountId, repository), scopeKey('namespace', accountId, namespace), scopeKey('account', accountId, ''), 'cluster'];
  const rows = await db.selectFrom('image_policies').select(['scope', 'target', 'policy', 'updated_at', 'updated_by']).where('scope_key', 'in', keys).execute();
  return rows.map(fromRow);
}

/** The account's policies and the cluster default, for `wharf policy get` without a scope. */
export async function listImagePolicies(db: Db, accountId: number): Promise<ImagePolicyRow[]> {
  const rows = await db.selectFrom('image_policies').select(['scope', 'target', 'policy', 'updated_at', 'updated_by'])
    .where((eb) => eb.or([eb('account_id', '=', accountId), eb('scope_key', '=', 'cluster')]))
    .orderBy('scope_key').execute();
  return rows.map(fromRow);
}

export async function saveImagePolicy(db: Db, scope: ImagePolicyScope, accountId: number | null, target: string, policy: string, at: number, by: string): Promise<void> {
  const key = scopeKey(scope, accountId, target);
  await db.insertInto('image_policies')
    .values({ scope_key: key, scope, account_id: accountId, target, policy, updated_at: at, updated_by: by })
    .onConflict((oc) => oc.column('scope_key').doUpdateSet({ policy, updated_at: at, updated_by: by }))
    .execute();
}

/** True when there was a policy to remove. */
export async function deleteImagePolicy(db: Db, scope: ImagePolicyScope, accountId: number | null, target: string): Promise<boolean> {
  const result = await db.deleteFrom('image_policies').where('scope_key', '=', scopeKey(scope, accountId, target)).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}
