import type { Kysely } from 'kysely';
import type { Database, PrincipalKind } from './schema.js';

type Db = Kysely<Database>;

export async function findApiKeyByPrefix(db: Db, prefix: string) {
  return db.selectFrom('api_keys').selectAll().where('prefix', '=', prefix).executeTakeFirst();
}

export async function findApiKey(db: Db, id: number) {
  return db.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function insertApiKey(db: Db, key: { accountId: number; kind: PrincipalKind; principalId: number; prefix: string; hash: string; description: string; now: number }): Promise<number> {
  const row = await db.insertInto('api_keys').values({
    account_id: key.accountId, principal_kind: key.kind, principal_id: key.principalId, prefix: key.prefix,
    secret_hash: key.hash, description: key.description, created_at: key.now, last_used_at: null, revoked_at: null,
  }).returning('id').executeTakeFirstOrThrow();
  return row.id;
}

export async function listApiKeys(db: Db, accountId: number, principal?: { kind: PrincipalKind; id: number }) {
  let query = db.selectFrom('api_keys')
    .select(['id', 'prefix', 'principal_kind', 'principal_id', 'description', 'created_at', 'last_used_at', 'revoked_at'])
    .where('account_id', '=', accountId).orderBy('id');
  if (principal) query = query.where('principal_kind', '=', principal.kind).where('principal_id', '=', principal.id);
  return query.execute();
}

export async function touchApiKey(db: Db, id: number, now: number): Promise<void> {
  await db.updateTable('api_keys').set({ last_used_at: now }).where('id', '=', id).execute();
}

export async function revokeApiKey(db: Db, id: number, now: number): Promise<void> {
  await db.updateTable('api_keys').set({ revoked_at: now }).where('id', '=', id).where('revoked_at', 'is', null).execute();
}

export async function revokeApiKeysOf(db: Db, kind: PrincipalKind, principalId: number, now: number): Promise<void> {
  await db.updateTable('api_keys').set({ revoked_at: now }).where('principal_kind', '=', kind).where('principal_id', '=', principalId).where('revoked_at', 'is', null).execute();
}
