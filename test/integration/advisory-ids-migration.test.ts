import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { engines } from '../support/server.js';
import { migrationTestDatabase } from '../support/migration-db.js';

/**
 * Migration 0022 on a database that already holds advisories: the ID index is filled from the
 * stored records (their own IDs, aliases and upstream IDs), so records imported before the
 * upgrade find each other without a re-import.
 */

const osv = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'osv');
const raw = (file: string) => readFileSync(path.join(osv, file), 'utf8');

for (const engine of engines()) {
  describe(`migration 0022 fills the advisory ID index from stored advisories [${engine}]`, () => {
    it('indexes every ID of every stored record, and nothing else', async () => {
      const { db, migrator, cleanup } = await migrationTestDatabase(engine);
      try {
        const before = await migrator.migrateTo('0010_immutable_tags');
        assert.equal(before.error, undefined);
        for (const file of ['DSA-5514-1.json', 'DEBIAN-CVE-2026-34743.json', 'GO-2022-0969.json']) {
          const rec = JSON.parse(raw(file)) as { id: string; modified: string };
          await db.insertInto('advisories').values({ id: rec.id, modified: rec.modified, record: raw(file) }).execute();
        }
        const after = await migrator.migrateToLatest();
        assert.equal(after.error, undefined);
        const rows = await db.selectFrom('advisory_ids').select(['alias_id', 'advisory_id']).execute();
        assert.deepEqual(rows.map((r) => `${r.advisory_id} ${r.alias_id}`).sort(), [
          'DEBIAN-CVE-2026-34743 CVE-2026-34743',
          'DEBIAN-CVE-2026-34743 DEBIAN-CVE-2026-34743',
          'DSA-5514-1 CVE-2023-4911',
          'DSA-5514-1 DSA-5514-1',
          'GO-2022-0969 CVE-2022-27664',
          'GO-2022-0969 GHSA-69cg-p879-7622',
          'GO-2022-0969 GO-2022-0969',
        ]);
      } finally {
        await cleanup();
      }
    });
  });
}
