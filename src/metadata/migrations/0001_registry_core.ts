import { type Kysely, type Migration } from 'kysely';
import { columnTypes, type Engine } from './column-types.js';

export function migration(engine: Engine): Migration {
  const { id, name, bytes, big } = columnTypes(engine);
  return {
    async up(db: Kysely<unknown>) {
      await db.schema.createTable('repositories')
        .addColumn('id', id, (c) => (engine === 'sqlite' ? c.primaryKey().autoIncrement() : c.primaryKey()))
        .addColumn('name', name, (c) => c.notNull().unique())
        .addColumn('created_at', big, (c) => c.notNull())
        .execute();

      await db.schema.createTable('blobs')
        .addColumn('digest', 'text', (c) => c.primaryKey())
        .addColumn('size', big, (c) => c.notNull())
        .addColumn('created_at', big, (c) => c.notNull())
        .execute();

      await db.schema.createTable('repository_blobs')
        .addColumn('repository_id', big, (c) => c.notNull().references('repositories.id').onDelete('cascade'))
        .addColumn('digest', 'text', (c) => c.notNull().references('blobs.digest'))
        .addColumn('created_at', big, (c) => c.notNull())
        .addPrimaryKeyConstraint('repository_blobs_pk', ['repository_id', 'digest'])
        .execute();
      await db.schema.createIndex('repository_blobs_digest').on('repository_blobs').column('digest').execute();

      await db.schema.createTable('manifests')
        .addColumn('id', id, (c) => (engine === 'sqlite' ? c.primaryKey().autoIncrement() : c.primaryKey()))
        .addColumn('repository_id', big, (c) => c.notNull().references('repositories.id').onDelete('cascade'))
        .addColumn('digest', 'text', (c) => c.notNull())
        .addColumn('media_type', 'text', (c) => c.notNull())
        .addColumn('artifact_type', 'text')
        .addColumn('size', big, (c) => c.notNull())
        .addColumn('content', bytes, (c) => c.notNull())
        .addColumn('subject_digest', 'text')
        .addColumn('annotations', 'text')
        .addColumn('created_at', big, (c) => c.notNull())
        .addUniqueConstraint('manifests_repository_digest', ['repository_id', 'digest'])
        .execute();
      await db.schema.createIndex('manifests_subject').on('manifests').columns(['repository_id', 'subject_digest']).execute();

      await db.schema.createTable('manifest_references')
        .addColumn('manifest_id', big, (c) => c.notNull().references('manifests.id').onDelete('cascade'))
        .addColumn('digest', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('manifest_references_pk', ['manifest_id', 'digest', 'kind'])
        .execute();
      await db.schema.createIndex('manifest_references_digest').on('manifest_references').column('digest').execute();

      await db.schema.createTable('tags')
        .addColumn('repository_id', big, (c) => c.notNull().references('repositories.id').onDelete('cascade'))
        .addColumn('name', name, (c) => c.notNull())
        .addColumn('manifest_digest', 'text', (c) => c.notNull())
        .addColumn('updated_at', big, (c) => c.notNull())
        .addPrimaryKeyConstraint('tags_pk', ['repository_id', 'name'])
        .execute();
      await db.schema.createIndex('tags_manifest').on('tags').columns(['repository_id', 'manifest_digest']).execute();

      await db.schema.createTable('uploads')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('repository_id', big, (c) => c.notNull().references('repositories.id').onDelete('cascade'))
        .addColumn('size', big, (c) => c.notNull())
        .addColumn('created_at', big, (c) => c.notNull())
        .addColumn('updated_at', big, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('uploads_updated').on('uploads').column('updated_at').execute();
    },
  };
}
