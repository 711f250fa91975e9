import { sql, type Kysely } from 'kysely';
import type { Database } from './schema.js';
import { repositoryIdByName } from './repositories.js';

type Db = Kysely<Database>;

export interface StoredSignature {
  name: string;
  content: Buffer;
  created_at: number;
}

/** The simple signatures of an image, oldest first (the order clients verify them in). */
export async function listSignatures(db: Db, repositoryName: string, digest: string): Promise<StoredSignature[]> {
  return db.selectFrom('image_signatures').select(['name', 'content', 'created_at'])
    .where('repository_id', '=', repositoryIdByName(db, repositoryName))
    .where('manifest_digest', '=', digest)
    .orderBy('created_at').orderBy('id')
    .execute();
}

/** Stores a signature; false when the image already has one of that name (the client picks a new one). */
export async function insertSignature(db: Db, repositoryId: number, digest: string, name: string, content: Buffer, by: string, now: number): Promise<boolean> {
  const result = await db.insertInto('image_signatures')
    .values({ repository_id: repositoryId, manifest_digest: digest, name, content, created_at: now, created_by: by.slice(0, 200) })
    .onConflict((oc) => oc.columns(['repository_id', 'manifest_digest', 'name']).doNothing())
    .returning('id').executeTakeFirst();
  return result !== undefined;
}

/** How many simple signatures each of these images of the repository carries. */
export async function countSignatures(db: Db, repositoryName: string, digests: string[]): Promise<Map<string, number>> {
  if (digests.length === 0) return new Map();
  const rows = await db.selectFrom('image_signatures').select(['manifest_digest', sql<number>`count(*)`.as('n')])
    .where('repository_id', '=', repositoryIdByName(db, repositoryName))
    .where('manifest_digest', 'in', digests)
    .groupBy('manifest_digest')
    .execute();
  return new Map(rows.map((r) => [r.manifest_digest, Number(r.n)]));
}

/**
 * Drops the signatures of images that are gone for good from these repositories: neither stored nor
 * in the trash. Run after trashed images leave the trash (expiry, removal).
 */
export async function dropSignaturesOfRemovedImages(db: Db, repositoryNames: string[]): Promise<number> {
  let dropped = 0;
  for (const name of new Set(repositoryNames)) {
    const result = await db.deleteFrom('image_signatures as s')
      .where('s.repository_id', '=', repositoryIdByName(db, name))
      .where((eb) => eb.not(eb.exists(eb.selectFrom('manifests as m').select(sql`1`.as('one'))
        .whereRef('m.repository_id', '=', 's.repository_id').whereRef('m.digest', '=', 's.manifest_digest'))))
      .where((eb) => eb.not(eb.exists(eb.selectFrom('trash as t').select(sql`1`.as('one'))
        .where('t.repository_name', '=', name).whereRef('t.digest', '=', 's.manifest_digest'))))
      .executeTakeFirst();
    dropped += Number(result.numDeletedRows);
  }
  return dropped;
}

/**
 * Before a repository row goes (its namespace is removed), the signatures of its images in the
 * account's trash move to their trash rows; those of images gone for good go with the repository.
 */
export async function moveSignaturesToTrash(db: Db, repositoryId: number, repositoryName: string, accountId: number): Promise<number> {
  const signatures = await db.selectFrom('image_signatures').select(['manifest_digest', 'name', 'content', 'created_at', 'created_by'])
    .where('repository_id', '=', repositoryId).execute();
  let kept = 0;
  for (const signature of signatures) {
    const trashed = await db.selectFrom('trash').select('id')
      .where('account_id', '=', accountId).where('repository_name', '=', repositoryName).where('digest', '=', signature.manifest_digest)
      .orderBy('deleted_at', 'desc').orderBy('id', 'desc').executeTakeFirst();
    if (!trashed) continue;
    await db.insertInto('trash_signatures')
      .values({ trash_id: trashed.id, name: signature.name, content: signature.content, created_at: signature.created_at, created_by: signature.created_by })
      .onConflict((oc) => oc.columns(['trash_id', 'name']).doNothing()).execute();
    kept++;
  }
  return kept;
}

/** A restored image gets back the signatures that waited with its trash row (removed with the row). */
export async function restoreTrashedSignatures(db: Db, trashId: number, repositoryId: number, digest: string): Promise<number> {
  const waiting = await db.selectFrom('trash_signatures').selectAll().where('trash_id', '=', trashId).execute();
  for (const signature of waiting) {
    await db.insertInto('image_signatures')
      .values({ repository_id: repositoryId, manifest_digest: digest, name: signature.name, content: signature.content, created_at: signature.created_at, created_by: signature.created_by })
      .onConflict((oc) => oc.columns(['repository_id', 'manifest_digest', 'name']).doNothing()).execute();
  }
  return waiting.length;
}

/**
 * Which of these images (`repository@digest`) carry anything a signature check reads: a stored
 * simple signature, a manifest under its cosign tag (`sha256-<hex>.sig` or `.att`) or a referrer.
 * A few statements per repository and page of digests, where checking image by image took four
 * each (a list of 1,000 unsigned images spent 90 ms finding nothing to verify).
 */
export async function imagesCarryingSignatures(db: Db, images: Array<{ name: string; digest: string }>): Promise<Set<string>> {
  const carrying = new Set<string>();
  const byRepository = new Map<string, string[]>();
  for (const { name, digest } of images) {
    if (byRepository.has(name)) byRepository.get(name)!.push(digest);
    else byRepository.set(name, [digest]);
  }
  const ids = new Map<string, number>();
  const names = [...byRepository.keys()];
  for (let i = 0; i < names.length; i += PAGE) {
    for (const row of await db.selectFrom('repositories').select(['id', 'name']).where('name', 'in', names.slice(i, i + PAGE)).execute()) ids.set(row.name, row.id);
  }
  for (const [name, allDigests] of byRepository) {
    const repositoryId = ids.get(name);
    if (repositoryId === undefined) continue;
    const digests = [...new Set(allDigests)];
    for (let i = 0; i < digests.length; i += PAGE) {
      const page = digests.slice(i, i + PAGE);
      const signed = await db.selectFrom('image_signatures').select('manifest_digest as digest').distinct()
        .where('repository_id', '=', repositoryId).where('manifest_digest', 'in', page).execute();
      const referred = await db.selectFrom('manifests').select('subject_digest as digest').distinct()
        .where('repository_id', '=', repositoryId).where('subject_digest', 'is not', null).where('subject_digest', 'in', page).execute();
      const tagged = await db.selectFrom('tags').select('name')
        .where('repository_id', '=', repositoryId).where('name', 'in', page.flatMap((digest) => cosignTags(digest))).execute();
      for (const { digest } of [...signed, ...referred]) carrying.add(`${name}@${digest}`);
      for (const tag of tagged) carrying.add(`${name}@${tag.name.slice(0, tag.name.lastIndexOf('.')).replace('-', ':')}`);
    }
  }
  return carrying;
}

/** Digests or repository names per statement (SQLite binds at most a few thousand parameters). */
const PAGE = 400;

/** The tags cosign keeps an image's signatures and attestations under. */
export function cosignTags(digest: string): [string, string] {
  const base = digest.replace(':', '-');
  return [`${base}.sig`, `${base}.att`];
}
