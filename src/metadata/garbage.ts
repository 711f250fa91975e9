import type { ExpressionBuilder, Kysely } from 'kysely';
import type { Database } from './schema.js';

type Db = Kysely<Database>;

/**
 * The garbage collector's queries. A link (repository, digest) is live while a manifest of that
 * repository or a trashed image of it references the digest, or while it is younger than the grace
 * period (a push links its blobs before its manifest arrives). A blob is live while any link, any
 * manifest or any trashed image references it. The candidate lists are read without locks; each
 * removal re-checks its condition in one statement after taking the blob's lock (blob-locks.ts).
 */

export interface LinkKey {
  repositoryId: number;
  digest: string;
}

function linkUnreferenced(eb: ExpressionBuilder<Database, 'repository_blobs'>) {
  // References carry their manifest's repository (migration 0025): one probe of (repository_id, digest),
  // where a join through manifests walked either the repository's manifests or the digest's references
  // in every repository per link, quadratic in one or the other. Trashed images are few: CROSS JOIN
  // keeps SQLite's order from the digest's trash references.
  return eb.and([
    eb.not(eb.exists(eb.selectFrom('manifest_references as mr')
      .select('mr.manifest_id')
      .whereRef('mr.repository_id', '=', 'repository_blobs.repository_id')
      .whereRef('mr.digest', '=', 'repository_blobs.digest').where('mr.kind', '=', 'blob'))),
    eb.not(eb.exists(eb.selectFrom('trash_references as tr').crossJoin('trash as t').crossJoin('repositories as r')
      .select('tr.trash_id')
      .whereRef('t.id', '=', 'tr.trash_id')
      .whereRef('r.name', '=', 't.repository_name')
      .whereRef('tr.digest', '=', 'repository_blobs.digest')
      .whereRef('r.id', '=', 'repository_blobs.repository_id'))),
  ]);
}

/** A link's key against `key`, as row values: both engines read that as a range of the primary key's index. */
function compareLinkKey(eb: ExpressionBuilder<Database, 'repository_blobs'>, op: '>' | '<=', key: LinkKey) {
  return eb(eb.refTuple('repository_blobs.repository_id', 'repository_blobs.digest'), op, eb.tuple(key.repositoryId, key.digest));
}

/**
 * Links older than `before` that nothing in their repository references, after `after` and up to
 * `upTo` (inclusive) in key order. Without `upTo` one statement may walk every link of the registry
 * to find none (all live): the collector bounds it with linkWindowEdge.
 */
export async function staleLinks(db: Db, before: number, limit: number, after?: LinkKey, upTo?: LinkKey): Promise<LinkKey[]> {
  const rows = await db.selectFrom('repository_blobs')
    .select(['repository_blobs.repository_id', 'repository_blobs.digest'])
    .where('repository_blobs.created_at', '<', before)
    .where((eb) => linkUnreferenced(eb))
    .$if(after !== undefined, (q) => q.where((eb) => compareLinkKey(eb, '>', after!)))
    .$if(upTo !== undefined, (q) => q.where((eb) => compareLinkKey(eb, '<=', upTo!)))
    .orderBy('repository_blobs.repository_id').orderBy('repository_blobs.digest')
    .limit(limit)
    .execute();
  return rows.map((r) => ({ repositoryId: r.repository_id, digest: r.digest }));
}

/**
 * The key `size` links after `after` (the last link of a window of that many), or undefined when
 * fewer are left: the collector checks links a window at a time and lets requests run between
 * windows (on SQLite a statement holds the event loop; one over 150,000 live links held it 120 ms).
 * Keys compare as row values, which both engines read as a range of the primary key's index (the
 * equivalent OR of comparisons made SQLite walk the table from its start for every window).
 */
export async function linkWindowEdge(db: Db, size: number, after?: LinkKey): Promise<LinkKey | undefined> {
  const row = await db.selectFrom('repository_blobs')
    .select(['repository_blobs.repository_id', 'repository_blobs.digest'])
    .$if(after !== undefined, (q) => q.where((eb) => compareLinkKey(eb, '>', after!)))
    .orderBy('repository_blobs.repository_id').orderBy('repository_blobs.digest')
    .limit(1).offset(size - 1)
    .executeTakeFirst();
  return row && { repositoryId: row.repository_id, digest: row.digest };
}

/** The digest `size` blobs after `after` in digest order, or undefined when fewer are left (as linkWindowEdge). */
export async function blobWindowEdge(db: Db, size: number, after?: string): Promise<string | undefined> {
  const row = await db.selectFrom('blobs').select('blobs.digest')
    .$if(after !== undefined, (q) => q.where('blobs.digest', '>', after!))
    .orderBy('blobs.digest').limit(1).offset(size - 1)
    .executeTakeFirst();
  return row?.digest;
}

