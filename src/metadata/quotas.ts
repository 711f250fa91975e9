import { sql, type Kysely } from 'kysely';
import type { Database } from './schema.js';

type Db = Kysely<Database>;

export async function findQuota(db: Db, accountId: number) {
  return db.selectFrom('account_quotas').selectAll().where('account_id', '=', accountId).executeTakeFirst();
}

export interface QuotaLimits {
  storage_bytes: number | null;
  pull_bytes_per_month: number | null;
  public_pull_bytes_per_month: number | null;
}

export async function upsertQuota(db: Db, accountId: number, limits: QuotaLimits): Promise<void> {
  await db.insertInto('account_quotas').values({ account_id: accountId, ...limits })
    .onConflict((oc) => oc.column('account_id').doUpdateSet(limits))
    .execute();
}

/** Bytes of the distinct blobs linked in the account's repositories (a layer shared by two images counts once). */
export async function storageUsed(db: Db, accountId: number): Promise<number> {
  const row = await db.selectFrom('blobs as b')
    .select((eb) => eb.fn.coalesce(eb.fn.sum<number>('b.size'), sql<number>`0`).as('used'))
    .where('b.digest', 'in', (eb) => eb.selectFrom('repository_blobs as rb')
      .innerJoin('repositories as r', 'r.id', 'rb.repository_id')
      .innerJoin('namespaces as n', (join) => join
        .on('r.name', '>=', sql<string>`n.name || '/'`)
        .on('r.name', '<', sql<string>`n.name || '0'`))
      .select('rb.digest')
      .where('n.account_id', '=', accountId))
    .executeTakeFirstOrThrow();
  return Number(row.used);
}

/** Whether the account already stores this blob in one of its repositories. */
export async function accountHasBlob(db: Db, accountId: number, digest: string): Promise<boolean> {
  const row = await db.selectFrom('repository_blobs as rb')
    .innerJoin('repositories as r', 'r.id', 'rb.repository_id')
    .innerJoin('namespaces as n', (join) => join
      .on('r.name', '>=', sql<string>`n.name || '/'`)
      .on('r.name', '<', sql<string>`n.name || '0'`))
    .select('rb.digest')
    .where('n.account_id', '=', accountId).where('rb.digest', '=', digest)
    .executeTakeFirst();
  return row !== undefined;
}

/** Bytes pulled in `month` by the account's own principals and, separately, by everyone else. */
export async function pullBytes(db: Db, accountId: number, month: string): Promise<{ own: number; public: number }> {
  const row = await db.selectFrom('account_pull_usage').select(['bytes', 'public_bytes']).where('account_id', '=', accountId).where('month', '=', month).executeTakeFirst();
  return { own: Number(row?.bytes ?? 0), public: Number(row?.public_bytes ?? 0) };
}

export async function addPullBytes(db: Db, accountId: number, month: string, bytes: number): Promise<void> {
  await db.insertInto('account_pull_usage').values({ account_id: accountId, month, bytes })
    .onConflict((oc) => oc.columns(['account_id', 'month']).doUpdateSet((eb) => ({ bytes: eb('account_pull_usage.bytes', '+', bytes) })))
    .execute();
}

export async function addPublicPullBytes(db: Db, accountId: number, month: string, bytes: number): Promise<void> {
  await db.insertInto('account_pull_usage').values({ account_id: accountId, month, bytes: 0, public_bytes: bytes })
    .onConflict((oc) => oc.columns(['account_id', 'month']).doUpdateSet((eb) => ({ public_bytes: eb('account_pull_usage.public_bytes', '+', bytes) })))
    .execute();
}
