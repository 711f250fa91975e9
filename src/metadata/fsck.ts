import type { Kysely } from 'kysely';
import type { Database } from './schema.js';

type Db = Kysely<Database>;

/**
 * The consistency check's queries (registry/fsck.ts). Each reads one page in key order after the
 * last key of the previous page, so the check never holds a whole table; the queries that look for
 * dangling rows let the database do the scan and hand back only what dangles.
 */

export interface BlobRow {
  digest: string;
  size: number;
}

export async function blobPage(db: Db, limit: number, after?: string): Promise<BlobRow[]> {
  const rows = await db.selectFrom('blobs').select(['digest', 'size'])
    .$if(after !== undefined, (q) => q.where('digest', '>', after!))
    .orderBy('digest').limit(limit).execute();
  return rows.map((r) => ({ digest: r.digest, size: Number(r.size) }));
}

export interface ManifestRow {
  id: number;
  repositoryId: number;
  repository: string;
  digest: string;
  mediaType: string;
  content: Buffer;
  imageSize: number;
  subjectDigest: string | null;
}

export async function manifestPage(db: Db, limit: number, afterId = 0): Promise<ManifestRow[]> {
  const rows = await db.selectFrom('manifests as m').innerJoin('repositories as r', 'r.id', 'm.repository_id')
    .select(['m.id', 'm.repository_id', 'r.name', 'm.digest', 'm.media_type', 'm.content', 'm.image_size', 'm.subject_digest'])
    .where('m.id', '>', afterId)
    .orderBy('m.id').limit(limit).execute();
  return rows.map((r) => ({
    id: r.id, repositoryId: r.repository_id, repository: r.name, digest: r.digest, mediaType: r.media_type,
    content: Buffer.from(r.content), imageSize: Number(r.image_size), subjectDigest: r.subject_digest,
  }));
}

/** The reference rows of these manifests, as `kind:digest` per manifest id. */
export async function referenceRows(db: Db, manifestIds: number[]): Promise<Map<number, Set<string>>> {
  const out = new Map<number, Set<string>>();
  if (manifestIds.length === 0) return out;
  const rows = await db.selectFrom('manifest_references').select(['manifest_id', 'digest', 'kind'])
    .where('manifest_id', 'in', manifestIds).execute();
  for (const row of rows) {
    const set = out.get(row.manifest_id) ?? new Set<string>();
    set.add(`${row.kind}:${row.digest}`);
    out.set(row.manifest_id, set);
  }
  return out;
}

/**
 * A page of manifests can name many thousand digests (an image of a hundred layers, an index of
 * many platforms): they are looked up a thousand at a time, well under the engines' parameter limits.
 */
const DIGESTS_PER_QUERY = 1000;

function* chunks(digests: string[]): Iterable<string[]> {
  for (let i = 0; i < digests.length; i += DIGESTS_PER_QUERY) yield digests.slice(i, i + DIGESTS_PER_QUERY);
}

/** Which of `digests` have a blob row. */
export async function blobRowsAmong(db: Db, digests: string[]): Promise<Set<string>> {
  const out = new Set<string>();
  for (const some of chunks(digests)) {
    for (const row of await db.selectFrom('blobs').select('digest').where('digest', 'in', some).execute()) out.add(row.digest);
  }
  return out;
}

/** The (repository, digest) pairs among these that are blob links, as `repositoryId:digest`. */
export async function linkPairs(db: Db, repositoryIds: number[], digests: string[]): Promise<Set<string>> {
  const out = new Set<string>();
  if (repositoryIds.length === 0) return out;
  for (const some of chunks(digests)) {
    const rows = await db.selectFrom('repository_blobs').select(['repository_id', 'digest'])
      .where('repository_id', 'in', repositoryIds).where('digest', 'in', some).execute();
    for (const r of rows) out.add(`${r.repository_id}:${r.digest}`);
  }
  return out;
}

