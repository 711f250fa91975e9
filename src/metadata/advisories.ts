import type { Kysely } from 'kysely';
import type { Database } from './schema.js';

type Db = Kysely<Database>;

export async function findAdvisoryModified(db: Db, id: string): Promise<string | undefined> {
  return (await db.selectFrom('advisories').select('modified').where('id', '=', id).executeTakeFirst())?.modified;
}

/** Replaces an advisory and its package index. */
export async function upsertAdvisory(db: Db, id: string, modified: string, record: string, packages: Array<{ ecosystem: string; name: string }>): Promise<void> {
  await db.deleteFrom('advisory_packages').where('advisory_id', '=', id).execute();
  await db.insertInto('advisories').values({ id, modified, record })
    .onConflict((oc) => oc.column('id').doUpdateSet({ modified, record })).execute();
  const unique = new Map(packages.map((p) => [`${p.ecosystem}\u0000${p.name}`, p]));
  if (unique.size > 0) {
    await db.insertInto('advisory_packages').values([...unique.values()].map((p) => ({ advisory_id: id, ecosystem: p.ecosystem, name: p.name }))).execute();
  }
}

export async function advisoriesFor(db: Db, ecosystem: string, name: string): Promise<string[]> {
  const rows = await db.selectFrom('advisory_packages as ap').innerJoin('advisories as a', 'a.id', 'ap.advisory_id')
    .select('a.record').where('ap.ecosystem', '=', ecosystem).where('ap.name', '=', name).execute();
  return rows.map((r) => r.record);
}

export async function insertImport(db: Db, row: { imported_at: number; source: string; records: number; changed: number; data_date: string | null }): Promise<number> {
  return (await db.insertInto('vulndb_imports').values(row).returning('id').executeTakeFirstOrThrow()).id;
}

export async function latestImport(db: Db) {
  return db.selectFrom('vulndb_imports').selectAll().orderBy('id', 'desc').limit(1).executeTakeFirst();
}

export async function newestModified(db: Db): Promise<string | null> {
  const row = await db.selectFrom('advisories').select((eb) => eb.fn.max('modified').as('m')).executeTakeFirst();
  return (row?.m as string | null | undefined) ?? null;
}

export async function countByEcosystem(db: Db): Promise<Array<{ ecosystem: string; advisories: number }>> {
  const rows = await db.selectFrom('advisory_packages').select(['ecosystem', (eb) => eb.fn.count<number>('advisory_id').distinct().as('n')])
    .groupBy('ecosystem').orderBy('ecosystem').execute();
  return rows.map((r) => ({ ecosystem: r.ecosystem, advisories: Number(r.n) }));
}

export async function countAdvisories(db: Db): Promise<number> {
  const row = await db.selectFrom('advisories').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return Number(row.n);
}

/** The (ecosystem, package) index of one advisory, as stored. */
export async function packagesOfAdvisory(db: Db, id: string): Promise<Array<{ ecosystem: string; name: string }>> {
  return db.selectFrom('advisory_packages').select(['ecosystem', 'name']).where('advisory_id', '=', id).execute();
}

/** Removes an advisory (withdrawn by its publisher); false when it was not loaded. */
export async function deleteAdvisory(db: Db, id: string): Promise<boolean> {
  await db.deleteFrom('advisory_packages').where('advisory_id', '=', id).execute();
  const result = await db.deleteFrom('advisories').where('id', '=', id).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

/** The `modified` of each of the advisories loaded among `ids`. */
export async function modifiedOf(db: Db, ids: string[]): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const rows = await db.selectFrom('advisories').select(['id', 'modified']).where('id', 'in', ids).execute();
  return new Map(rows.map((r) => [r.id, r.modified]));
}
