import type { Kysely } from 'kysely';
import type { Database } from './schema.js';

type Db = Kysely<Database>;

export interface StoredManifest {
  id: number;
  digest: string;
  media_type: string;
  size: number;
  content: Buffer;
  subject_digest: string | null;
}

export interface NewManifest {
  repositoryId: number;
  digest: string;
  mediaType: string;
  artifactType: string | null;
  content: Buffer;
  subjectDigest: string | null;
  annotations: Record<string, string> | null;
  references: Array<{ digest: string; kind: 'blob' | 'manifest' }>;
  imageSize: number;
  now: number;
}

const MANIFEST_COLUMNS = ['m.id', 'm.digest', 'm.media_type', 'm.size', 'm.content', 'm.subject_digest'] as const;

export async function findManifestByDigest(db: Db, repositoryName: string, digest: string): Promise<StoredManifest | undefined> {
  return db.selectFrom('manifests as m')
    .innerJoin('repositories as r', 'r.id', 'm.repository_id')
    .select(MANIFEST_COLUMNS)
    .where('r.name', '=', repositoryName)
    .where('m.digest', '=', digest)
    .executeTakeFirst();
}

export async function findManifestByTag(db: Db, repositoryName: string, tag: string): Promise<StoredManifest | undefined> {
  return db.selectFrom('tags as t')
    .innerJoin('repositories as r', 'r.id', 't.repository_id')
    .innerJoin('manifests as m', (join) => join.onRef('m.repository_id', '=', 't.repository_id').onRef('m.digest', '=', 't.manifest_digest'))
    .select(MANIFEST_COLUMNS)
    .where('r.name', '=', repositoryName)
    .where('t.name', '=', tag)
    .executeTakeFirst();
}

/** Sum of the image sizes of these manifests of the repository (an index's size). */
export async function sumImageSizes(db: Db, repositoryId: number, digests: string[]): Promise<number> {
  if (digests.length === 0) return 0;
  const rows = await db.selectFrom('manifests').select(['digest', 'image_size'])
    .where('repository_id', '=', repositoryId).where('digest', 'in', digests).execute();
  const sizes = new Map(rows.map((r) => [r.digest, Number(r.image_size)]));
  return digests.reduce((sum, d) => sum + (sizes.get(d) ?? 0), 0);
}

/** Which of `digests` are manifests of the repository. */
export async function existingManifestDigests(db: Db, repositoryId: number, digests: string[]): Promise<Set<string>> {
  if (digests.length === 0) return new Set();
  const rows = await db.selectFrom('manifests').select('digest')
    .where('repository_id', '=', repositoryId).where('digest', 'in', digests).execute();
  return new Set(rows.map((r) => r.digest));
}

/** Inserts the manifest and its references; a manifest already stored (same digest, so same bytes) is left as is. */
export async function insertManifest(db: Db, manifest: NewManifest): Promise<void> {
  const inserted = await db.insertInto('manifests').values({
    repository_id: manifest.repositoryId,
    digest: manifest.digest,
    media_type: manifest.mediaType,
    artifact_type: manifest.artifactType,
    size: manifest.content.length,
    content: manifest.content,
    subject_digest: manifest.subjectDigest,
    annotations: manifest.annotations ? JSON.stringify(manifest.annotations) : null,
    created_at: manifest.now,
    image_size: manifest.imageSize,
    last_pulled_at: null,
  }).onConflict((oc) => oc.columns(['repository_id', 'digest']).doNothing()).returning('id').executeTakeFirst();
  if (!inserted) return;
  const unique = new Map(manifest.references.map((r) => [`${r.kind}:${r.digest}`, r]));
  if (unique.size > 0) {
    await db.insertInto('manifest_references')
      .values([...unique.values()].map((r) => ({ manifest_id: inserted.id, digest: r.digest, kind: r.kind })))
      .execute();
  }
}

export interface ReferrerRow {
  digest: string;
  media_type: string;
  artifact_type: string | null;
  size: number;
  annotations: string | null;
}

export async function listReferrers(db: Db, repositoryName: string, subjectDigest: string, artifactType?: string): Promise<ReferrerRow[]> {
  let query = db.selectFrom('manifests as m')
    .innerJoin('repositories as r', 'r.id', 'm.repository_id')
    .select(['m.digest', 'm.media_type', 'm.artifact_type', 'm.size', 'm.annotations'])
    .where('r.name', '=', repositoryName)
    .where('m.subject_digest', '=', subjectDigest)
    .orderBy('m.id');
  if (artifactType !== undefined) query = query.where('m.artifact_type', '=', artifactType);
  return query.execute();
}
