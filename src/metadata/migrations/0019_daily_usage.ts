import type { Kysely, Migration } from 'kysely';
import { columnTypes, type Engine } from './column-types.js';

export function migration(engine: Engine): Migration {
  const { big, name } = columnTypes(engine);
  return {
    async up(db: Kysely<unknown>) {
      // Per namespace and UTC day, for the console's pictures: pulls counted, and the storage the
      // namespace used (the latest snapshot of the day). Kept with the account that owned the
      // namespace then: a name another account takes later starts without this history.
      await db.schema.createTable('daily_usage')
        .addColumn('account_id', big, (c) => c.notNull().references('accounts.id').onDelete('cascade'))
        .addColumn('namespace', name, (c) => c.notNull())
        .addColumn('day', 'text', (c) => c.notNull())
        .addColumn('pulls', big, (c) => c.notNull().defaultTo(0))
        .addColumn('storage_bytes', big)
        .addPrimaryKeyConstraint('daily_usage_pk', ['account_id', 'day', 'namespace'])
        .execute();
    },
  };
}
