import type { Kysely } from 'kysely';
import type { Database } from './schema.js';

type Db = Kysely<Database>;

export interface GcRunCounts {
  linksRemoved: number;
  blobsRemoved: number;
  bytesFreed: number;
  orphansRemoved: number;
}

export async function startRun(db: Db, trigger: string, dryRun: boolean, now: number): Promise<number> {
  const row = await db.insertInto('gc_runs').values({ trigger, dry_run: dryRun ? 1 : 0, started_at: now, links_removed: 0, blobs_removed: 0, bytes_freed: 0, orphans_removed: 0 }).returning('id').executeTakeFirstOrThrow();
  return Number(row.id);
}

export async function finishRun(db: Db, id: number, now: number, counts: GcRunCounts, error: string | null): Promise<void> {
  await db.updateTable('gc_runs').set({
    finished_at: now, links_removed: counts.linksRemoved, blobs_removed: counts.blobsRemoved,
    bytes_freed: counts.bytesFreed, orphans_removed: counts.orphansRemoved, error: error?.slice(0, 2000) ?? null,
  }).where('id', '=', id).execute();
}

export async function recentRuns(db: Db, limit: number) {
  return db.selectFrom('gc_runs').selectAll().orderBy('started_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
}
