import { type Kysely, type Migration } from 'kysely';
import { columnTypes, type Engine } from './column-types.js';

export function migration(engine: Engine): Migration {
  const { id, name, big } = columnTypes(engine);
  return {
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
  };
}
