import type { Kysely } from 'kysely';
import type { Database } from './schema.js';

type Db = Kysely<Database>;

/**
 * The repository's id as a scalar subquery, for `where repository_id = ...`. PostgreSQL computes
 * it once (an init plan) and then plans with the id as a known value, so it reads only that
 * repository's rows through their index. Joined with `repositories` instead, it plans for the
 * average repository, and a repository with 30,000 tags next to thousands of one-image ones had
 * every manifest read to serve one tag.
 */
export function repositoryIdByName(db: Db, name: string) {
  return db.selectFrom('repositories').select('repositories.id').where('repositories.name', '=', name);
}

export async function findRepositoryId(db: Db, name: string): Promise<number | undefined> {
  const row = await db.selectFrom('repositories').select('id').where('name', '=', name).executeTakeFirst();
  return row?.id;
}

/** Id of the repository, created on first push. Safe under concurrent creators. */
export async function ensureRepository(db: Db, name: string, now: number): Promise<number> {
  const existing = await findRepositoryId(db, name);
  if (existing !== undefined) return existing;
  await db.insertInto('repositories').values({ name, created_at: now }).onConflict((oc) => oc.column('name').doNothing()).execute();
  const id = await findRepositoryId(db, name);
  if (id === undefined) throw new Error(`repository ${name} vanished while being created`);
  return id;
}

/**
 * One page of repository names in lexical order, after `last`; an index range scan. A repository
 * holding neither a manifest nor a blob (only an upload in progress) is not listed.
 * One EXISTS over a UNION ALL, not two EXISTS joined by OR: PostgreSQL turned those into hashed
 * sub plans, reading every manifest and blob link of the registry to list one page.
 */
export async function listRepositoryNames(db: Db, limit: number, last?: string): Promise<string[]> {
  let query = db.selectFrom('repositories').select('name')
    .where((eb) => eb.exists(
      eb.selectFrom('manifests').select('manifests.repository_id').whereRef('manifests.repository_id', '=', 'repositories.id')
        .unionAll(eb.selectFrom('repository_blobs').select('repository_blobs.repository_id').whereRef('repository_blobs.repository_id', '=', 'repositories.id')),
    ))
    .orderBy('name').limit(limit);
  if (last !== undefined) query = query.where('name', '>', last);
  const rows = await query.execute();
  return rows.map((r) => r.name);
}
