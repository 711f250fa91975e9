import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { engines, startTestServer, type TestServer } from '../support/server.js';
import { pushImage, repoName } from '../support/http.js';
import { BackupError, takeBackup, type BackupSource } from '../../src/ops/backup.js';
import { restoreBackup } from '../../src/ops/restore.js';
import { FsBlobStore, blobFilePath } from '../../src/storage/fs/fs-blob-store.js';

/**
 * The backup and restore modules against an in-process server on each engine: SQLite is backed up
 * whole, PostgreSQL's blobs (its metadata is pg_dump's); the restored store holds every blob byte for
 * byte; a damaged or foreign directory, and a blob gone from the store, are refused with what to do.
 */
for (const engine of engines()) {
  describe(`backup and restore [${engine}]`, () => {
    let server: TestServer;
    let work: string;
    let source: BackupSource;

    before(async () => {
      server = await startTestServer(engine);
      work = mkdtempSync(path.join(os.tmpdir(), 'wharf-backup-int-'));
      source = {
        engine,
        sqlitePath: server.config.database.sqlitePath,
        store: server.registry.ctx.store,
        fsRoot: server.dataDir,
        listBlobs: async () => (await server.metadata.db.selectFrom('blobs').select(['digest', 'size']).execute()).map((r) => ({ digest: r.digest, size: Number(r.size) })),
      };
    });
    after(async () => {
      await server.stop();
      rmSync(work, { recursive: true, force: true });
    });

    it('backs up every blob the metadata references, hard-linked, and restores them into an empty data directory', async () => {
      const name = repoName('backup');
      for (let i = 0; i < 3; i++) await pushImage(server.url, name, `v${i}`);
      const dir = path.join(work, 'b1');
      const manifest = await takeBackup(source, dir, () => Date.parse('2026-11-30T12:00:00Z'));
      assert.equal(manifest.createdAt, '2026-11-30T12:00:00.000Z');
      assert.equal(manifest.engine, engine);
      const expected = (await source.listBlobs!()).sort((a, b) => a.digest.localeCompare(b.digest));
      assert.equal(manifest.blobs.count, expected.length);
      assert.equal(manifest.blobs.bytes, expected.reduce((n, b) => n + b.size, 0));
      assert.equal(manifest.blobs.linked, expected.length);
      assert.equal(readFileSync(path.join(dir, 'blobs.txt'), 'utf8'), expected.map((b) => `${b.digest} ${b.size}\n`).join(''));
      if (engine === 'sqlite') {
        assert.ok(manifest.metadata && manifest.metadata.bytes > 0);
        assert.deepEqual(manifest.contents, { repositories: 1, manifests: 3, tags: 3 });
      } else {
        assert.equal(manifest.metadata, null, 'PostgreSQL metadata is pg_dump\'s');
      }
      for (const blob of expected) {
        assert.equal(statSync(blobFilePath(dir, blob.digest)).ino, statSync(blobFilePath(server.dataDir, blob.digest)).ino, 'hard-linked');
      }

      const target = path.join(work, 'restored1');
      const report = await restoreBackup(dir, {
        engine, dataDir: target, sqlitePath: path.join(target, 'wharf.db'),
        openStore: async () => { const store = new FsBlobStore(target); await store.init(); return store; },
      });
      assert.equal(report.blobs, expected.length);
      for (const blob of expected) {
        const restored = blobFilePath(target, blob.digest);
        assert.notEqual(statSync(restored).ino, statSync(blobFilePath(dir, blob.digest)).ino, 'restored as copies');
        assert.ok(readFileSync(restored).equals(readFileSync(blobFilePath(server.dataDir, blob.digest))));
      }
      if (engine === 'sqlite') assert.equal(readFileSync(path.join(target, 'wharf.db')).length, manifest.metadata!.bytes);

      await assert.rejects(restoreBackup(dir, {
        engine, dataDir: target, sqlitePath: path.join(target, 'other.db'),
        openStore: async () => new FsBlobStore(target),
      }), (err: Error) => err instanceof BackupError && /the data directory .* is not empty .*restore into an empty data directory/.test(err.message));
      await assert.rejects(takeBackup(source, dir, () => Date.now()), /the backup directory .* is not empty/);
      await assert.rejects(restoreBackup(work, { engine, dataDir: path.join(work, 'x'), sqlitePath: path.join(work, 'x', 'wharf.db'), openStore: async () => new FsBlobStore(path.join(work, 'x')) }),
        /holds no backup\.json: it is not a Wharf backup, or the backup did not finish/);

      // A damaged list is caught before anything is written.
      writeFileSync(path.join(dir, 'blobs.txt'), `${readFileSync(path.join(dir, 'blobs.txt'), 'utf8')}sha256:${'0'.repeat(64)} 1\n`);
      await assert.rejects(restoreBackup(dir, { engine, dataDir: path.join(work, 'y'), sqlitePath: path.join(work, 'y', 'wharf.db'), openStore: async () => new FsBlobStore(path.join(work, 'y')) }),
        /blobs\.txt .* does not match the checksum in backup\.json: the backup is damaged/);
    });

    it('a blob the metadata references but the store lost fails the backup and says to take it again', async () => {
      const image = await pushImage(server.url, repoName('lost'), 'v1');
      unlinkSync(blobFilePath(server.dataDir, image.layers[0]!.digest));
      await assert.rejects(takeBackup(source, path.join(work, 'b2'), () => Date.now()),
        (err: Error) => err instanceof BackupError && err.message.includes(`blob ${image.layers[0]!.digest} was removed from the store while the backup ran`) && /take the backup again/.test(err.message));
    });
  });
}
