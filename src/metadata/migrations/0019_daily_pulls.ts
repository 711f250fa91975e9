import type { Kysely, Migration } from 'kysely';
import { columnTypes, type Engine } from './column-types.js';

export function migration(engine: Engine): Migration {
  const { big, name } = columnTypes(engine);
  return {
    async up(db: Kysely<unknown>) {
      // Pulls per namespace and UTC day, for the console's pictures. Kept with the account that owned
      // the namespace then: a name another account takes later starts without this history.
      await db.schema.createTable('daily_pulls')
        .addColumn('account_id', big, (c) => c.notNull().references('accounts.id').onDelete('cascade'))
        .addColumn('namespace', name, (c) => c.notNull())
        .addColumn('day', 'text', (c) => c.notNull())
        .addColumn('pulls', big, (c) => c.notNull())
        .addPrimaryKeyConstraint('daily_pulls_pk', ['account_id', 'day', 'namespace'])
        .execute();
    },
  };
}
