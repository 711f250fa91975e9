import type { Kysely } from 'kysely';
import type { Selectable } from 'kysely';
import type { Database, TrashTable } from './schema.js';

type Db = Kysely<Database>;

export type TrashRow = Selectable<TrashTable>;

/**
 * Moves a manifest and its tags into the trash in one transaction (the caller's). The blob links stay,
 * so a restore finds every layer where it was; garbage collection counts trashed images as live.
 * The platform manifests of an index go with it, unless another manifest of the repository still uses them.
 */
export async function moveManifestToTrash(db: Db, repositoryId: number, repositoryName: string, digest: string, by: string, now: number, expiresAt: number): Promise<boolean> {
  const manifest = await db.selectFrom('manifests').select(['id', 'media_type', 'content', 'image_size', 'created_at'])
    .where('repository_id', '=', repositoryId).where('digest', '=', digest).executeTakeFirst();
  if (!manifest) return false;
  const namespace = repositoryName.split('/')[0]!;
  const owner = await db.selectFrom('namespaces').select('account_id').where('name', '=', namespace).executeTakeFirst();
  const tags = await db.selectFrom('tags').select('name').where('repository_id', '=', repositoryId).where('manifest_digest', '=', digest).orderBy('name').execute();
  const children = await db.selectFrom('manifest_references').select('digest').where('manifest_id', '=', manifest.id).where('kind', '=', 'manifest').execute();
  await db.insertInto('trash').values({
    account_id: owner?.account_id ?? null,
    repository_name: repositoryName, digest, media_type: manifest.media_type, content: manifest.content,
    tags: JSON.stringify(tags.map((t) => t.name)), image_size: Number(manifest.image_size), created_at: manifest.created_at,
    deleted_at: now, deleted_by: by.slice(0, 200), expires_at: expiresAt,
  }).execute();
  await db.deleteFrom('tags').where('repository_id', '=', repositoryId).where('manifest_digest', '=', digest).execute();
  await db.deleteFrom('manifests').where('id', '=', manifest.id).execute();
  for (const child of children) {
    const stillUsed = await db.selectFrom('manifest_references as mr').innerJoin('manifests as m', 'm.id', 'mr.manifest_id')
      .select('m.id').where('m.repository_id', '=', repositoryId).where('mr.digest', '=', child.digest).where('mr.kind', '=', 'manifest')
      .executeTakeFirst();
    const tagged = await db.selectFrom('tags').select('name').where('repository_id', '=', repositoryId).where('manifest_digest', '=', child.digest).executeTakeFirst();
    if (!stillUsed && !tagged) await moveManifestToTrash(db, repositoryId, repositoryName, child.digest, by, now, expiresAt);
  }
  return true;
}

/** The account's trashed images under the given namespaces, newest deletion first. */
export async function listTrash(db: Db, accountId: number, namespaces: string[], now: number): Promise<TrashRow[]> {
  if (namespaces.length === 0) return [];
  return db.selectFrom('trash').selectAll()
    .where('account_id', '=', accountId)
    .where('expires_at', '>', now)
    .where((eb) => eb.or(namespaces.map((ns) => eb.and([eb('repository_name', '>=', `${ns}/`), eb('repository_name', '<', `${ns}0`)]))))
    .orderBy('deleted_at', 'desc').orderBy('id', 'desc')
    .execute();
}

export async function findTrashed(db: Db, accountId: number, repositoryName: string, digest: string, now: number): Promise<TrashRow | undefined> {
  return db.selectFrom('trash').selectAll().where('account_id', '=', accountId).where('repository_name', '=', repositoryName).where('digest', '=', digest)
    .where('expires_at', '>', now).orderBy('deleted_at', 'desc').executeTakeFirst();
}

export async function deleteTrashed(db: Db, id: number): Promise<void> {
  await db.deleteFrom('trash').where('id', '=', id).execute();
}

export async function purgeExpiredTrash(db: Db, now: number): Promise<number> {
  const result = await db.deleteFrom('trash').where('expires_at', '<=', now).executeTakeFirst();
  return Number(result.numDeletedRows);
}