/** The image sizes of the manifests among these (repository, digest) pairs, by `repositoryId:digest`. */
export async function manifestSizes(db: Db, repositoryIds: number[], digests: string[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  if (repositoryIds.length === 0) return out;
  for (const some of chunks(digests)) {
    const rows = await db.selectFrom('manifests').select(['repository_id', 'digest', 'image_size'])
      .where('repository_id', 'in', repositoryIds).where('digest', 'in', some).execute();
    for (const r of rows) out.set(`${r.repository_id}:${r.digest}`, Number(r.image_size));
  }
  return out;
}

export async function manifestExists(db: Db, id: number): Promise<boolean> {
  return (await db.selectFrom('manifests').select('id').where('id', '=', id).executeTakeFirst()) !== undefined;
}

/** Sets the image size, unless it changed since it was read. True when it did. */
export async function repairImageSize(db: Db, id: number, from: number, to: number): Promise<boolean> {
  const result = await db.updateTable('manifests').set({ image_size: to })
    .where('id', '=', id).where('image_size', '=', from).executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

export interface TagKey {
  repositoryId: number;
  name: string;
}

export interface DanglingTag extends TagKey {
  repository: string;
  manifestDigest: string;
}

/** Tags whose manifest is not in their repository, after `after` in key order. */
export async function danglingTags(db: Db, limit: number, after?: TagKey): Promise<DanglingTag[]> {
  const rows = await db.selectFrom('tags as t').innerJoin('repositories as r', 'r.id', 't.repository_id')
    .select(['t.repository_id', 't.name', 'r.name as repository', 't.manifest_digest'])
    .where((eb) => eb.not(eb.exists(eb.selectFrom('manifests as m').select('m.id')
      .whereRef('m.repository_id', '=', 't.repository_id').whereRef('m.digest', '=', 't.manifest_digest'))))
    .$if(after !== undefined, (q) => q.where((eb) => eb.or([
      eb('t.repository_id', '>', after!.repositoryId),
      eb.and([eb('t.repository_id', '=', after!.repositoryId), eb('t.name', '>', after!.name)]),
    ])))
    .orderBy('t.repository_id').orderBy('t.name').limit(limit).execute();
  return rows.map((r) => ({ repositoryId: r.repository_id, name: r.name, repository: r.repository, manifestDigest: r.manifest_digest }));
}

export interface TrashReferenceKey {
  trashId: number;
  digest: string;
}

export interface MissingTrashBlob extends TrashReferenceKey {
  repository: string;
  image: string;
}

/** Blobs a trashed image needs that have no blob row, after `after` in key order. */
export async function trashReferencesWithoutBlob(db: Db, limit: number, after?: TrashReferenceKey): Promise<MissingTrashBlob[]> {
  const rows = await db.selectFrom('trash_references as tr').innerJoin('trash as t', 't.id', 'tr.trash_id')
    .select(['tr.trash_id', 'tr.digest', 't.repository_name', 't.digest as image'])
    .where((eb) => eb.not(eb.exists(eb.selectFrom('blobs as b').select('b.digest').whereRef('b.digest', '=', 'tr.digest'))))
    .$if(after !== undefined, (q) => q.where((eb) => eb.or([
      eb('tr.trash_id', '>', after!.trashId),
      eb.and([eb('tr.trash_id', '=', after!.trashId), eb('tr.digest', '>', after!.digest)]),
    ])))
    .orderBy('tr.trash_id').orderBy('tr.digest').limit(limit).execute();
  return rows.map((r) => ({ trashId: r.trash_id, digest: r.digest, repository: r.repository_name, image: r.image }));
}

/** How many rows the table has: the check's totals. */
export async function countRows(db: Db, table: 'tags' | 'trash_references'): Promise<number> {
  const row = await db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function accountPage(db: Db, limit: number, afterId = 0): Promise<Array<{ id: number; name: string }>> {
  return db.selectFrom('accounts').select(['id', 'name']).where('id', '>', afterId).orderBy('id').limit(limit).execute();
}
