import { type Kysely, type Migration } from 'kysely';
import { columnTypes, type Engine } from './column-types.js';

export function migration(engine: Engine): Migration {
  const { id, name, bytes, big } = columnTypes(engine);
  return {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('manifests').addColumn('image_size', big, (c) => c.notNull().defaultTo(0)).execute();
      await db.schema.alterTable('manifests').addColumn('pull_count', big, (c) => c.notNull().defaultTo(0)).execute();
      await db.schema.alterTable('manifests').addColumn('last_pulled_at', big).execute();
      await db.schema.createIndex('manifests_repository_created').on('manifests').columns(['repository_id', 'created_at']).execute();
      await db.schema.createTable('trash')
        .addColumn('id', id, (c) => (engine === 'sqlite' ? c.primaryKey().autoIncrement() : c.primaryKey()))
        .addColumn('repository_name', name, (c) => c.notNull())
        .addColumn('digest', 'text', (c) => c.notNull())
        .addColumn('media_type', 'text', (c) => c.notNull())
        .addColumn('content', bytes, (c) => c.notNull())
        .addColumn('tags', 'text', (c) => c.notNull())
        .addColumn('image_size', big, (c) => c.notNull())
        .addColumn('created_at', big, (c) => c.notNull())
        .addColumn('deleted_at', big, (c) => c.notNull())
        .addColumn('deleted_by', 'text', (c) => c.notNull())
        .addColumn('expires_at', big, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('trash_repository').on('trash').columns(['repository_name', 'digest']).execute();
      await db.schema.createIndex('trash_expires').on('trash').column('expires_at').execute();
      await db.schema.createTable('account_quotas')
        .addColumn('account_id', big, (c) => c.primaryKey().references('accounts.id').onDelete('cascade'))
        .addColumn('storage_bytes', big)
        .addColumn('pull_bytes_per_month', big)
        .execute();
      await db.schema.createTable('account_pull_usage')
        .addColumn('account_id', big, (c) => c.notNull().references('accounts.id').onDelete('cascade'))
        .addColumn('month', 'text', (c) => c.notNull())
        .addColumn('bytes', big, (c) => c.notNull())
        .addPrimaryKeyConstraint('account_pull_usage_pk', ['account_id', 'month'])
        .execute();
      await db.schema.createTable('namespace_retention')
        .addColumn('namespace_id', big, (c) => c.primaryKey().references('namespaces.id').onDelete('cascade'))
        .addColumn('keep_images', 'integer')
        .addColumn('remove_untagged', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('last_run_at', big)
        .execute();
    },
  };
}
