import type { Insertable, Kysely } from 'kysely';
import type { AuditEventTable, Database } from './schema.js';

type Db = Kysely<Database>;

export async function insertAuditEvents(db: Db, events: Insertable<AuditEventTable>[]): Promise<void> {
  if (events.length > 0) await db.insertInto('audit_events').values(events).execute();
}

export interface AuditFilter {
  /** Only rows with an id below this one (the cursor of the previous page). */
  before?: number;
  /** Epoch milliseconds, inclusive. */
  since?: number;
  /** Epoch milliseconds, exclusive. */
  until?: number;
  /** `user alice`, `service ci`, or a bare name matching any kind (and failed logins as that name). */
  principal?: string;
  /** An action (`registry.push`), or a prefix ending in `*` (`registry.*`). */
  action?: string;
  namespace?: string;
  outcome?: string;
}

/** An account's events, newest first, matching the filter. */
export async function listAuditEvents(db: Db, accountId: number, limit: number, filter: AuditFilter = {}) {
  let query = db.selectFrom('audit_events').selectAll().where('account_id', '=', accountId).orderBy('id', 'desc').limit(limit);
  if (filter.before !== undefined) query = query.where('id', '<', filter.before);
  if (filter.since !== undefined) query = query.where('at', '>=', filter.since);
  if (filter.until !== undefined) query = query.where('at', '<', filter.until);
  if (filter.namespace !== undefined) query = query.where('namespace', '=', filter.namespace);
  if (filter.outcome !== undefined) query = query.where('outcome', '=', filter.outcome as AuditEventTable['outcome']);
  if (filter.action !== undefined) {
    const action = filter.action;
    // The API admits only letters, dots and a trailing `*`, so the prefix holds no LIKE wildcard.
    query = action.endsWith('*') ? query.where('action', 'like', `${action.slice(0, -1)}%`) : query.where('action', '=', action);
  }
  if (filter.principal !== undefined) {
    const p = filter.principal;
    const labels = /^(user|service|login) /.test(p) || p === 'anonymous' ? [p] : [`user ${p}`, `service ${p}`, `login ${p}`];
    query = query.where('actor', 'in', labels);
  }
  return query.execute();
}

/**
 * Deletes events older than `cutoff` (epoch ms), at most `batch` rows per statement so a first run
 * over years of rows does not hold a long transaction. Returns how many went.
 */
export async function deleteAuditEventsBefore(db: Db, cutoff: number, batch = 5000): Promise<number> {
  let removed = 0;
  for (;;) {
    const ids = db.selectFrom('audit_events').select('id').where('at', '<', cutoff).limit(batch);
    const result = await db.deleteFrom('audit_events').where('id', 'in', ids).executeTakeFirst();
    const n = Number(result.numDeletedRows);
    removed += n;
    if (n < batch) return removed;
  }
}
