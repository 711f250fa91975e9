import type { Kysely } from 'kysely';
import type { Database } from './schema.js';
import { repositoryIdByName } from './repositories.js';

type Db = Kysely<Database>;

export async function upsertTag(db: Db, repositoryId: number, tag: string, digest: string, now: number): Promise<void> {
  await db.insertInto('tags').values({ repository_id: repositoryId, name: tag, manifest_digest: digest, updated_at: now })
    .onConflict((oc) => oc.columns(['repository_id', 'name']).doUpdateSet({ manifest_digest: digest, updated_at: now }))
    .execute();
}

export async function deleteTag(db: Db, repositoryId: number, tag: string): Promise<boolean> {
  const result = await db.deleteFrom('tags').where('repository_id', '=', repositoryId).where('name', '=', tag).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

/**
 * One page of a repository's tags in lexical order, after `last` (an index range scan), found by
 * the repository's name in one round trip: on PostgreSQL a separate lookup of the repository cost
 * as much as reading the page. The id is a scalar subquery, not a join: joined, PostgreSQL sorted
 * every tag of the repository before taking the page. Empty both for a repository without tags
 * (or past its last) and for one that does not exist: the caller tells them apart.
 */
export async function listTagNamesByRepository(db: Db, repository: string, limit: number, last?: string): Promise<string[]> {
  let query = db.selectFrom('tags').select('tags.name')
    .where('tags.repository_id', '=', repositoryIdByName(db, repository)).orderBy('tags.name').limit(limit);
  if (last !== undefined) query = query.where('tags.name', '>', last);
  const rows = await query.execute();
  return rows.map((r) => r.name);
}

/**
 * Points `tag` at `digest` only if the tag does not exist yet; answers the digest the tag points at
 * afterwards. Under concurrent pushes exactly one digest wins: what immutable tags need.
 */
export async function insertTagIfAbsent(db: Db, repositoryId: number, tag: string, digest: string, now: number): Promise<string> {
  await db.insertInto('tags').values({ repository_id: repositoryId, name: tag, manifest_digest: digest, updated_at: now })
    .onConflict((oc) => oc.columns(['repository_id', 'name']).doNothing())
    .execute();
  const row = await db.selectFrom('tags').select('manifest_digest').where('repository_id', '=', repositoryId).where('name', '=', tag).executeTakeFirstOrThrow();
  return row.manifest_digest;
}

/** The digest a tag points at, if the tag exists. */
export async function tagDigest(db: Db, repositoryId: number, tag: string): Promise<string | undefined> {
  const row = await db.selectFrom('tags').select('manifest_digest').where('repository_id', '=', repositoryId).where('name', '=', tag).executeTakeFirst();
  return row?.manifest_digest;
}
