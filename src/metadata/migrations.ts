import { sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';

export type Engine = 'sqlite' | 'postgres';

/**
 * Migrations in order. Written once for both engines: only column types differ
 * (bytewise "C" collation for names in PostgreSQL, so tags and catalog sort lexically like SQLite).
 */
function migrations(engine: Engine): Record<string, Migration> {
  const id = engine === 'postgres' ? 'bigserial' : 'integer';
  const name = engine === 'postgres' ? sql`text collate "C"` : sql`text`;
  const bytes = engine === 'postgres' ? 'bytea' : 'blob';
  const big = 'bigint';

  return {
    '0001_registry_core': {
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
    },
    '0002_iam': {
      async up(db: Kysely<unknown>) {
        const serial = (t: ReturnType<Kysely<unknown>['schema']['createTable']>) =>
          t.addColumn('id', id, (c) => (engine === 'sqlite' ? c.primaryKey().autoIncrement() : c.primaryKey()));
        await serial(db.schema.createTable('accounts'))
          .addColumn('name', name, (c) => c.notNull().unique())
          .addColumn('created_at', big, (c) => c.notNull())
          .execute();
        await serial(db.schema.createTable('namespaces'))
          .addColumn('account_id', big, (c) => c.notNull().references('accounts.id').onDelete('cascade'))
          .addColumn('name', name, (c) => c.notNull().unique())
          .addColumn('public_pull', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('created_at', big, (c) => c.notNull())
          .execute();
        await db.schema.createIndex('namespaces_account').on('namespaces').columns(['account_id', 'name']).execute();
        await serial(db.schema.createTable('users'))
          .addColumn('account_id', big, (c) => c.notNull().references('accounts.id').onDelete('cascade'))
          .addColumn('username', name, (c) => c.notNull().unique())
          .addColumn('password_hash', 'text', (c) => c.notNull())
          .addColumn('owner', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('created_at', big, (c) => c.notNull())
          .execute();
        await serial(db.schema.createTable('service_ids'))
          .addColumn('account_id', big, (c) => c.notNull().references('accounts.id').onDelete('cascade'))
          .addColumn('name', name, (c) => c.notNull())
          .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
          .addColumn('created_at', big, (c) => c.notNull())
          .addUniqueConstraint('service_ids_account_name', ['account_id', 'name'])
          .execute();
        await serial(db.schema.createTable('api_keys'))
          .addColumn('account_id', big, (c) => c.notNull().references('accounts.id').onDelete('cascade'))
          .addColumn('principal_kind', 'text', (c) => c.notNull())
          .addColumn('principal_id', big, (c) => c.notNull())
          .addColumn('prefix', 'text', (c) => c.notNull().unique())
          .addColumn('secret_hash', 'text', (c) => c.notNull())
          .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
          .addColumn('created_at', big, (c) => c.notNull())
          .addColumn('last_used_at', big)
          .addColumn('revoked_at', big)
          .execute();
        await db.schema.createIndex('api_keys_principal').on('api_keys').columns(['principal_kind', 'principal_id']).execute();
        await serial(db.schema.createTable('access_groups'))
          .addColumn('account_id', big, (c) => c.notNull().references('accounts.id').onDelete('cascade'))
          .addColumn('name', name, (c) => c.notNull())
          .addColumn('created_at', big, (c) => c.notNull())
          .addUniqueConstraint('access_groups_account_name', ['account_id', 'name'])
          .execute();
        await db.schema.createTable('group_members')
          .addColumn('group_id', big, (c) => c.notNull().references('access_groups.id').onDelete('cascade'))
          .addColumn('principal_kind', 'text', (c) => c.notNull())
          .addColumn('principal_id', big, (c) => c.notNull())
          .addPrimaryKeyConstraint('group_members_pk', ['group_id', 'principal_kind', 'principal_id'])
          .execute();
        await db.schema.createIndex('group_members_principal').on('group_members').columns(['principal_kind', 'principal_id']).execute();
        await serial(db.schema.createTable('policies'))
          .addColumn('account_id', big, (c) => c.notNull().references('accounts.id').onDelete('cascade'))
          .addColumn('subject_kind', 'text', (c) => c.notNull())
          .addColumn('subject_id', big, (c) => c.notNull())
          .addColumn('role', 'text', (c) => c.notNull())
          .addColumn('namespace', name)
          .addColumn('repository', name)
          .addColumn('created_at', big, (c) => c.notNull())
          .execute();
        await db.schema.createIndex('policies_subject').on('policies').columns(['subject_kind', 'subject_id']).execute();
        await db.schema.createTable('signing_keys')
          .addColumn('kid', 'text', (c) => c.primaryKey())
          .addColumn('private_jwk', 'text', (c) => c.notNull())
          .addColumn('public_jwk', 'text', (c) => c.notNull())
          .addColumn('created_at', big, (c) => c.notNull())
          .addColumn('retired_at', big)
          .execute();
        await db.schema.createTable('refresh_tokens')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('secret_hash', 'text', (c) => c.notNull())
          .addColumn('principal_kind', 'text', (c) => c.notNull())
          .addColumn('principal_id', big, (c) => c.notNull())
          .addColumn('account_id', big, (c) => c.notNull().references('accounts.id').onDelete('cascade'))
          .addColumn('api_key_id', big)
          .addColumn('created_at', big, (c) => c.notNull())
          .addColumn('expires_at', big, (c) => c.notNull())
          .addColumn('revoked_at', big)
          .execute();
        await serial(db.schema.createTable('audit_events'))
          .addColumn('account_id', big)
          .addColumn('at', big, (c) => c.notNull())
          .addColumn('actor', 'text', (c) => c.notNull())
          .addColumn('action', 'text', (c) => c.notNull())
          .addColumn('resource', 'text', (c) => c.notNull())
          .addColumn('outcome', 'text', (c) => c.notNull())
          .addColumn('source', 'text', (c) => c.notNull())
          .addColumn('detail', 'text')
          .execute();
        await db.schema.createIndex('audit_events_account_at').on('audit_events').columns(['account_id', 'at']).execute();
      },
    },
    '0003_management': {
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
    },
    '0004_scanner': {
      async up(db: Kysely<unknown>) {
        await db.schema.createTable('jobs')
          .addColumn('id', id, (c) => (engine === 'sqlite' ? c.primaryKey().autoIncrement() : c.primaryKey()))
          .addColumn('kind', 'text', (c) => c.notNull())
          .addColumn('dedupe_key', 'text', (c) => c.unique())
          .addColumn('payload', 'text', (c) => c.notNull())
          .addColumn('state', 'text', (c) => c.notNull())
          .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('run_after', big, (c) => c.notNull())
          .addColumn('lease_until', big)
          .addColumn('leased_by', 'text')
          .addColumn('last_error', 'text')
          .addColumn('created_at', big, (c) => c.notNull())
          .execute();
        await db.schema.createIndex('jobs_runnable').on('jobs').columns(['state', 'run_after']).execute();
        await db.schema.createTable('advisories')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('modified', 'text', (c) => c.notNull())
          .addColumn('record', 'text', (c) => c.notNull())
          .execute();
        await db.schema.createTable('advisory_packages')
          .addColumn('advisory_id', 'text', (c) => c.notNull().references('advisories.id').onDelete('cascade'))
          .addColumn('ecosystem', 'text', (c) => c.notNull())
          .addColumn('name', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('advisory_packages_pk', ['ecosystem', 'name', 'advisory_id'])
          .execute();
        await db.schema.createIndex('advisory_packages_advisory').on('advisory_packages').column('advisory_id').execute();
        await db.schema.createTable('vulndb_imports')
          .addColumn('id', id, (c) => (engine === 'sqlite' ? c.primaryKey().autoIncrement() : c.primaryKey()))
          .addColumn('imported_at', big, (c) => c.notNull())
          .addColumn('source', 'text', (c) => c.notNull())
          .addColumn('records', 'integer', (c) => c.notNull())
          .addColumn('changed', 'integer', (c) => c.notNull())
          .addColumn('data_date', 'text')
          .execute();
        await db.schema.createTable('scan_results')
          .addColumn('digest', 'text', (c) => c.primaryKey())
          .addColumn('state', 'text', (c) => c.notNull())
          .addColumn('report', 'text')
          .addColumn('error', 'text')
          .addColumn('scanned_at', big)
          .addColumn('vulndb_import_id', big)
          .execute();
        await db.schema.createTable('exemptions')
          .addColumn('id', id, (c) => (engine === 'sqlite' ? c.primaryKey().autoIncrement() : c.primaryKey()))
          .addColumn('account_id', big, (c) => c.notNull().references('accounts.id').onDelete('cascade'))
          .addColumn('issue_id', 'text', (c) => c.notNull())
          .addColumn('scope', 'text', (c) => c.notNull())
          .addColumn('namespace', name)
          .addColumn('repository', name)
          .addColumn('digest', 'text')
          .addColumn('reason', 'text', (c) => c.notNull())
          .addColumn('created_by', 'text', (c) => c.notNull())
          .addColumn('created_at', big, (c) => c.notNull())
          .execute();
        await db.schema.createIndex('exemptions_account').on('exemptions').column('account_id').execute();
        await db.schema.alterTable('trash').addColumn('account_id', big).execute();
        await db.schema.createIndex('trash_account').on('trash').columns(['account_id', 'deleted_at']).execute();
      },
    },
  };
}

export class WharfMigrations implements MigrationProvider {
  constructor(private readonly engine: Engine) {}
  async getMigrations(): Promise<Record<string, Migration>> {
    return migrations(this.engine);
  }
}
