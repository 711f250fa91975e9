/**
 * Seeds a registry at scale straight into its metadata store, through the project's own connection
 * and migrations, in big multi-row inserts (pushing 50,000 images over HTTP would take hours here):
 * `scale/r<i>` repositories of one image each (tag `latest`), `scale/big` with one image per tag
 * `v<i>`, and `scale/one` with one image. Every image uses the same two real blob files, written
 * where the filesystem store keeps them, so blob requests work as well.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { sql, type Kysely } from 'kysely';
import { connectMetadata } from '../src/metadata/connect.js';
import type { Database } from '../src/metadata/schema.js';

export const SMALL_PREFIX = 'scale/r';
export const BIG = 'scale/big';
export const ONE = 'scale/one';
const MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
/** Rows per INSERT: PostgreSQL takes at most 65,535 parameters per statement. */
const ROWS_PER_INSERT = 2000;

export interface SeedOptions {
  engine: 'sqlite' | 'postgres';
  dataDir: string;
  databaseUrl: string;
  repos: number;
  tags: number;
}

const sha256 = (bytes: Buffer) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

function blob(bytes: Buffer) {
  return { bytes, digest: sha256(bytes), size: bytes.length };
}

function manifestBytes(config: ReturnType<typeof blob>, layer: ReturnType<typeof blob>, annotation?: string): Buffer {
  return Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: MANIFEST,
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: config.digest, size: config.size },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: layer.digest, size: layer.size }],
    ...(annotation ? { annotations: { 'org.example.build': annotation } } : {}),
  }));
}

async function insertInChunks<T>(rows: T[], insert: (chunk: T[]) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) await insert(rows.slice(i, i + ROWS_PER_INSERT));
}

export async function seedRegistry(options: SeedOptions): Promise<{ seconds: number; manifests: number }> {
  const started = performance.now();
  const config = blob(Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, config: {} })));
  const layer = blob(Buffer.alloc(4096, 7));
  for (const b of [config, layer]) {
    const hex = b.digest.slice('sha256:'.length);
    const dir = path.join(options.dataDir, 'blobs', 'sha256', hex.slice(0, 2));
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, hex), b.bytes);
  }
  const metadata = await connectMetadata({
    engine: options.engine, sqlitePath: path.join(options.dataDir, 'wharf.db'), url: options.databaseUrl, poolSize: 2,
  });
  const db: Kysely<Database> = metadata.db;
  let manifestCount = 0;
  try {
    await db.transaction().execute(async (trx) => {
      const names = [...Array.from({ length: options.repos }, (_, i) => `${SMALL_PREFIX}${i}`), BIG, ONE];
      await insertInChunks(names, (chunk) => trx.insertInto('repositories').values(chunk.map((name) => ({ name, created_at: 0 }))).execute());
      const ids = new Map((await trx.selectFrom('repositories').select(['id', 'name']).execute()).map((r) => [r.name, r.id]));
      await trx.insertInto('blobs').values([config, layer].map((b) => ({ digest: b.digest, size: b.size, created_at: 0 }))).execute();
      await insertInChunks([...ids.values()], (chunk) => trx.insertInto('repository_blobs')
        .values(chunk.flatMap((id) => [config, layer].map((b) => ({ repository_id: id, digest: b.digest, created_at: 0 })))).execute());

      const shared = manifestBytes(config, layer);
      const images: Array<{ repository: string; tag: string; content: Buffer }> = [];
      for (let i = 0; i < options.repos; i++) images.push({ repository: `${SMALL_PREFIX}${i}`, tag: 'latest', content: shared });
      for (let i = 0; i < options.tags; i++) images.push({ repository: BIG, tag: `v${i}`, content: manifestBytes(config, layer, `big-${i}`) });
      images.push({ repository: ONE, tag: 'latest', content: manifestBytes(config, layer, 'one') });
      manifestCount = images.length;
      await insertInChunks(images, async (chunk) => {
        const rows = chunk.map((image) => ({ ...image, id: ids.get(image.repository)!, digest: sha256(image.content) }));
        const inserted = await trx.insertInto('manifests').values(rows.map((r) => ({
          repository_id: r.id, digest: r.digest, media_type: MANIFEST, artifact_type: null, size: r.content.length, content: r.content,
          subject_digest: null, annotations: null, created_at: 0, image_size: config.size + layer.size, last_pulled_at: null,
        }))).returning(['id', 'repository_id']).execute();
        await trx.insertInto('manifest_references')
          .values(inserted.flatMap((m) => [config, layer].map((b) => ({ manifest_id: m.id, repository_id: m.repository_id, digest: b.digest, kind: 'blob' as const })))).execute();
        await trx.insertInto('tags').values(rows.map((r) => ({ repository_id: r.id, name: r.tag, manifest_digest: r.digest, updated_at: 0 }))).execute();
      });
    });
    // What autovacuum would have done by the time a registry holds this much (SQLite is left as a
    // deployment leaves it: Wharf never runs ANALYZE there).
    if (options.engine === 'postgres') await sql`analyze`.execute(db);
  } finally {
    await metadata.close();
  }
  return { seconds: (performance.now() - started) / 1000, manifests: manifestCount };
}
