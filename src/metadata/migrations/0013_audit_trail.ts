import type { Kysely, Migration } from 'kysely';
import type { Engine } from './column-types.js';

export function migration(_engine: Engine): Migration {
  return {
    async up(db: Kysely<unknown>) {
      // SQLite adds one column per ALTER TABLE.
      // The request the event came from, to find it in the server log.
      await db.schema.alterTable('audit_events').addColumn('request_id', 'text').execute();
      // The namespace the resource lives in, for `wharf audit --namespace` without parsing resources.
      await db.schema.alterTable('audit_events').addColumn('namespace', 'text').execute();
      // Events recorded in batches (pulls, repeated logins) stand for this many identical ones.
      await db.schema.alterTable('audit_events').addColumn('count', 'integer', (c) => c.notNull().defaultTo(1)).execute();
      // Paging is newest first by id within an account; retention deletes by age across accounts.
      await db.schema.createIndex('audit_events_account_id').on('audit_events').columns(['account_id', 'id']).execute();
      await db.schema.createIndex('audit_events_at').on('audit_events').column('at').execute();
    },
  };
}
