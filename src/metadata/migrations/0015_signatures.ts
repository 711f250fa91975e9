import type { Kysely, Migration } from 'kysely';
import { columnTypes, type Engine } from './column-types.js';

export function migration(engine: Engine): Migration {
  const { id, big, name, bytes } = columnTypes(engine);
  return {
    async up(db: Kysely<unknown>) {
      // Simple signatures pushed through the registry signature API (/extensions/v2), by image digest.
      // Keyed by digest rather than by manifest row: an image in the trash keeps its signatures, and a
      // restore finds them where they were; they go when the image leaves the trash for good.
      await db.schema.createTable('image_signatures')
        .addColumn('id', id, (c) => c.primaryKey())
        .addColumn('repository_id', big, (c) => c.notNull().references('repositories.id').onDelete('cascade'))
        .addColumn('manifest_digest', name, (c) => c.notNull())
        .addColumn('name', name, (c) => c.notNull())
        .addColumn('content', bytes, (c) => c.notNull())
        .addColumn('created_at', big, (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('image_signatures_name').unique().on('image_signatures').columns(['repository_id', 'manifest_digest', 'name']).execute();
      // A signature or attestation moved to the trash with the image it signs: listed, restored and
      // removed with that image rather than on its own.
      await db.schema.alterTable('trash').addColumn('attached_to', 'text').execute();
    },
  };
}
