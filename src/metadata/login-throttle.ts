import type { Kysely } from 'kysely';
import type { Database } from './schema.js';

type Db = Kysely<Database>;

export async function findThrottle(db: Db, subject: string, source: string) {
  return db.selectFrom('login_throttle').select(['failures', 'blocked_until']).where('subject', '=', subject).where('source', '=', source).executeTakeFirst();
}

/**
 * Counts one login attempt of `subject` from `source`, unless that source is blocked right now.
 * One statement, so replicas and parallel requests cannot both slip past a block: the attempt that
 * reaches `freeFailures` blocks the pair until `provisionalUntil` in the same write (the caller then
 * shortens it to the real back-off). Failures older than `forgetBefore` start the count again.
 * Returns the count including this attempt, or undefined when the source is blocked.
 */
export async function countAttempt(db: Db, subject: string, source: string, now: number,
  limits: { freeFailures: number; forgetBefore: number; provisionalUntil: number }): Promise<number | undefined> {
  const row = await db.insertInto('login_throttle')
    .values({ subject, source, failures: 1, blocked_until: limits.freeFailures <= 1 ? limits.provisionalUntil : 0, last_failure_at: now })
    .onConflict((oc) => oc.columns(['subject', 'source'])
      .doUpdateSet((eb) => {
        const failures = eb.case().when('login_throttle.last_failure_at', '<', limits.forgetBefore).then(1)
          .else(eb('login_throttle.failures', '+', 1)).end();
        return {
          failures,
          blocked_until: eb.case().when(failures, '>=', limits.freeFailures).then(limits.provisionalUntil).else(0).end(),
          last_failure_at: now,
        };
      })
      .where('login_throttle.blocked_until', '<=', now))
    .returning('failures')
    .executeTakeFirst();
  return row?.failures;
}

export async function setBlockedUntil(db: Db, subject: string, source: string, until: number): Promise<void> {
  await db.updateTable('login_throttle').set({ blocked_until: until }).where('subject', '=', subject).where('source', '=', source).execute();
}

export async function clearThrottle(db: Db, subject: string, source: string): Promise<void> {
  await db.deleteFrom('login_throttle').where('subject', '=', subject).where('source', '=', source).execute();
}

/** Removes pairs whose failures are forgotten and whose block is over. */
export async function purgeThrottle(db: Db, forgetBefore: number, now: number): Promise<void> {
  await db.deleteFrom('login_throttle').where('last_failure_at', '<', forgetBefore).where('blocked_until', '<=', now).execute();
}
