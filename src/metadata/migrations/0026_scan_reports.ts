import { sql, type Kysely, type Migration } from 'kysely';
import type { Engine } from './column-types.js';

export function migration(_engine: Engine): Migration {
  return {
    async up(db: Kysely<unknown>) {
      // Scan reports move out of scan_results into a table of their own. SQLite keeps a row whole in
      // its table's pages (what does not fit spills to overflow pages), so with a report of tens of
      // kilobytes in it every scan row took a page of its own, and reading where the scans of an
      // image list stand read a page per image: 2,000 images took 35 ms, now a few. PostgreSQL keeps
      // large values apart anyway (TOAST) and loses nothing by the move. A scan's report goes with it.
      await db.schema.createTable('scan_reports')
        .addColumn('digest', 'text', (c) => c.primaryKey().references('scan_results.digest').onDelete('cascade'))
        .addColumn('report', 'text', (c) => c.notNull())
        .execute();
      await sql`INSERT INTO scan_reports (digest, report) SELECT digest, report FROM scan_results WHERE report IS NOT NULL`.execute(db);
      await db.schema.alterTable('scan_results').dropColumn('report').execute();
    },
  };
}
