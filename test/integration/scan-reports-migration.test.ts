import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sql, type Kysely } from 'kysely';
import { findScan, findScanStates } from '../../src/metadata/scans.js';
import type { Database } from '../../src/metadata/schema.js';
import { engines } from '../support/server.js';
import { migrationTestDatabase } from '../support/migration-db.js';

/**
 * Migration 0026 on a registry that already scanned images: each stored report moves to
 * scan_reports with its scan, scans without a report keep none, and a scan's report goes with it.
 */
for (const engine of engines()) {
  describe(`migration 0026 moves scan reports to a table of their own [${engine}]`, () => {
    it('keeps every report with its scan, and the report goes when its scan does', async () => {
      const { db, migrator, cleanup } = await migrationTestDatabase(engine);
      try {
        assert.equal((await migrator.migrateTo('0025_reference_repositories')).error, undefined);
        const digest = (name: string) => `sha256:${name.padEnd(64, '0')}`;
        const report = JSON.stringify({ digest: digest('done'), vulnerabilities: [{ advisoryId: 'CVE-2024-1' }], packages: [] });
        await sql`INSERT INTO scan_results (digest, state, report, error, scanned_at) VALUES (${digest('done')}, 'done', ${report}, NULL, 5)`.execute(db);
        await sql`INSERT INTO scan_results (digest, state, report, error, scanned_at) VALUES (${digest('failed')}, 'failed', NULL, 'layer missing', 6)`.execute(db);

        assert.equal((await migrator.migrateToLatest()).error, undefined);
        const typed = db as unknown as Kysely<Database>;
        assert.equal((await findScan(typed, digest('done')))?.report, report);
        const failed = await findScan(typed, digest('failed'));
        // bigint columns come back as strings from PostgreSQL.
        assert.deepEqual({ ...failed, scanned_at: Number(failed?.scanned_at) }, { digest: digest('failed'), state: 'failed', error: 'layer missing', scanned_at: 6, vulndb_import_id: null, packages_indexed: 0, report: null });
        const states = await findScanStates(typed, [digest('done'), digest('failed')]);
        assert.deepEqual([states.get(digest('done'))?.hasReport, states.get(digest('failed'))?.hasReport], [true, false]);
        const columns = Object.keys((await sql<Record<string, unknown>>`SELECT * FROM scan_results`.execute(db)).rows[0]!);
        assert.ok(!columns.includes('report'), `scan_results keeps no report column: ${columns.join(', ')}`);

        await typed.deleteFrom('scan_results').where('digest', '=', digest('done')).execute();
        assert.equal(Number((await sql<{ n: number | string }>`SELECT count(*) AS n FROM scan_reports`.execute(db)).rows[0]!.n), 0, 'the report went with its scan');
      } finally {
        await cleanup();
      }
    });
  });
}
