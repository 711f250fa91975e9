import type { Insertable, Kysely } from 'kysely';
import type { AuditEventTable, Database } from './schema.js';

type Db = Kysely<Database>;

export async function insertAuditEvent(db: Db, event: Insertable<AuditEventTable>): Promise<void> {
  await db.insertInto('audit_events').values(event).execute();
}

/** Newest first; `before` is the id to page from. */
export async function listAuditEvents(db: Db, accountId: number, limit: number, before?: number) {
  let query = db.selectFrom('audit_events').selectAll().where('account_id', '=', accountId).orderBy('id', 'desc').limit(limit);
  if (before !== undefined) query = query.where('id', '<', before);
  return query.execute();
}
