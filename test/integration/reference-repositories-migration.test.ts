import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { staleLinks } from '../../src/metadata/garbage.js';
import { engines } from '../support/server.js';
import { migrationTestDatabase } from '../support/migration-db.js';

/**
 * Migration 0025 on a registry that already holds images: every stored reference learns its
 * manifest's repository, so the garbage collector's link check (which now asks the reference for
 * its repository) keeps every link an image of that repository still uses.
 */
for (const engine of engines()) {
  describe(`migration 0025 gives stored references their repository [${engine}]`, () => {
    it('fills repository_id from each reference\'s manifest, and the link sweep then keeps referenced links only', async () => {
      const { db, migrator, cleanup } = await migrationTestDatabase(engine);
      try {
        assert.equal((await migrator.migrateTo('0024_va_extras')).error, undefined);
        // Two repositories share a layer; each has its own config; one link (r2's stale blob) is used by no image.
        const digest = (name: string) => `sha256:${name.padEnd(64, '0')}`;
        for (const name of ['layer', 'config1', 'config2', 'stale']) await sql`INSERT INTO blobs (digest, size, created_at) VALUES (${digest(name)}, 1, 0)`.execute(db);
        const ids: number[] = [];
        for (const repo of ['team/one', 'team/two']) {
          await sql`INSERT INTO repositories (name, created_at) VALUES (${repo}, 0)`.execute(db);
          ids.push(Number((await sql<{ id: number }>`SELECT id FROM repositories WHERE name = ${repo}`.execute(db)).rows[0]!.id));
        }
        const links: Array<[number, string]> = [[ids[0]!, 'layer'], [ids[0]!, 'config1'], [ids[1]!, 'layer'], [ids[1]!, 'config2'], [ids[1]!, 'stale']];
        for (const [repo, blob] of links) await sql`INSERT INTO repository_blobs (repository_id, digest, created_at) VALUES (${repo}, ${digest(blob)}, 0)`.execute(db);
        for (const [i, repo] of ids.entries()) {
          await sql`INSERT INTO manifests (repository_id, digest, media_type, size, content, created_at, image_size) VALUES (${repo}, ${digest(`m${i}`)}, 'application/vnd.oci.image.manifest.v1+json', 2, ${Buffer.from('{}')}, 0, 2)`.execute(db);
          const manifestId = Number((await sql<{ id: number }>`SELECT id FROM manifests WHERE repository_id = ${repo}`.execute(db)).rows[0]!.id);
          for (const blob of ['layer', `config${i + 1}`]) await sql`INSERT INTO manifest_references (manifest_id, digest, kind) VALUES (${manifestId}, ${digest(blob)}, 'blob')`.execute(db);
        }

        assert.equal((await migrator.migrateToLatest()).error, undefined);
        const rows = await db.selectFrom('manifest_references as mr').innerJoin('manifests as m', 'm.id', 'mr.manifest_id')
          .select(['mr.repository_id', 'm.repository_id as manifest_repository']).execute();
        assert.equal(rows.length, 4);
        for (const row of rows) assert.equal(Number(row.repository_id), Number(row.manifest_repository), 'the reference names its manifest\'s repository');
        const stale = await staleLinks(db, Number.MAX_SAFE_INTEGER, 100);
        assert.deepEqual(stale.map((l) => [Number(l.repositoryId), l.digest]), [[ids[1], digest('stale')]], 'only the link no image uses is stale');
      } finally {
        await cleanup();
      }
    });
  });
}
