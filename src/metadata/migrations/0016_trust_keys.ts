import type { Kysely, Migration } from 'kysely';
import { columnTypes, type Engine } from './column-types.js';

export function migration(engine: Engine): Migration {
  const { id, big, name } = columnTypes(engine);
  return {
    async up(db: Kysely<unknown>) {
      // Public keys an account trusts to sign its images, for the whole account or one namespace.
      // The name is what image policies refer to, so it is unique in the account.
      await db.schema.createTable('trust_keys')
        .addColumn('id', id, (c) => c.primaryKey())
        .addColumn('account_id', big, (c) => c.notNull().references('accounts.id').onDelete('cascade'))
        .addColumn('name', name, (c) => c.notNull())
        .addColumn('namespace', name)
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('public_key', 'text', (c) => c.notNull())
        .addColumn('fingerprint', 'text', (c) => c.notNull())
        .addColumn('created_at', big, (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('trust_keys_name').unique().on('trust_keys').columns(['account_id', 'name']).execute();
    },
  };
}
