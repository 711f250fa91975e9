import type { Kysely } from 'kysely';
import type { Database } from './schema.js';

type Db = Kysely<Database>;

export interface NamespaceRow {
  id: number;
  account_id: number;
  name: string;
  public_pull: number;
  created_at: number;
}

export async function findNamespace(db: Db, name: string): Promise<NamespaceRow | undefined> {
  return db.selectFrom('namespaces').selectAll().where('name', '=', name).executeTakeFirst();
}

/** Inserts the namespace; false when the name is taken (by any account). */
export async function insertNamespace(db: Db, accountId: number, name: string, now: number): Promise<boolean> {
  const result = await db.insertInto('namespaces').values({ account_id: accountId, name, public_pull: 0, created_at: now })
    .onConflict((oc) => oc.column('name').doNothing()).executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
}

export async function listNamespaces(db: Db, accountId: number): Promise<NamespaceRow[]> {
  return db.selectFrom('namespaces').selectAll().where('account_id', '=', accountId).orderBy('name').execute();
}

export async function deleteNamespace(db: Db, id: number): Promise<void> {
  await db.deleteFrom('namespaces').where('id', '=', id).execute();
}

export async function setPublicPull(db: Db, id: number, on: boolean): Promise<void> {
  await db.updateTable('namespaces').set({ public_pull: on ? 1 : 0 }).where('id', '=', id).execute();
}

/** Names of the public-pull namespaces among `names`. */
export async function publicNamespaces(db: Db, names: string[]): Promise<Set<string>> {
  if (names.length === 0) return new Set();
  const rows = await db.selectFrom('namespaces').select('name').where('name', 'in', names).where('public_pull', '=', 1).execute();
  return new Set(rows.map((r) => r.name));
}
