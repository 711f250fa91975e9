import type { Kysely } from 'kysely';
import type { Database } from './schema.js';

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

/** One page of a repository's tags in lexical order, after `last`; an index range scan. */
export async function listTagNames(db: Db, repositoryId: number, limit: number, last?: string): Promise<string[]> {
  let query = db.selectFrom('tags').select('name').where('repository_id', '=', repositoryId).orderBy('name').limit(limit);
  if (last !== undefined) query = query.where('name', '>', last);
  const rows = await query.execute();
  return rows.map((r) => r.name);
}
