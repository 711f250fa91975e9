import { type Kysely, type Migration } from 'kysely';
import { columnTypes, type Engine } from './column-types.js';

/**
 * The failed-login throttle lives in the database so every replica sees the same counts, and the
 * pull traffic of clients outside the owning account gets its own counter and limit.
 */
export function migration(engine: Engine): Migration {
  const { big } = columnTypes(engine);
  return {
    async up(db: Kysely<unknown>) {
      await db.schema.createTable('login_throttle')
        .addColumn('subject', 'text', (c) => c.notNull())
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('failures', 'integer', (c) => c.notNull())
        .addColumn('blocked_until', big, (c) => c.notNull())
        .addColumn('last_failure_at', big, (c) => c.notNull())
        .addPrimaryKeyConstraint('login_throttle_pk', ['subject', 'source'])
        .execute();
      await db.schema.createIndex('login_throttle_last_failure').on('login_throttle').column('last_failure_at').execute();
      await db.schema.alterTable('account_quotas').addColumn('public_pull_bytes_per_month', big).execute();
      await db.schema.alterTable('account_pull_usage').addColumn('public_bytes', big, (c) => c.notNull().defaultTo(0)).execute();
    },
  };
}
