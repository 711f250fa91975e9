import { type Kysely, type Migration } from 'kysely';
import { columnTypes, type Engine } from './column-types.js';

interface TrashRows {
  trash: { id: number; content: Uint8Array };
  trash_references: { trash_id: number; digest: string };
}

/** Config and layer digests of a stored manifest (an index's platforms are trash rows of their own). */
function blobDigestsOf(content: Buffer): string[] {
  try {
    const manifest = JSON.parse(content.toString('utf8')) as { config?: { digest?: unknown }; layers?: Array<{ digest?: unknown; urls?: unknown }> };
    const digests = [manifest.config?.digest, ...(manifest.layers ?? []).map((l) => l.digest)];
    return [...new Set(digests.filter((d): d is string => typeof d === 'string'))];
  } catch {
    return [];
  }
}

export function migration(engine: Engine): Migration {
  const { id, big } = columnTypes(engine);
  return {
    async up(db: Kysely<unknown>) {
      // A named lease: at most one replica holds it until it expires (the garbage collector's).
      await db.schema.createTable('leases')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('holder', 'text', (c) => c.notNull())
        .addColumn('expires_at', big, (c) => c.notNull())
        .execute();
      await db.schema.createTable('gc_runs')
        .addColumn('id', id, (c) => (engine === 'sqlite' ? c.primaryKey().autoIncrement() : c.primaryKey()))
        .addColumn('trigger', 'text', (c) => c.notNull())
        .addColumn('dry_run', 'integer', (c) => c.notNull())
        .addColumn('started_at', big, (c) => c.notNull())
        .addColumn('finished_at', big)
        .addColumn('links_removed', big, (c) => c.notNull().defaultTo(0))
        .addColumn('blobs_removed', big, (c) => c.notNull().defaultTo(0))
        .addColumn('bytes_freed', big, (c) => c.notNull().defaultTo(0))
        .addColumn('orphans_removed', big, (c) => c.notNull().defaultTo(0))
        .addColumn('error', 'text')
        .execute();
      await db.schema.createIndex('gc_runs_started').on('gc_runs').column('started_at').execute();
      // The sweep looks for old links and old blobs; these keep it from reading every row's neighbours.
      await db.schema.createIndex('repository_blobs_created').on('repository_blobs').column('created_at').execute();
      await db.schema.createIndex('blobs_created').on('blobs').column('created_at').execute();

      // The blobs a trashed image needs, so the collector keeps them (and their links) until the
      // image leaves the trash; written with the trash row, gone with it.
      await db.schema.createTable('trash_references')
        .addColumn('trash_id', big, (c) => c.notNull().references('trash.id').onDelete('cascade'))
        .addColumn('digest', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('trash_references_pk', ['trash_id', 'digest'])
        .execute();
      await db.schema.createIndex('trash_references_digest').on('trash_references').column('digest').execute();
      const trashed = await (db as Kysely<TrashRows>).selectFrom('trash').select(['id', 'content']).execute();
      for (const row of trashed) {
        const digests = blobDigestsOf(Buffer.from(row.content));
        if (digests.length === 0) continue;
        await (db as Kysely<TrashRows>).insertInto('trash_references').values(digests.map((digest) => ({ trash_id: row.id, digest }))).execute();
      }
    },
  };
}
