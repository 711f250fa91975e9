import type { Kysely } from 'kysely';
import type { Database } from './schema.js';

type Db = Kysely<Database>;

export async function findUserByName(db: Db, username: string) {
  return db.selectFrom('users').selectAll().where('username', '=', username).executeTakeFirst();
}

export async function findUser(db: Db, id: number) {
  return db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function insertUser(db: Db, user: { accountId: number; username: string; passwordHash: string; owner: boolean; now: number }): Promise<number> {
  const row = await db.insertInto('users').values({
    account_id: user.accountId, username: user.username, password_hash: user.passwordHash, owner: user.owner ? 1 : 0, created_at: user.now,
  }).returning('id').executeTakeFirstOrThrow();
  return row.id;
}

export async function listUsers(db: Db, accountId: number) {
  return db.selectFrom('users').select(['id', 'username', 'owner', 'created_at']).where('account_id', '=', accountId).orderBy('username').execute();
}

export async function updatePassword(db: Db, id: number, passwordHash: string): Promise<void> {
  await db.updateTable('users').set({ password_hash: passwordHash }).where('id', '=', id).execute();
}

export async function deleteUser(db: Db, id: number): Promise<void> {
  await db.deleteFrom('users').where('id', '=', id).execute();
}

export async function findServiceId(db: Db, id: number) {
  return db.selectFrom('service_ids').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function findServiceIdByName(db: Db, accountId: number, name: string) {
  return db.selectFrom('service_ids').selectAll().where('account_id', '=', accountId).where('name', '=', name).executeTakeFirst();
}

export async function insertServiceId(db: Db, accountId: number, name: string, description: string, now: number): Promise<number> {
  const row = await db.insertInto('service_ids').values({ account_id: accountId, name, description, created_at: now }).returning('id').executeTakeFirstOrThrow();
  return row.id;
}

export async function listServiceIds(db: Db, accountId: number) {
  return db.selectFrom('service_ids').selectAll().where('account_id', '=', accountId).orderBy('name').execute();
}

export async function deleteServiceId(db: Db, id: number): Promise<void> {
  await db.deleteFrom('service_ids').where('id', '=', id).execute();
}
