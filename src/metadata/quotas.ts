import { sql, type Kysely } from 'kysely';
import type { Database } from './schema.js';

type Db = Kysely<Database>;

export async function findQuota(db: Db, accountId: number) {
  return db.selectFrom('account_quotas').selectAll().where('account_id', '=', accountId).executeTakeFirst();
}

export async function upsertQuota(db: Db, accountId: number, storageBytes: number | null, pullBytesPerMonth: number | null): Promise<void> {
  await db.insertInto('account_quotas').values({ account_id: accountId, storage_bytes: storageBytes, pull_bytes_per_month: pullBytesPerMonth })
    .onConflict((oc) => oc.column('account_id').doUpdateSet({ storage_bytes: storageBytes, pull_bytes_per_month: pullBytesPerMonth }))
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

export async function pullBytes(db: Db, accountId: number, month: string): Promise<number> {
  const row = await db.selectFrom('account_pull_usage').select('bytes').where('account_id', '=', accountId).where('month', '=', month).executeTakeFirst();
  return Number(row?.bytes ?? 0);
}

export async function addPullBytes(db: Db, accountId: number, month: string, bytes: number): Promise<void> {
  await db.insertInto('account_pull_usage').values({ account_id: accountId, month, bytes })
    .onConflict((oc) => oc.columns(['account_id', 'month']).doUpdateSet((eb) => ({ bytes: eb('account_pull_usage.bytes', '+', bytes) })))
    .execute();
}
