import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { engines, startTestServer, type TestServer } from '../support/server.js';
import { apiJson, basic, send, setUpTenants, PASSWORDS, type Tenants } from '../support/iam.js';
import { tarOf } from '../support/scanner-layers.js';
import { recordStorageSnapshots } from '../../src/ops/storage-snapshots.js';

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');
const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

interface Stats {
  days: Array<{ day: string; pushes: number; pulls: number }>;
  namespaces: Array<{ name: string; storageBytes: number; history: Array<number | null> }>;
  vulnerabilities: Record<string, number>;
  scannedImages: number;
}

for (const engine of engines()) {
  describe(`GET /api/v1/stats: the console's pictures [${engine}]`, () => {
    let server: TestServer;
    let t: Tenants;
    const as = (username: keyof typeof PASSWORDS) => basic({ username, password: PASSWORDS[username] });
    const stats = (auth: string, days = 7) => apiJson<Stats>(server.url, 'GET', `/stats?days=${days}`, auth);
    const open = (s: Stats) => Object.values(s.vulnerabilities).reduce((a, b) => a + b, 0);

    before(async () => {
      server = await startTestServer(engine, { auth: { enabled: true }, scanner: { pollInterval: '50ms' } });
      t = await setUpTenants(server);
      await server.vulndb.import(path.join(fixtures, 'osv'));
      // An image with minimist 1.2.0: two npm advisories, one of them CVE-2021-44906.
      const admin = basic(t.admin);
      const layer = gzipSync(await tarOf([{ name: 'app/node_modules/minimist/package.json', content: readFileSync(path.join(fixtures, 'scanner', 'minimist-1.2.0.package.json')) }]));
      const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: { User: '1000' }, rootfs: { type: 'layers', diff_ids: [] }, n: randomBytes(4).toString('hex') }));
      for (const blob of [config, layer]) {
        const res = await send(server.url, { method: 'POST', path: `/v2/teama/scanned/blobs/uploads/?digest=${sha(blob)}`, headers: { 'Content-Type': 'application/octet-stream' }, body: blob }, admin);
        assert.equal(res.status, 201);
      }
      const manifest = Buffer.from(JSON.stringify({
        schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha(config), size: config.length },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha(layer), size: layer.length }],
      }));
      const put = await send(server.url, { method: 'PUT', path: '/v2/teama/scanned/manifests/v1', headers: { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' }, body: manifest }, admin);
      assert.equal(put.status, 201);
      await server.jobs.drain();
    });
    after(async () => { await server.stop(); });

    it('counts today\'s pushes and pulls per day, and storage per namespace as the quota does', async () => {
      const before = await stats(as('reader'));
      assert.equal(before.days.length, 7);
      const today = before.days.at(-1)!;
      assert.equal(today.day, new Date().toISOString().slice(0, 10));
      assert.ok(today.pushes >= 2, 'teama/app and teama/scanned were pushed today');
      for (let i = 0; i < 3; i++) {
        const res = await send(server.url, { method: 'GET', path: '/v2/teama/app/manifests/v1' }, as('reader'));
        assert.equal(res.status, 200);
        await res.arrayBuffer();
      }
      await server.pullStats.flush();
      const after = await stats(as('reader'));
      assert.equal(after.days.at(-1)!.pulls, today.pulls + 3);
      assert.deepEqual(after.namespaces.map((n) => n.name), ['teama']);
      const quota = await apiJson<{ storage: { used: number } }>(server.url, 'GET', '/quota', basic(t.admin));
      assert.equal(after.namespaces[0]!.storageBytes, quota.storage.used, 'one namespace holds all of the account\'s storage');
    });

    it('draws storage over time from the daily snapshots the maintenance task takes', async () => {
      const none = await stats(as('reader'));
      assert.ok(none.namespaces[0]!.history.every((h) => h === null), 'no snapshot yet');
      const now = Date.now();
      await recordStorageSnapshots(server.metadata.db, now - 2 * 24 * 3600 * 1000);
      await recordStorageSnapshots(server.metadata.db, now);
      const [teama] = (await stats(as('reader'))).namespaces;
      assert.equal(teama!.history.length, 7);
      assert.deepEqual(teama!.history.slice(-3), [teama!.storageBytes, null, teama!.storageBytes]);
      assert.ok(teama!.history.slice(0, 4).every((h) => h === null));
      assert.ok(teama!.storageBytes > 0);
      const other = await stats(as('bowner'));
      assert.ok(other.namespaces.every((n) => n.name === 'teamb'), 'snapshots stay with their account');
    });

    it('counts open vulnerabilities by severity, without exempted ones, as the image\'s report counts them', async () => {
      const report = () => apiJson<{ severityCounts: Record<string, number> }>(server.url, 'GET', `/images/${encodeURIComponent('teama/scanned:v1')}/report`, as('manager'));
      const first = await stats(as('manager'));
      assert.equal(open(first), 2);
      assert.ok(first.scannedImages >= 1);
      assert.deepEqual(first.vulnerabilities, (await report()).severityCounts);
      await apiJson(server.url, 'POST', '/exemptions', as('manager'), { issueId: 'CVE-2021-44906', scope: 'account', reason: 'trusted input' });
      const exempted = await stats(as('manager'));
      assert.equal(open(exempted), 1, 'the summary kept from the first request is not used once the exemptions change');
      assert.deepEqual(exempted.vulnerabilities, (await report()).severityCounts);
    });

    it('counts an image under each repository that holds it, with that repository\'s exemptions', async () => {
      const admin = basic(t.admin);
      const scannedBefore = (await stats(as('manager'))).scannedImages;
      const source = await send(server.url, { method: 'GET', path: '/v2/teama/scanned/manifests/v1', headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' } }, admin);
      const manifest = Buffer.from(await source.arrayBuffer());
      const { layers, config } = JSON.parse(manifest.toString()) as { config: { digest: string }; layers: Array<{ digest: string }> };
      for (const { digest } of [config, ...layers]) {
        const mount = await send(server.url, { method: 'POST', path: `/v2/teama/copy/blobs/uploads/?mount=${digest}&from=teama/scanned` }, admin);
        assert.equal(mount.status, 201);
      }
      const put = await send(server.url, { method: 'PUT', path: '/v2/teama/copy/manifests/v1', headers: { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' }, body: manifest }, admin);
      assert.equal(put.status, 201);
      const before = await stats(as('manager'));
      assert.equal(before.scannedImages, scannedBefore + 1, 'one report, two repositories');
      await apiJson(server.url, 'POST', '/exemptions', as('manager'), { issueId: 'GHSA-vh95-rmgr-6w4m', scope: 'repository', namespace: 'teama', repository: 'copy', reason: 'only in the copy' });
      const after = await stats(as('manager'));
      assert.equal(open(after), open(before) - 1, 'the repository exemption applies to the copy alone');
    });

    it('shows another tenant nothing of this one, and a Reader of single repositories no namespace totals', async () => {
      const other = await stats(as('bowner'));
      assert.deepEqual(other.namespaces.map((n) => n.name), ['teamb']);
      assert.equal(open(other), 0);
      assert.ok(other.days.every((d) => d.pulls === 0), 'teama\'s pulls are not teamb\'s');
      const narrow = await apiJson<{ id: number }>(server.url, 'POST', '/iam/users', basic(t.admin), { username: 'narrow', password: 'narrow-password-0123' });
      await apiJson(server.url, 'POST', '/iam/policies', basic(t.admin), { subject: `user:${narrow.id}`, role: 'Reader', namespace: 'teama', repository: 'app' });
      const narrowStats = await stats(basic({ username: 'narrow', password: 'narrow-password-0123' }));
      assert.deepEqual(narrowStats.namespaces, []);
      assert.equal(open(narrowStats), 0);
    });
  });
}
