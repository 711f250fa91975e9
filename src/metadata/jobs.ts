import type { Kysely } from 'kysely';
import type { Database, JobTable } from './schema.js';

type Db = Kysely<Database>;

export type JobRow = Omit<JobTable, 'id'> & { id: number };

/** Adds a job; with a dedupe key already pending, nothing is added. */
export async function insertJob(db: Db, job: { kind: string; dedupeKey: string | null; payload: unknown; runAfter: number; now: number }): Promise<void> {
  await db.insertInto('jobs').values({
    kind: job.kind, dedupe_key: job.dedupeKey, payload: JSON.stringify(job.payload), state: 'pending', attempts: 0,
    run_after: job.runAfter, lease_until: null, leased_by: null, last_error: null, created_at: job.now,
  }).onConflict((oc) => oc.column('dedupe_key').doNothing()).execute();
}

/**
 * Leases the oldest runnable job of the given kinds. The conditional update is the lock: of two
 * replicas racing for one job, exactly one updates the row.
 */
export async function leaseJob(db: Db, kinds: string[], worker: string, now: number, leaseMs: number): Promise<JobRow | undefined> {
  for (let tries = 0; tries < 5; tries++) {
    const candidate = await db.selectFrom('jobs').select('id')
      .where('state', '=', 'pending').where('kind', 'in', kinds).where('run_after', '<=', now)
      .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now)]))
      .orderBy('id').limit(1).executeTakeFirst();
    if (!candidate) return undefined;
    const result = await db.updateTable('jobs')
      .set((eb) => ({ lease_until: now + leaseMs, leased_by: worker, attempts: eb('attempts', '+', 1) }))
      .where('id', '=', candidate.id).where('state', '=', 'pending')
      .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now)]))
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) > 0) {
      return db.selectFrom('jobs').selectAll().where('id', '=', candidate.id).executeTakeFirst() as Promise<JobRow | undefined>;
    }
  }
  return undefined;
}

export async function completeJob(db: Db, id: number): Promise<void> {
  await db.deleteFrom('jobs').where('id', '=', id).execute();
}

/** Retries later, or gives up after too many attempts (kept as failed, with its error, for operators). */
export async function failJob(db: Db, id: number, error: string, retryAt: number | null): Promise<void> {
  await db.updateTable('jobs').set(retryAt === null
    ? { state: 'failed', lease_until: null, last_error: error, dedupe_key: null }
    : { run_after: retryAt, lease_until: null, last_error: error })
    .where('id', '=', id).execute();
}

export async function countJobs(db: Db, kind: string): Promise<{ pending: number; failed: number }> {
  const rows = await db.selectFrom('jobs').select(['state', (eb) => eb.fn.countAll<number>().as('n')]).where('kind', '=', kind).groupBy('state').execute();
  return {
    pending: Number(rows.find((r) => r.state === 'pending')?.n ?? 0),
    failed: Number(rows.find((r) => r.state === 'failed')?.n ?? 0),
  };
}

export async function hasPendingJob(db: Db, dedupeKey: string): Promise<boolean> {
  return (await db.selectFrom('jobs').select('id').where('dedupe_key', '=', dedupeKey).where('state', '=', 'pending').executeTakeFirst()) !== undefined;
}
