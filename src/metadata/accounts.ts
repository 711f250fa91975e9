import type { Kysely } from 'kysely';
import type { Database } from './schema.js';

type Db = Kysely<Database>;

export async function findAccountByName(db: Db, name: string) {
  return db.selectFrom('accounts').selectAll().where('name', '=', name).executeTakeFirst();
}

export async function findAccount(db: Db, id: number) {
  return db.selectFrom('accounts').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function insertAccount(db: Db, name: string, now: number): Promise<number> {
  const row = await db.insertInto('accounts').values({ name, created_at: now }).returning('id').executeTakeFirstOrThrow();
  return row.id;
}

export async function countAccounts(db: Db): Promise<number> {
  const row = await db.selectFrom('accounts').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Every account with its owners' usernames and its namespace count, oldest first (for the registry operator). */
export async function listAccounts(db: Db): Promise<Array<{ id: number; name: string; created_at: number; owners: string[]; namespaces: number }>> {
  const accounts = await db.selectFrom('accounts')
    .select((eb) => ['id', 'name', 'created_at', eb.selectFrom('namespaces').whereRef('namespaces.account_id', '=', 'accounts.id').select((n) => n.fn.countAll<number>().as('n')).as('namespaces')])
    .orderBy('id').execute();
  const owners = await db.selectFrom('users').select(['account_id', 'username']).where('owner', '=', 1).orderBy('id').execute();
  return accounts.map((a) => ({
    id: a.id, name: a.name, created_at: a.created_at,
    owners: owners.filter((o) => o.account_id === a.id).map((o) => o.username),
    namespaces: Number(a.namespaces ?? 0),
  }));
}
