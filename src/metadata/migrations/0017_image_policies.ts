import type { Kysely, Migration } from 'kysely';
import { columnTypes, type Engine } from './column-types.js';

export function migration(engine: Engine): Migration {
  const { big, name } = columnTypes(engine);
  return {
    async up(db: Kysely<unknown>) {
      // Image policies (deployment enforcement), not IAM policies. One row per place a policy applies;
      // scope_key (`cluster`, `account:3`, `namespace:3:team-a`, `repository:3:team-a/app`) makes each
      // place unique on both engines without a unique index over nullable columns. The account is in
      // the key, so a namespace removed and re-created by another tenant does not inherit a policy.
      await db.schema.createTable('image_policies')
        .addColumn('scope_key', name, (c) => c.primaryKey())
        .addColumn('scope', 'text', (c) => c.notNull())
        .addColumn('account_id', big, (c) => c.references('accounts.id').onDelete('cascade'))
        .addColumn('target', name, (c) => c.notNull())
        .addColumn('policy', 'text', (c) => c.notNull())
        .addColumn('updated_at', big, (c) => c.notNull())
        .addColumn('updated_by', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('image_policies_account').on('image_policies').column('account_id').execute();
    },
  };
}
