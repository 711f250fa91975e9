import { sql, type Kysely } from 'kysely';
import type { Database } from './schema.js';

type Db = Kysely<Database>;

export async function findAdvisoryModified(db: Db, id: string): Promise<string | undefined> {
  return (await db.selectFrom('advisories').select('modified').where('id', '=', id).executeTakeFirst())?.modified;
}

/** Replaces an advisory and its package and ID indexes (`ids`: its own, aliases and upstream IDs). */
export async function upsertAdvisory(db: Db, id: string, modified: string, record: string, packages: Array<{ ecosystem: string; name: string }>, ids: string[] = [id]): Promise<void> {
  await db.deleteFrom('advisory_packages').where('advisory_id', '=', id).execute();
  await db.deleteFrom('advisory_ids').where('advisory_id', '=', id).execute();
  await db.insertInto('advisories').values({ id, modified, record })
    .onConflict((oc) => oc.column('id').doUpdateSet({ modified, record })).execute();
  const unique = new Map(packages.map((p) => [`${p.ecosystem}\u0000${p.name}`, p]));
  if (unique.size > 0) {
    await db.insertInto('advisory_packages').values([...unique.values()].map((p) => ({ advisory_id: id, ecosystem: p.ecosystem, name: p.name }))).execute();
  }
  const aliases = [...new Set([id, ...ids])];
  await db.insertInto('advisory_ids').values(aliases.map((alias) => ({ alias_id: alias, advisory_id: id }))).execute();
}

/** Advisories that go by any of these IDs (as their own, an alias or an upstream ID); at most `limit`. */
export async function advisoriesSharingIds(db: Db, ids: string[], limit = 200): Promise<string[]> {
  if (ids.length === 0) return [];
  const rows = await db.selectFrom('advisories as a').select('a.record')
    .where('a.id', 'in', (eb) => eb.selectFrom('advisory_ids').select('advisory_id').where('alias_id', 'in', ids))
    .orderBy('a.id').limit(limit).execute();
  return rows.map((r) => r.record);
}

/**
 * Advisories of a package in an ecosystem. With `subEcosystems`, also those of ecosystems that
 * name a part after it (Red Hat's "Red Hat:enterprise_linux:9::baseos" for "Red Hat:enterprise_linux:9").
 */
export async function advisoriesFor(db: Db, ecosystem: string, name: string, opts: { subEcosystems?: boolean } = {}): Promise<string[]> {
  const like = `${ecosystem.replace(/[\\%_]/g, (c) => `\\${c}`)}::%`;
  const rows = await db.selectFrom('advisory_packages as ap').innerJoin('advisories as a', 'a.id', 'ap.advisory_id')
    .select('a.record').distinct()
    .where((eb) => (opts.subEcosystems
      ? eb.or([eb('ap.ecosystem', '=', ecosystem), eb('ap.ecosystem', 'like', sql<string>`${like} ESCAPE '\\'`)])
      : eb('ap.ecosystem', '=', ecosystem)))
    .where('ap.name', '=', name).execute();
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
  await db.deleteFrom('advisory_ids').where('advisory_id', '=', id).execute();
  const result = await db.deleteFrom('advisories').where('id', '=', id).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

/** The `modified` of each of the advisories loaded among `ids`. */
export async function modifiedOf(db: Db, ids: string[]): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const rows = await db.selectFrom('advisories').select(['id', 'modified']).where('id', 'in', ids).execute();
  return new Map(rows.map((r) => [r.id, r.modified]));
}
