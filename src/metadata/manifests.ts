import type { Kysely } from 'kysely';
import type { Database } from './schema.js';
import { repositoryIdByName } from './repositories.js';

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

/** By (repository, digest), through that unique index whatever the repository's size. */
export async function findManifestByDigest(db: Db, repositoryName: string, digest: string): Promise<StoredManifest | undefined> {
  return db.selectFrom('manifests as m')
    .select(MANIFEST_COLUMNS)
    .where('m.repository_id', '=', repositoryIdByName(db, repositoryName))
    .where('m.digest', '=', digest)
    .executeTakeFirst();
}

/**
 * The tag is resolved first (one row of its primary key), then the manifest by (repository, digest),
 * in one statement: both are scalar subqueries that PostgreSQL runs once before the lookup. A join
 * let it start from every manifest of the repository (10,000 read for one tag at 10,000 tags).
 */
export async function findManifestByTag(db: Db, repositoryName: string, tag: string): Promise<StoredManifest | undefined> {
  return db.selectFrom('manifests as m')
    .select(MANIFEST_COLUMNS)
    .where('m.repository_id', '=', repositoryIdByName(db, repositoryName))
    .where('m.digest', '=', db.selectFrom('tags as t').select('t.manifest_digest')
      .where('t.repository_id', '=', repositoryIdByName(db, repositoryName))
      .where('t.name', '=', tag))
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
      .values([...unique.values()].map((r) => ({ manifest_id: inserted.id, repository_id: manifest.repositoryId, digest: r.digest, kind: r.kind })))
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
    .select(['m.digest', 'm.media_type', 'm.artifact_type', 'm.size', 'm.annotations'])
    .where('m.repository_id', '=', repositoryIdByName(db, repositoryName))
    .where('m.subject_digest', '=', subjectDigest)
    .orderBy('m.id');
  if (artifactType !== undefined) query = query.where('m.artifact_type', '=', artifactType);
  return query.execute();
}

export interface PullCount {
  repository: string;
  digest: string;
  count: number;
  lastPulledAt: number;
}

/**
 * Adds counted pulls to their manifests in one transaction (one commit) for the whole list: a
 * commit per image cost about 50 µs each on SQLite, all of it on the event loop. One UPDATE per
 * image through the (repository, digest) unique index: a single UPDATE ... FROM (VALUES ...) had
 * SQLite scan every manifest once the list held a few hundred rows. Increments, not overwrites, so
 * replicas never lose each other's counts.
 */
export async function addPullCounts(db: Db, pulls: PullCount[]): Promise<void> {
  if (pulls.length === 0) return;
  await db.transaction().execute(async (trx) => {
    for (const pull of pulls) {
      await trx.updateTable('manifests')
        .set((eb) => ({ pull_count: eb('pull_count', '+', pull.count), last_pulled_at: pull.lastPulledAt }))
        .where('repository_id', '=', repositoryIdByName(trx, pull.repository))
        .where('digest', '=', pull.digest)
        .execute();
    }
  });
}
