import type { Kysely } from 'kysely';
import type { Selectable } from 'kysely';
import type { Database, TrashTable } from './schema.js';
import { cosignTags } from './signatures.js';

type Db = Kysely<Database>;

export type TrashRow = Selectable<TrashTable>;

/**
 * Moves a manifest and its tags into the trash in one transaction (the caller's). The blob links stay,
 * so a restore finds every layer where it was; the blobs it needs are written down as trash
 * references, which the garbage collector counts as live.
 * The platform manifests of an index go with it, unless another manifest of the repository still uses them.
 */
export async function moveManifestToTrash(db: Db, repositoryId: number, repositoryName: string, digest: string, by: string, now: number, expiresAt: number, attachedTo: string | null = null): Promise<boolean> {
  const manifest = await db.selectFrom('manifests').select(['id', 'media_type', 'content', 'image_size', 'created_at'])
    .where('repository_id', '=', repositoryId).where('digest', '=', digest).executeTakeFirst();
  if (!manifest) return false;
  const namespace = repositoryName.split('/')[0]!;
  const owner = await db.selectFrom('namespaces').select('account_id').where('name', '=', namespace).executeTakeFirst();
  const tags = await db.selectFrom('tags').select('name').where('repository_id', '=', repositoryId).where('manifest_digest', '=', digest).orderBy('name').execute();
  const references = await db.selectFrom('manifest_references').select(['digest', 'kind']).where('manifest_id', '=', manifest.id).execute();
  const children = references.filter((r) => r.kind === 'manifest');
  const blobs = references.filter((r) => r.kind === 'blob');
  const trashed = await db.insertInto('trash').values({
    account_id: owner?.account_id ?? null,
    repository_name: repositoryName, digest, media_type: manifest.media_type, content: manifest.content,
    tags: JSON.stringify(tags.map((t) => t.name)), image_size: Number(manifest.image_size), created_at: manifest.created_at,
    deleted_at: now, deleted_by: by.slice(0, 200), expires_at: expiresAt, attached_to: attachedTo,
  }).returning('id').executeTakeFirstOrThrow();
  // In the same transaction as the manifest's own references go: the collector sees one or the other.
  if (blobs.length > 0) await db.insertInto('trash_references').values(blobs.map((b) => ({ trash_id: trashed.id, digest: b.digest }))).execute();
  await db.deleteFrom('tags').where('repository_id', '=', repositoryId).where('manifest_digest', '=', digest).execute();
  await db.deleteFrom('manifests').where('id', '=', manifest.id).execute();
  for (const child of children) {
    const stillUsed = await db.selectFrom('manifest_references as mr').innerJoin('manifests as m', 'm.id', 'mr.manifest_id')
      .select('m.id').where('m.repository_id', '=', repositoryId).where('mr.digest', '=', child.digest).where('mr.kind', '=', 'manifest')
      .executeTakeFirst();
    const tagged = await db.selectFrom('tags').select('name').where('repository_id', '=', repositoryId).where('manifest_digest', '=', child.digest).executeTakeFirst();
    if (!stillUsed && !tagged) await moveManifestToTrash(db, repositoryId, repositoryName, child.digest, by, now, expiresAt);
  }
  // Signatures and attestations are metadata of the image: they go to the trash with it, and come back with it.
  for (const attached of await attachedArtifacts(db, repositoryId, digest)) {
    await moveManifestToTrash(db, repositoryId, repositoryName, attached, by, now, expiresAt, digest);
  }
  return true;
}

/**
 * Cosign's tag scheme for what it attaches to an image: `sha256-<hex>.sig` (signatures), `.att`
 * (attestations), `.sbom`. containers/image uses the same `.sig` tag for its sigstore attachments.
 */
export function attachmentTags(digest: string): string[] {
  return [...cosignTags(digest), `${digest.replace(':', '-')}.sbom`];
}

/** The manifests attached to an image: its OCI referrers and the manifests under its cosign tags. */
export async function attachedArtifacts(db: Db, repositoryId: number, digest: string): Promise<string[]> {
  const referrers = await db.selectFrom('manifests').select('digest').where('repository_id', '=', repositoryId).where('subject_digest', '=', digest).execute();
  const tagged = await db.selectFrom('tags').select('manifest_digest as digest').where('repository_id', '=', repositoryId).where('name', 'in', attachmentTags(digest)).execute();
  return [...new Set([...referrers, ...tagged].map((r) => r.digest))].filter((d) => d !== digest);
}

/** Trashed signatures and attestations of a trashed image (restored and removed with it). */
export async function trashedAttachments(db: Db, accountId: number, repositoryName: string, digest: string, now: number): Promise<TrashRow[]> {
  return db.selectFrom('trash').selectAll().where('account_id', '=', accountId).where('repository_name', '=', repositoryName)
    .where('attached_to', '=', digest).where('expires_at', '>', now).execute();
}

/**
 * The account's trashed images, newest deletion first: the trash belongs to the account, so images of
 * a namespace it has removed are still listed.
 */
export async function listTrash(db: Db, accountId: number, now: number): Promise<TrashRow[]> {
  return db.selectFrom('trash').selectAll()
    .where('account_id', '=', accountId)
    .where('expires_at', '>', now)
    // Signatures are listed with their image, not as images of their own.
    .where('attached_to', 'is', null)
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

/** Up to `limit` trashed images whose time is up. */
export async function expiredTrash(db: Db, now: number, limit: number): Promise<Array<{ id: number; repository_name: string }>> {
  return db.selectFrom('trash').select(['id', 'repository_name']).where('expires_at', '<=', now).orderBy('id').limit(limit).execute();
}

/**
 * Deletes trash rows; returns the blobs each repository's removed images needed, for their links to
 * be released (trash references go with their rows).
 */
export async function deleteTrashedRows(db: Db, rows: Array<{ id: number; repository_name: string }>): Promise<Map<string, string[]>> {
  const released = new Map<string, string[]>();
  if (rows.length === 0) return released;
  const ids = rows.map((r) => r.id);
  const references = await db.selectFrom('trash_references').select(['trash_id', 'digest']).where('trash_id', 'in', ids).execute();
  await db.deleteFrom('trash').where('id', 'in', ids).execute();
  const nameOf = new Map(rows.map((r) => [r.id, r.repository_name]));
  for (const ref of references) {
    const name = nameOf.get(ref.trash_id)!;
    released.set(name, [...(released.get(name) ?? []), ref.digest]);
  }
  return released;
}
