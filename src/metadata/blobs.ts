import type { Kysely } from 'kysely';
import type { Database } from './schema.js';
import { repositoryIdByName } from './repositories.js';

type Db = Kysely<Database>;

export interface LinkedBlob {
  digest: string;
  size: number;
}

/**
 * The blob as the repository sees it: only when linked there. One link by its primary key, even for
 * a base layer linked in every repository (joined by name, the plan could start from all its links).
 */
export async function findLinkedBlob(db: Db, repositoryName: string, digest: string): Promise<LinkedBlob | undefined> {
  return db.selectFrom('repository_blobs as rb')
    .innerJoin('blobs as b', 'b.digest', 'rb.digest')
    .select(['b.digest', 'b.size'])
    .where('rb.repository_id', '=', repositoryIdByName(db, repositoryName))
    .where('rb.digest', '=', digest)
    .executeTakeFirst();
}

export async function findBlob(db: Db, digest: string): Promise<LinkedBlob | undefined> {
  return db.selectFrom('blobs').select(['digest', 'size']).where('digest', '=', digest).executeTakeFirst();
}

export async function insertBlob(db: Db, digest: string, size: number, now: number): Promise<void> {
  await db.insertInto('blobs').values({ digest, size, created_at: now }).onConflict((oc) => oc.column('digest').doNothing()).execute();
}

export async function linkBlob(db: Db, repositoryId: number, digest: string, now: number): Promise<void> {
  await db.insertInto('repository_blobs').values({ repository_id: repositoryId, digest, created_at: now })
    .onConflict((oc) => oc.columns(['repository_id', 'digest']).doNothing()).execute();
}

/** Removes the link; true when there was one. The bytes stay for garbage collection to judge. */
export async function unlinkBlob(db: Db, repositoryId: number, digest: string): Promise<boolean> {
  const result = await db.deleteFrom('repository_blobs').where('repository_id', '=', repositoryId).where('digest', '=', digest).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

/** Which of `digests` are linked in the repository. */
export async function linkedDigests(db: Db, repositoryId: number, digests: string[]): Promise<Set<string>> {
  if (digests.length === 0) return new Set();
  const rows = await db.selectFrom('repository_blobs').select('digest')
    .where('repository_id', '=', repositoryId).where('digest', 'in', digests).execute();
  return new Set(rows.map((r) => r.digest));
}
