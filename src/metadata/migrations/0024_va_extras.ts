import type { Kysely, Migration } from 'kysely';
import { columnTypes, type Engine } from './column-types.js';

export function migration(engine: Engine): Migration {
  const { big, name, bytes } = columnTypes(engine);
  return {
    async up(db: Kysely<unknown>) {
      // An accepted risk is often accepted until a fix ships: the exemption ends by itself.
      await db.schema.alterTable('exemptions').addColumn('expires_at', big).execute();
      // Simple signatures hang on their repository row, which goes with a removed namespace: those of
      // its trashed images wait here with their trash row (and go with it) until a restore.
      await db.schema.createTable('trash_signatures')
        .addColumn('trash_id', big, (c) => c.notNull().references('trash.id').onDelete('cascade'))
        .addColumn('name', name, (c) => c.notNull())
        .addColumn('content', bytes, (c) => c.notNull())
        .addColumn('created_at', big, (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('trash_signatures_pk', ['trash_id', 'name'])
        .execute();
    },
  };
}