/** Removes the link if it is still stale; true when it did. Run after the blob's exclusive lock. */
export async function removeStaleLink(db: Db, link: LinkKey, before: number): Promise<boolean> {
  const result = await db.deleteFrom('repository_blobs')
    .where('repository_blobs.repository_id', '=', link.repositoryId).where('repository_blobs.digest', '=', link.digest)
    .where('repository_blobs.created_at', '<', before)
    .where((eb) => linkUnreferenced(eb))
    .executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

/** No manifest of any repository and no trashed image references the blob (links aside). */
function blobUnusedByImages(eb: ExpressionBuilder<Database, 'blobs'>) {
  return eb.and([
    eb.not(eb.exists(eb.selectFrom('manifest_references as mr').select('mr.digest').whereRef('mr.digest', '=', 'blobs.digest').where('mr.kind', '=', 'blob'))),
    eb.not(eb.exists(eb.selectFrom('trash_references as tr').select('tr.digest').whereRef('tr.digest', '=', 'blobs.digest'))),
  ]);
}

function blobUnreferenced(eb: ExpressionBuilder<Database, 'blobs'>) {
  return eb.and([
    eb.not(eb.exists(eb.selectFrom('repository_blobs as rb').select('rb.digest').whereRef('rb.digest', '=', 'blobs.digest'))),
    blobUnusedByImages(eb),
  ]);
}

export interface BlobKey {
  digest: string;
  size: number;
}

/** Blobs older than `before` that nothing links or references, after `after` and up to `upTo` in digest order. */
export async function unreferencedBlobs(db: Db, before: number, limit: number, after?: string, upTo?: string): Promise<BlobKey[]> {
  const rows = await db.selectFrom('blobs').select(['blobs.digest', 'blobs.size'])
    .where('blobs.created_at', '<', before)
    .where((eb) => blobUnreferenced(eb))
    .$if(after !== undefined, (q) => q.where('blobs.digest', '>', after!))
    .$if(upTo !== undefined, (q) => q.where('blobs.digest', '<=', upTo!))
    .orderBy('blobs.digest')
    .limit(limit)
    .execute();
  return rows.map((r) => ({ digest: r.digest, size: Number(r.size) }));
}

/** Removes the blob's row if it is still unreferenced; its size when it did. Run after its exclusive lock. */
export async function removeUnreferencedBlob(db: Db, digest: string): Promise<number | undefined> {
  const row = await db.deleteFrom('blobs').where('blobs.digest', '=', digest)
    .where((eb) => blobUnreferenced(eb))
    .returning('blobs.size')
    .executeTakeFirst();
  return row === undefined ? undefined : Number(row.size);
}

/** Which of `digests` have a blob row. */
export async function knownBlobs(db: Db, digests: string[]): Promise<Set<string>> {
  if (digests.length === 0) return new Set();
  const rows = await db.selectFrom('blobs').select('digest').where('digest', 'in', digests).execute();
  return new Set(rows.map((r) => r.digest));
}

/** Blobs older than `before` that no manifest and no trashed image references (links aside): a dry run's view. */
export async function blobsWithoutImages(db: Db, before: number, limit: number, after?: string, upTo?: string): Promise<BlobKey[]> {
  const rows = await db.selectFrom('blobs').select(['blobs.digest', 'blobs.size'])
    .where('blobs.created_at', '<', before)
    .where((eb) => blobUnusedByImages(eb))
    .$if(after !== undefined, (q) => q.where('blobs.digest', '>', after!))
    .$if(upTo !== undefined, (q) => q.where('blobs.digest', '<=', upTo!))
    .orderBy('blobs.digest')
    .limit(limit)
    .execute();
  return rows.map((r) => ({ digest: r.digest, size: Number(r.size) }));
}

/** The repositories each of `digests` is linked in. */
export async function linksOf(db: Db, digests: string[]): Promise<Map<string, number[]>> {
  const out = new Map<string, number[]>();
  if (digests.length === 0) return out;
  const rows = await db.selectFrom('repository_blobs').select(['digest', 'repository_id']).where('digest', 'in', digests).execute();
  for (const row of rows) out.set(row.digest, [...(out.get(row.digest) ?? []), row.repository_id]);
  return out;
}

/** Removes every stale link of `digests` (older than `before`, unreferenced); how many. Run under their exclusive locks. */
export async function removeStaleLinksOf(db: Db, digests: string[], before: number): Promise<number> {
  if (digests.length === 0) return 0;
  const result = await db.deleteFrom('repository_blobs')
    .where('repository_blobs.digest', 'in', digests)
    .where('repository_blobs.created_at', '<', before)
    .where((eb) => linkUnreferenced(eb))
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** Which of `digests` are still blobs nothing links or references, with their sizes. Run under their exclusive locks. */
export async function stillUnreferenced(db: Db, digests: string[]): Promise<BlobKey[]> {
  if (digests.length === 0) return [];
  const rows = await db.selectFrom('blobs').select(['blobs.digest', 'blobs.size'])
    .where('blobs.digest', 'in', digests)
    .where((eb) => blobUnreferenced(eb))
    .execute();
  return rows.map((r) => ({ digest: r.digest, size: Number(r.size) }));
}

/** Removes the rows of `digests` that are still unreferenced; the ones it removed. Run under their exclusive locks. */
export async function removeUnreferencedBlobs(db: Db, digests: string[]): Promise<BlobKey[]> {
  if (digests.length === 0) return [];
  const rows = await db.deleteFrom('blobs').where('blobs.digest', 'in', digests)
    .where((eb) => blobUnreferenced(eb))
    .returning(['blobs.digest', 'blobs.size'])
    .execute();
  return rows.map((r) => ({ digest: r.digest, size: Number(r.size) }));
}
