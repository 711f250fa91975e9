import type { Kysely, Selectable } from 'kysely';
import type { Database, VulndbSourceTable } from './schema.js';

type Db = Kysely<Database>;

export async function findSource(db: Db, name: string): Promise<Selectable<VulndbSourceTable> | undefined> {
  return db.selectFrom('vulndb_sources').selectAll().where('name', '=', name).executeTakeFirst();
}

export async function listSources(db: Db): Promise<Array<Selectable<VulndbSourceTable>>> {
  return db.selectFrom('vulndb_sources').selectAll().orderBy('name').execute();
}

/** Records an attempt that ended well: the export was imported (validators replaced) or is unchanged. */
export async function saveSourceSuccess(db: Db, name: string, url: string, at: number, imported?: { etag: string | null; lastModified: string | null; records: number; changed: number }): Promise<void> {
  const values = {
    url, last_attempt_at: at, last_success_at: at, last_error: null, last_error_at: null,
    ...(imported ? { etag: imported.etag, last_modified: imported.lastModified, records: imported.records, changed: imported.changed, ...(imported.changed > 0 ? { last_changed_at: at } : {}) } : {}),
  };
  await db.insertInto('vulndb_sources').values({ name, ...values })
    .onConflict((oc) => oc.column('name').doUpdateSet(values)).execute();
}

/** Records a failed attempt; the validators and counts of the data still loaded stay. */
export async function saveSourceError(db: Db, name: string, url: string, at: number, error: string): Promise<void> {
  const values = { url, last_attempt_at: at, last_error: error, last_error_at: at };
  await db.insertInto('vulndb_sources').values({ name, ...values })
    .onConflict((oc) => oc.column('name').doUpdateSet(values)).execute();
}

/** When the newest sync attempt of any source began, or null before the first. */
export async function lastAttemptAt(db: Db): Promise<number | null> {
  const row = await db.selectFrom('vulndb_sources').select((eb) => eb.fn.max('last_attempt_at').as('at')).executeTakeFirst();
  return row?.at == null ? null : Number(row.at);
}

/** When the data was last confirmed current by a sync, or null. */
export async function lastSuccessAt(db: Db): Promise<number | null> {
  const row = await db.selectFrom('vulndb_sources').select((eb) => eb.fn.max('last_success_at').as('at')).executeTakeFirst();
  return row?.at == null ? null : Number(row.at);
}
