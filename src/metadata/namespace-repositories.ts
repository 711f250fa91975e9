import type { Kysely } from 'kysely';
import type { Database } from './schema.js';
import { moveSignaturesToTrash } from './signatures.js';
import { moveManifestToTrash } from './trash.js';

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

/** Image (manifest) counts of each repository under the namespace that holds any. */
export async function countImagesByRepositoryUnder(db: Db, namespace: string): Promise<Array<{ name: string; images: number }>> {
  const rows = await db.selectFrom('manifests as m')
    .innerJoin('repositories as r', 'r.id', 'm.repository_id')
    .where('r.name', '>=', `${namespace}/`).where('r.name', '<', `${namespace}0`)
    .groupBy('r.name')
    .select((eb) => ['r.name', eb.fn.countAll<number>().as('n')])
    .execute();
  return rows.map((r) => ({ name: r.name, images: Number(r.n) }));
}

/**
 * Removes the namespace's repositories; their images go to the account's trash first, and a restore
 * brings the namespace back and links the blobs again (the links go here, so a later owner of the name sees nothing).
 */
export async function removeRepositoriesUnder(db: Db, namespace: string, trash: { by: string; now: number; expiresAt: number }): Promise<void> {
  const repositories = await repositoriesUnder(db, namespace).select(['id', 'name']).execute();
  const owner = await db.selectFrom('namespaces').select('account_id').where('name', '=', namespace).executeTakeFirst();
  for (const { id, name } of repositories) {
    for (;;) {
      // Top-level first: trashing an index takes its platforms along.
      const next = await db.selectFrom('manifests as m').select('m.digest').where('m.repository_id', '=', id)
        .where((eb) => eb.not(eb.exists(eb.selectFrom('manifest_references as mr').innerJoin('manifests as p', 'p.id', 'mr.manifest_id')
          .select('mr.digest').whereRef('mr.digest', '=', 'm.digest').where('p.repository_id', '=', id).where('mr.kind', '=', 'manifest'))))
        .limit(1).executeTakeFirst()
        ?? await db.selectFrom('manifests').select('digest').where('repository_id', '=', id).limit(1).executeTakeFirst();
      if (!next) break;
      await moveManifestToTrash(db, id, name, next.digest, trash.by, trash.now, trash.expiresAt);
    }
    await db.deleteFrom('tags').where('repository_id', '=', id).execute();
    await db.deleteFrom('manifests').where('repository_id', '=', id).execute();
    await db.deleteFrom('repository_blobs').where('repository_id', '=', id).execute();
    await db.deleteFrom('uploads').where('repository_id', '=', id).execute();
    // Signatures hang on the repository row: those of trashed images wait in the trash for a restore.
    if (owner) await moveSignaturesToTrash(db, id, name, owner.account_id);
    await db.deleteFrom('repositories').where('id', '=', id).execute();
  }
}
