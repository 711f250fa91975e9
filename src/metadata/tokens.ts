import type { Kysely } from 'kysely';
import type { Database, RefreshTokenTable, SigningKeyTable } from './schema.js';

type Db = Kysely<Database>;

export async function listSigningKeys(db: Db): Promise<SigningKeyTable[]> {
  return db.selectFrom('signing_keys').selectAll().orderBy('created_at').orderBy('kid').execute();
}

export async function insertSigningKey(db: Db, key: SigningKeyTable): Promise<void> {
  await db.insertInto('signing_keys').values(key).execute();
}

/**
 * Retires the keys made before `newest` (by creation time, then kid), never a later one: replicas
 * rotating at the same moment (a first start of several) leave the latest of their keys current,
 * rather than each retiring the others' and leaving none.
 */
export async function retireSigningKeysBefore(db: Db, newest: { kid: string; created_at: number }, now: number): Promise<void> {
  await db.updateTable('signing_keys').set({ retired_at: now })
    .where('retired_at', 'is', null)
    .where((eb) => eb.or([
      eb('created_at', '<', newest.created_at),
      eb.and([eb('created_at', '=', newest.created_at), eb('kid', '<', newest.kid)]),
    ]))
    .execute();
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

export async function revokeRefreshToken(db: Db, id: string, now: number): Promise<void> {
  await db.updateTable('refresh_tokens').set({ revoked_at: now }).where('id', '=', id).where('revoked_at', 'is', null).execute();
}

export async function revokeRefreshTokensOf(db: Db, kind: string, principalId: number, now: number): Promise<void> {
  await db.updateTable('refresh_tokens').set({ revoked_at: now }).where('principal_kind', '=', kind as 'user').where('principal_id', '=', principalId).where('revoked_at', 'is', null).execute();
}

export async function revokeRefreshTokensOfKey(db: Db, apiKeyId: number, now: number): Promise<void> {
  await db.updateTable('refresh_tokens').set({ revoked_at: now }).where('api_key_id', '=', apiKeyId).where('revoked_at', 'is', null).execute();
}
