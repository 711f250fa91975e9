import type { Kysely, Migration } from 'kysely';
import { columnTypes, type Engine } from './column-types.js';

export function migration(engine: Engine): Migration {
  const { big } = columnTypes(engine);
  return {
    async up(db: Kysely<unknown>) {
      // A namespace's immutability rules, in the order the Manager gave them (the first match is the
      // one named in refusals). Rules go with their namespace.
      await db.schema.createTable('immutable_tag_rules')
        .addColumn('namespace_id', big, (c) => c.notNull().references('namespaces.id').onDelete('cascade'))
        .addColumn('position', 'integer', (c) => c.notNull())
        .addColumn('repository', 'text', (c) => c.notNull())
        .addColumn('tags', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('immutable_tag_rules_pk', ['namespace_id', 'position'])
        .execute();
    },
  };
}
