import type { Kysely } from 'kysely';
import type { Database, RefreshTokenTable, SigningKeyTable } from './schema.js';

type Db = Kysely<Database>;

export async function listSigningKeys(db: Db): Promise<SigningKeyTable[]> {
  return db.selectFrom('signing_keys').selectAll().orderBy('created_at').execute();
}

export async function insertSigningKey(db: Db, key: SigningKeyTable): Promise<void> {
  await db.insertInto('signing_keys').values(key).execute();
}

export async function retireSigningKeys(db: Db, exceptKid: string, now: number): Promise<void> {
  await db.updateTable('signing_keys').set({ retired_at: now }).where('kid', '!=', exceptKid).where('retired_at', 'is', null).execute();
}

export async function deleteSigningKeysRetiredBefore(db: Db, before: number): Promise<void> {
  await db.deleteFrom('signing_keys').where('retired_at', '<', before).execute();
}

export async function insertRefreshToken(db: Db, token: RefreshTokenTable): Promise<void> {
  await db.insertInto('refresh_tokens').values(token).execute();
}

export async function findRefreshToken(db: Db, id: string): Promise<RefreshTokenTable | undefined> {
  return db.selectFrom('refresh_tokens').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function revokeRefreshTokensOf(db: Db, kind: string, principalId: number, now: number): Promise<void> {
  await db.updateTable('refresh_tokens').set({ revoked_at: now }).where('principal_kind', '=', kind as 'user').where('principal_id', '=', principalId).where('revoked_at', 'is', null).execute();
}

export async function revokeRefreshTokensOfKey(db: Db, apiKeyId: number, now: number): Promise<void> {
  await db.updateTable('refresh_tokens').set({ revoked_at: now }).where('api_key_id', '=', apiKeyId).where('revoked_at', 'is', null).execute();
}
