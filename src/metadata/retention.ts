import type { Kysely } from 'kysely';
import type { Database } from './schema.js';

type Db = Kysely<Database>;

export async function findRetention(db: Db, namespaceId: number) {
  return db.selectFrom('namespace_retention').selectAll().where('namespace_id', '=', namespaceId).executeTakeFirst();
}

export async function upsertRetention(db: Db, namespaceId: number, keepImages: number | null, removeUntagged: boolean): Promise<void> {
  await db.insertInto('namespace_retention').values({ namespace_id: namespaceId, keep_images: keepImages, remove_untagged: removeUntagged ? 1 : 0, last_run_at: null })
    .onConflict((oc) => oc.column('namespace_id').doUpdateSet({ keep_images: keepImages, remove_untagged: removeUntagged ? 1 : 0 }))
    .execute();
}

/** Claims the scheduled run of one namespace's policy: true for exactly one replica per period. */
export async function claimScheduledRun(db: Db, namespaceId: number, now: number, periodMs: number): Promise<boolean> {
  const result = await db.updateTable('namespace_retention').set({ last_run_at: now })
    .where('namespace_id', '=', namespaceId)
    .where((eb) => eb.or([eb('last_run_at', 'is', null), eb('last_run_at', '<', now - periodMs)]))
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

export async function listRetentionPolicies(db: Db) {
  return db.selectFrom('namespace_retention as nr').innerJoin('namespaces as n', 'n.id', 'nr.namespace_id')
    .select(['nr.namespace_id', 'n.name', 'n.account_id', 'nr.keep_images', 'nr.remove_untagged', 'nr.last_run_at'])
    .execute();
}
