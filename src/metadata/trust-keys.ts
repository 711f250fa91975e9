import type { Kysely, Selectable } from 'kysely';
import type { Database, TrustKeyKind, TrustKeyTable } from './schema.js';

type Db = Kysely<Database>;

export type TrustKeyRow = Selectable<TrustKeyTable>;

export interface NewTrustKey {
  accountId: number;
  name: string;
  namespace: string | null;
  kind: TrustKeyKind;
  publicKey: string;
  fingerprint: string;
  by: string;
  now: number;
}

/** The account's keys, by name. */
export async function listTrustKeys(db: Db, accountId: number): Promise<TrustKeyRow[]> {
  return db.selectFrom('trust_keys').selectAll().where('account_id', '=', accountId).orderBy('name').execute();
}

/** The keys that apply to images of a namespace: the account's own and the namespace's. */
export async function trustKeysFor(db: Db, accountId: number, namespace: string): Promise<TrustKeyRow[]> {
  return db.selectFrom('trust_keys').selectAll().where('account_id', '=', accountId)
    .where((eb) => eb.or([eb('namespace', 'is', null), eb('namespace', '=', namespace)]))
    .orderBy('name').execute();
}

/** Adds a key; false when the account has a key of that name already. */
export async function insertTrustKey(db: Db, key: NewTrustKey): Promise<boolean> {
  const result = await db.insertInto('trust_keys').values({
    account_id: key.accountId, name: key.name, namespace: key.namespace, kind: key.kind, public_key: key.publicKey,
    fingerprint: key.fingerprint, created_at: key.now, created_by: key.by.slice(0, 200),
  }).onConflict((oc) => oc.columns(['account_id', 'name']).doNothing()).returning('id').executeTakeFirst();
  return result !== undefined;
}

export async function findTrustKey(db: Db, accountId: number, name: string): Promise<TrustKeyRow | undefined> {
  return db.selectFrom('trust_keys').selectAll().where('account_id', '=', accountId).where('name', '=', name).executeTakeFirst();
}

export async function deleteTrustKey(db: Db, accountId: number, name: string): Promise<boolean> {
  const result = await db.deleteFrom('trust_keys').where('account_id', '=', accountId).where('name', '=', name).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}
