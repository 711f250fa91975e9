import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { blobWindowEdge, linkWindowEdge, staleLinks, unreferencedBlobs, type LinkKey } from '../../src/metadata/garbage.js';
import { engines } from '../support/server.js';
import { migrationTestDatabase } from '../support/migration-db.js';

/**
 * The collector checks links and blobs a window at a time (one short statement each, requests served
 * between them): walking the windows must find exactly what one unbounded query finds.
 */
for (const engine of engines()) {
  describe(`garbage collection in windows [${engine}]`, () => {
    it('windows of any size cover every link and blob once: the same stale links and unreferenced blobs as one query', async () => {
      const { db, migrator, cleanup } = await migrationTestDatabase(engine);
      try {
        assert.equal((await migrator.migrateToLatest()).error, undefined);
        const digest = (i: number) => `sha256:${i.toString(16).padStart(64, '0')}`;
        for (let i = 1; i <= 30; i++) await sql`INSERT INTO blobs (digest, size, created_at) VALUES (${digest(i)}, ${i}, 0)`.execute(db);
        for (let r = 1; r <= 4; r++) {
          await sql`INSERT INTO repositories (name, created_at) VALUES (${`team/r${r}`}, 0)`.execute(db);
          const id = Number((await sql<{ id: number }>`SELECT id FROM repositories WHERE name = ${`team/r${r}`}`.execute(db)).rows[0]!.id);
          // Each repository links blobs r..r+14; its image references every other one of them.
          await sql`INSERT INTO manifests (repository_id, digest, media_type, size, content, created_at, image_size) VALUES (${id}, ${digest(100 + r)}, 'application/vnd.oci.image.manifest.v1+json', 2, ${Buffer.from('{}')}, 0, 2)`.execute(db);
          const manifestId = Number((await sql<{ id: number }>`SELECT id FROM manifests WHERE repository_id = ${id}`.execute(db)).rows[0]!.id);
          for (let b = r; b < r + 15; b++) {
            await sql`INSERT INTO repository_blobs (repository_id, digest, created_at) VALUES (${id}, ${digest(b)}, 0)`.execute(db);
            if (b % 2 === 0) await sql`INSERT INTO manifest_references (manifest_id, digest, kind, repository_id) VALUES (${manifestId}, ${digest(b)}, 'blob', ${id})`.execute(db);
          }
        }
        const key = (l: LinkKey) => `${l.repositoryId}:${l.digest}`;
        const allStale = (await staleLinks(db, 1, 10_000)).map(key);
        const allUnreferenced = (await unreferencedBlobs(db, 1, 10_000)).map((b) => b.digest);
        // Not vacuous: some links are stale (odd blobs), some blobs are linked by nothing (19-30).
        assert.equal(allStale.length, 4 * 7 + 2);
        assert.deepEqual(allUnreferenced, Array.from({ length: 12 }, (_, i) => digest(19 + i)));
        for (const size of [1, 2, 7, 60, 1000]) {
          const links: string[] = [];
          let after: LinkKey | undefined;
          for (;;) {
            const edge = await linkWindowEdge(db, size, after);
            links.push(...(await staleLinks(db, 1, 10_000, after, edge)).map(key));
            if (!edge) break;
            after = edge;
          }
          assert.deepEqual(links, allStale, `link windows of ${size}`);
          const blobs: string[] = [];
          let afterBlob: string | undefined;
          for (;;) {
            const edge = await blobWindowEdge(db, size, afterBlob);
            blobs.push(...(await unreferencedBlobs(db, 1, 10_000, afterBlob, edge)).map((b) => b.digest));
            if (!edge) break;
            afterBlob = edge;
          }
          assert.deepEqual(blobs, allUnreferenced, `blob windows of ${size}`);
        }
      } finally {
        await cleanup();
      }
    });
  });
}
