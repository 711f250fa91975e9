import type { Kysely, Migration } from 'kysely';
import { columnTypes, type Engine } from './column-types.js';

export function migration(engine: Engine): Migration {
  const { big } = columnTypes(engine);
  return {
    async up(db: Kysely<unknown>) {
      // An accepted risk is often accepted until a fix ships: the exemption ends by itself.
      await db.schema.alterTable('exemptions').addColumn('expires_at', big).execute();
    },
  };
}
