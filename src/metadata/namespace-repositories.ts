import type { Kysely } from 'kysely';
import type { Database } from './schema.js';

type Db = Kysely<Database>;

/**
 * Repositories under `namespace/`, as an index range on the name: "/" is 0x2F and "0" is 0x30,
 * so [ns/, ns0) is exactly the names with that first component (bytewise collation in both engines).
 */
export function repositoriesUnder(db: Db, namespace: string) {
  return db.selectFrom('repositories').where('name', '>=', `${namespace}/`).where('name', '<', `${namespace}0`);
}

export async function countImagesUnder(db: Db, namespace: string): Promise<number> {
  const row = await db.selectFrom('manifests as m')
    .innerJoin('repositories as r', 'r.id', 'm.repository_id')
    .where('r.name', '>=', `${namespace}/`).where('r.name', '<', `${namespace}0`)
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function deleteRepositoriesUnder(db: Db, namespace: string): Promise<void> {
  const ids = await repositoriesUnder(db, namespace).select('id').execute();
  for (const { id } of ids) {
    await db.deleteFrom('tags').where('repository_id', '=', id).execute();
    await db.deleteFrom('manifests').where('repository_id', '=', id).execute();
    await db.deleteFrom('repository_blobs').where('repository_id', '=', id).execute();
    await db.deleteFrom('uploads').where('repository_id', '=', id).execute();
    await db.deleteFrom('repositories').where('id', '=', id).execute();
  }
}
