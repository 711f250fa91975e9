import type { Kysely, Migration } from 'kysely';
import { columnTypes, type Engine } from './column-types.js';

export function migration(engine: Engine): Migration {
  const { big } = columnTypes(engine);
  return {
    async up(db: Kysely<unknown>) {
      // One row per OSV export the feed downloads (an ecosystem folder such as "Debian" or "npm"):
      // the validators a conditional request sends, and what the last attempt did.
      await db.schema.createTable('vulndb_sources')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('url', 'text', (c) => c.notNull())
        .addColumn('etag', 'text')
        .addColumn('last_modified', 'text')
        .addColumn('last_attempt_at', big)
        .addColumn('last_success_at', big)
        .addColumn('last_changed_at', big)
        .addColumn('records', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('changed', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('last_error', 'text')
        .addColumn('last_error_at', big)
        .execute();
      // The (ecosystem, package) names a scan looked advisories up by: which images an advisory
      // change touches, and which ecosystems the stored images contain.
      await db.schema.createTable('scan_packages')
        .addColumn('digest', 'text', (c) => c.notNull())
        .addColumn('ecosystem', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('scan_packages_pk', ['digest', 'ecosystem', 'name'])
        .execute();
      await db.schema.createIndex('scan_packages_package').on('scan_packages').columns(['ecosystem', 'name']).execute();
      // Scans done before this migration have no package rows: they are rescanned on any change.
      await db.schema.alterTable('scan_results').addColumn('packages_indexed', 'integer', (c) => c.notNull().defaultTo(0)).execute();
    },
  };
}
