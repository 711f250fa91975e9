import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { RegistryError } from '../../src/oci/errors.js';
import { storageUsed, upsertQuota } from '../../src/metadata/quotas.js';
import { QuotaService } from '../../src/ops/quotas.js';
import { engines, startTestServer, TEST_ADMIN_PASSWORD, type TestServer } from '../support/server.js';
import { apiJson, basic, pushBlob } from '../support/iam.js';
import { randomBytes } from 'node:crypto';

/**
 * The storage quota's check on a new layer: the account's storage is counted once for a few
 * seconds of pushes, not per layer, and a layer is never refused on that count alone.
 */
for (const engine of engines()) {
  describe(`storage quota counting [${engine}]`, () => {
    let server: TestServer;
    let accountId: number;
    const admin = basic({ username: 'admin', password: TEST_ADMIN_PASSWORD });
    const digest = (n: number) => `sha256:${n.toString(16).padStart(64, 'e')}`;

    before(async () => {
      server = await startTestServer(engine, { auth: { enabled: true } });
      await apiJson(server.url, 'POST', '/namespaces', admin, { name: 'counted' });
      accountId = Number((await server.metadata.db.selectFrom('namespaces').select('account_id').where('name', '=', 'counted').executeTakeFirstOrThrow()).account_id);
    });
    after(async () => { await server.stop(); });

    it('counts the account once for many new layers, again after 10 s, and afresh before refusing', async () => {
      let now = 1_000_000;
      let counts = 0;
      const quotas = new QuotaService(server.metadata.db, () => now, (db, id) => { counts++; return storageUsed(db, id); });
      const base = await storageUsed(server.metadata.db, accountId);
      await upsertQuota(server.metadata.db, accountId, { storage_bytes: base + 1000, pull_bytes_per_month: null, public_pull_bytes_per_month: null });

      for (let i = 0; i < 5; i++) await quotas.beforeBlobStored('counted/app', digest(i), 100);
      assert.equal(counts, 1, 'five new layers, one count');
      now += 10_001;
      await quotas.beforeBlobStored('counted/app', digest(5), 100);
      assert.equal(counts, 2, 'a count older than 10 s is made again');

      // 100 admitted on this count: 950 more would pass the limit by it, but nothing was stored
      // (the layers were only checked), so the fresh count admits the layer.
      await quotas.beforeBlobStored('counted/app', digest(6), 950);
      assert.equal(counts, 3, 'counted afresh rather than refused on the estimate');
      await assert.rejects(quotas.beforeBlobStored('counted/app', digest(7), 1001), (err: RegistryError) => {
        assert.equal(err.code, 'DENIED');
        assert.deepEqual(err.detail, { quota: 'storage', used: base, limit: base + 1000, requested: 1001 }, 'refused on a fresh count');
        return true;
      });
      assert.equal(counts, 4);
    });

    it('admits a layer at once after space was freed, though the count said the account was full', async () => {
      let counts = 0;
      const quotas = new QuotaService(server.metadata.db, () => 5_000_000, (db, id) => { counts++; return storageUsed(db, id); });
      const layer = randomBytes(3000);
      await upsertQuota(server.metadata.db, accountId, { storage_bytes: null, pull_bytes_per_month: null, public_pull_bytes_per_month: null });
      const stored = await pushBlob(server.url, 'counted/freed', layer, admin);
      const base = await storageUsed(server.metadata.db, accountId);
      await upsertQuota(server.metadata.db, accountId, { storage_bytes: base + 100, pull_bytes_per_month: null, public_pull_bytes_per_month: null });
      await quotas.beforeBlobStored('counted/freed', digest(20), 50);
      assert.equal(counts, 1);
      // The layer leaves the account (its only link goes), as GC or a repository removal would do.
      await server.metadata.db.deleteFrom('repository_blobs').where('digest', '=', stored).execute();
      await quotas.beforeBlobStored('counted/freed', digest(21), 2000);
      assert.equal(counts, 2, 'the count said full; the fresh count found the room');
    });
  });
}
