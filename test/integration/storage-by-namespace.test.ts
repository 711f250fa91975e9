import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { namespaceStorage, storageByNamespace } from '../../src/metadata/activity.js';
import { engines } from '../support/server.js';
import { migrationTestDatabase } from '../support/migration-db.js';

/**
 * The storage snapshots walk every blob link once, in windows, instead of one query per namespace
 * (which held SQLite's event loop for ~200 ms on a namespace of 50,000 repositories): the figures
 * must be exactly the per-namespace query's, shared blobs counted once per namespace.
 */
for (const engine of engines()) {
  describe(`storage of every namespace in one windowed walk [${engine}]`, () => {
    it('equals each namespace\'s own query, whatever the window, a blob shared inside a namespace counting once', async () => {
      const { db, migrator, cleanup } = await migrationTestDatabase(engine);
      try {
        assert.equal((await migrator.migrateToLatest()).error, undefined);
        const digest = (i: number) => `sha256:${i.toString(16).padStart(64, '0')}`;
        for (let i = 1; i <= 12; i++) await sql`INSERT INTO blobs (digest, size, created_at) VALUES (${digest(i)}, ${i * 1000}, 0)`.execute(db);
        // team-a: two repositories sharing blobs 1-3; team-b shares blob 2 with team-a; a repository without a namespace.
        const links: Record<string, number[]> = {
          'team-a/app': [1, 2, 3, 4], 'team-a/tools': [1, 2, 3, 5], 'team-a/deep/path': [6],
          'team-b/app': [2, 7, 8], 'team-b/other': [8, 9, 10, 11, 12], 'team-c/empty': [], nonamespace: [1, 12],
        };
        for (const [name, blobs] of Object.entries(links)) {
          await sql`INSERT INTO repositories (name, created_at) VALUES (${name}, 0)`.execute(db);
          const id = Number((await sql<{ id: number }>`SELECT id FROM repositories WHERE name = ${name}`.execute(db)).rows[0]!.id);
          for (const b of blobs) await sql`INSERT INTO repository_blobs (repository_id, digest, created_at) VALUES (${id}, ${digest(b)}, 0)`.execute(db);
        }
        const expected = new Map<string, number>();
        for (const ns of ['team-a', 'team-b', 'team-c']) expected.set(ns, await namespaceStorage(db, ns));
        // Not vacuous: team-a holds blobs 1-6 once each, team-b 2 and 7-12.
        assert.equal(expected.get('team-a'), 21_000);
        assert.equal(expected.get('team-b'), 2000 + 7000 + 8000 + 9000 + 10_000 + 11_000 + 12_000);
        for (const window of [1, 2, 3, 5, 2000]) {
          const walked = await storageByNamespace(db, window);
          assert.equal(walked.get('team-a'), expected.get('team-a'), `window ${window}`);
          assert.equal(walked.get('team-b'), expected.get('team-b'), `window ${window}`);
          assert.equal(walked.get('team-c') ?? 0, 0, `window ${window}`);
          assert.deepEqual([...walked.keys()].sort(), ['team-a', 'team-b'], `window ${window}: a name without a namespace counts nowhere`);
        }
      } finally {
        await cleanup();
      }
    });
  });
}
