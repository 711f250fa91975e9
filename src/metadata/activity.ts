import { SqliteAdapter, sql, type Kysely } from 'kysely';
import type { Database } from './schema.js';
import { yieldToRequests } from './yield.js';

type Db = Kysely<Database>;

/** The UTC day of an epoch-milliseconds time, YYYY-MM-DD. */
export function dayOf(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

export interface DailyPulls { accountId: number; namespace: string; day: string; pulls: number }

/** Adds pulls to their namespaces' days (one transaction). */
export async function addDailyPulls(db: Db, rows: DailyPulls[]): Promise<void> {
  if (rows.length === 0) return;
  await db.transaction().execute(async (trx) => {
    for (const row of rows) {
      await trx.insertInto('daily_usage').values({ account_id: row.accountId, namespace: row.namespace, day: row.day, pulls: row.pulls, storage_bytes: null })
        .onConflict((oc) => oc.columns(['account_id', 'day', 'namespace']).doUpdateSet((eb) => ({ pulls: eb('daily_usage.pulls', '+', row.pulls) })))
        .execute();
    }
  });
}

export async function pullsPerDay(db: Db, accountId: number, namespaces: string[], sinceDay: string): Promise<Map<string, number>> {
  if (namespaces.length === 0) return new Map();
  const rows = await db.selectFrom('daily_usage')
    .select(['day', (eb) => eb.fn.sum<number>('pulls').as('pulls')])
    .where('account_id', '=', accountId).where('namespace', 'in', namespaces).where('day', '>=', sinceDay)
    .groupBy('day')
    .execute();
  return new Map(rows.map((r) => [r.day, Number(r.pulls)]));
}

/** Repositories' names are `<namespace>/…`: a namespace holds the names between `ns/` and `ns0` ('0' follows '/'). */
const inNamespace = (namespace: string) => [`${namespace}/`, `${namespace}0`] as const;

/** A UTC day in milliseconds (epoch times count no leap seconds). */
export const DAY_MS = 24 * 3600 * 1000;

/** Manifests pushed per UTC day into the namespaces (still stored: a deleted image no longer counts). */
export async function pushesPerDay(db: Db, namespaces: string[], since: number): Promise<Map<string, number>> {
  const days = new Map<string, number>();
  // Counted per UTC day number in SQL (integer division on both engines): a namespace pushed to by
  // CI holds tens of thousands of manifests, and a row each to count here took 24 ms at 20,000.
  const dayNumber = sql<number>`m.created_at / ${sql.lit(DAY_MS)}`;
  for (const namespace of namespaces) {
    const [from, to] = inNamespace(namespace);
    const rows = await db.selectFrom('manifests as m').innerJoin('repositories as r', 'r.id', 'm.repository_id')
      .select([dayNumber.as('day'), (eb) => eb.fn.countAll<number>().as('pushes')])
      .where('r.name', '>=', from).where('r.name', '<', to).where('m.created_at', '>=', since)
      .groupBy(dayNumber)
      .execute();
    for (const row of rows) {
      const day = dayOf(Number(row.day) * DAY_MS);
      days.set(day, (days.get(day) ?? 0) + Number(row.pushes));
    }
  }
  return days;
}

/** Bytes of the distinct blobs linked in a namespace's repositories (as the storage quota counts them). */
export async function namespaceStorage(db: Db, namespace: string): Promise<number> {
  const [from, to] = inNamespace(namespace);
  const row = await db.selectFrom('blobs as b')
    .select((eb) => eb.fn.coalesce(eb.fn.sum<number>('b.size'), sql<number>`0`).as('used'))
    .where('b.digest', 'in', (eb) => eb.selectFrom('repository_blobs as rb').innerJoin('repositories as r', 'r.id', 'rb.repository_id')
      .select('rb.digest').where('r.name', '>=', from).where('r.name', '<', to))
    .executeTakeFirstOrThrow();
  return Number(row.used);
}

/**
 * What every namespace holds (namespaceStorage for all of them), a window of `batch` blobs (digest
 * order) a statement, yielding to requests between windows: one aggregate per namespace held
 * SQLite's event loop for the whole namespace (a namespace of 50,000 repositories). A blob linked
 * from several repositories of a namespace counts once in it. SQL groups each window's links by
 * digest and namespace, so a layer shared by every repository returns one row per namespace, not
 * one per link. Links move while the walk runs (pushes, deletes): a figure is as of its part of
 * the walk, fine for a daily picture, not for a quota.
 */
export async function storageByNamespace(db: Db, batch = 2000): Promise<Map<string, number>> {
  const namespaceOfName = db.getExecutor().adapter instanceof SqliteAdapter
    ? sql<string>`substr(r.name, 1, instr(r.name, '/') - 1)`
    : sql<string>`split_part(r.name, '/', 1)`;
  const used = new Map<string, number>();
  let after = '';
  for (;;) {
    const edge = await db.selectFrom('blobs').select('digest').where('digest', '>', after)
      .orderBy('digest').limit(1).offset(batch - 1).executeTakeFirst();
    let blobs = db.selectFrom('blobs').select(['digest', 'size']).where('digest', '>', after);
    // CROSS JOIN: SQLite keeps this order, the window's links by the digest index first.
    let holders = db.selectFrom('repository_blobs as rb').crossJoin('repositories as r')
      .whereRef('r.id', '=', 'rb.repository_id').where('r.name', 'like', '%/%').where('rb.digest', '>', after)
      .select(['rb.digest', namespaceOfName.as('namespace')]).groupBy(['rb.digest', 'namespace']);
    if (edge) {
      blobs = blobs.where('digest', '<=', edge.digest);
      holders = holders.where('rb.digest', '<=', edge.digest);
    }
    const sizes = new Map((await blobs.execute()).map((b) => [b.digest, Number(b.size)]));
    for (const { digest, namespace } of await holders.execute()) used.set(namespace, (used.get(namespace) ?? 0) + (sizes.get(digest) ?? 0));
    if (!edge) return used;
    after = edge.digest;
    await yieldToRequests();
  }
}

/** The manifests of a namespace whose scan stored a report, with their repositories (not the reports). */
export async function namespaceScannedImages(db: Db, namespace: string): Promise<Array<{ name: string; digest: string }>> {
  const [from, to] = inNamespace(namespace);
  return db.selectFrom('manifests as m').innerJoin('repositories as r', 'r.id', 'm.repository_id')
    .innerJoin('scan_reports as s', 's.digest', 'm.digest')
    .select(['r.name', 'm.digest'])
    .where('r.name', '>=', from).where('r.name', '<', to)
    .execute();
}

/** Every namespace with its account (for the storage snapshots). */
export async function allNamespaces(db: Db): Promise<Array<{ name: string; accountId: number }>> {
  const rows = await db.selectFrom('namespaces').select(['name', 'account_id']).execute();
  return rows.map((r) => ({ name: r.name, accountId: Number(r.account_id) }));
}

/** Sets a namespace's storage for the day (the latest snapshot wins; replicas writing the same figure agree). */
export async function recordStorage(db: Db, row: { accountId: number; namespace: string; day: string; bytes: number }): Promise<void> {
  await db.insertInto('daily_usage').values({ account_id: row.accountId, namespace: row.namespace, day: row.day, storage_bytes: row.bytes })
    .onConflict((oc) => oc.columns(['account_id', 'day', 'namespace']).doUpdateSet({ storage_bytes: row.bytes }))
    .execute();
}

/** The storage snapshots of the namespaces since a day: namespace → day → bytes. */
export async function storagePerDay(db: Db, accountId: number, namespaces: string[], sinceDay: string): Promise<Map<string, Map<string, number>>> {
  const result = new Map<string, Map<string, number>>();
  if (namespaces.length === 0) return result;
  const rows = await db.selectFrom('daily_usage').select(['namespace', 'day', 'storage_bytes'])
    .where('account_id', '=', accountId).where('namespace', 'in', namespaces).where('day', '>=', sinceDay).where('storage_bytes', 'is not', null)
    .execute();
  for (const row of rows) {
    if (!result.has(row.namespace)) result.set(row.namespace, new Map());
    result.get(row.namespace)!.set(row.day, Number(row.storage_bytes));
  }
  return result;
}
