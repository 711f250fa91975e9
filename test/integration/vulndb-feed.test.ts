import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, utimesSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createHash, randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import pino from 'pino';
import { engines, startTestServer, TEST_ADMIN_PASSWORD, type TestServer } from '../support/server.js';
import { apiJson, basic, send } from '../support/iam.js';
import { tarOf } from '../support/scanner-layers.js';
import { pushLayerImage } from '../support/layer-image.js';
import { OsvFeedServer, osvZip } from '../support/osv-feed.js';
import { FeedBusyError, FeedSync } from '../../src/scanner/feed/sync.js';
import { VulnDb } from '../../src/scanner/vulndb.js';
import { acquireLease, releaseLease } from '../../src/metadata/leases.js';

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');
const fixture = (...p: string[]) => readFileSync(path.join(fixtures, ...p));
const record = (id: string) => JSON.parse(fixture('osv', `${id}.json`).toString('utf8')) as Record<string, unknown>;
const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const enc = encodeURIComponent;

// Real OSV records (test/fixtures/osv, sources in its README). The "modified" and "withdrawn"
// versions below are those records with only `modified` (and `withdrawn`) changed, which is how
// OSV publishes an update or a withdrawal of the same ID.
const MINIMIST_A = 'GHSA-vh95-rmgr-6w4m';
const MINIMIST_B = 'GHSA-xvch-5gv4-984h';
const JINJA2 = 'GHSA-h5c8-rqwp-cp95';
const PYYAML = 'GHSA-8q59-q68h-6hv4';
const modified = (id: string, at: string, extra: Record<string, unknown> = {}) => ({ ...record(id), modified: at, ...extra });

interface Report { status: string; stale?: boolean; vulnerabilities: Array<{ advisoryId: string }>; scannedAt: string | null }

for (const engine of engines()) {
  describe(`Vulnerability data feed [${engine}]`, () => {
    let server: TestServer;
    let feedServer: OsvFeedServer;
    const admin = basic({ username: 'admin', password: TEST_ADMIN_PASSWORD });
    let npmImage = '';
    let pypiImage = '';

    const pushImage = (name: string, tag: string, layer: Buffer) => pushLayerImage(server.url, admin, name, tag, layer, { User: '1000' });

    const report = (ref: string) => apiJson<Report>(server.url, 'GET', `/images/${enc(ref)}/report`, admin);
    const advisoryIds = async (ref: string) => (await report(ref)).vulnerabilities.map((v) => v.advisoryId).sort();
    const scannedAt = async (digest: string) => Number((await server.metadata.db.selectFrom('scan_results').select('scanned_at').where('digest', '=', digest).executeTakeFirstOrThrow()).scanned_at);
    const advisoryModified = async (id: string) => (await server.metadata.db.selectFrom('advisories').select('modified').where('id', '=', id).executeTakeFirst())?.modified;
    const advisoryCount = async () => Number((await server.metadata.db.selectFrom('advisories').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
    const status = () => apiJson<{ advisories: number; stale: boolean; sources: Array<{ name: string; url: string; lastSync: string | null; ageSeconds: number | null; records: number; etag: string | null; lastError: string | null }> }>(server.url, 'GET', '/vulndb', admin);

    /** Syncs, then waits for the rescans it queued; says which of the two images were scanned again. */
    async function syncAndRescan() {
      const before = { npm: await scannedAt(npmImage), pypi: await scannedAt(pypiImage) };
      const result = await server.feed.sync();
      await server.jobs.drain();
      const rescanned = [];
      if (await scannedAt(npmImage) !== before.npm) rescanned.push('npm');
      if (await scannedAt(pypiImage) !== before.pypi) rescanned.push('pypi');
      return { result, rescanned };
    }

    before(async () => {
      feedServer = new OsvFeedServer();
      await feedServer.start();
      feedServer.publish('npm', await osvZip([record(MINIMIST_A), record(MINIMIST_B)]));
      feedServer.publish('PyPI', await osvZip([record(JINJA2)]));
      server = await startTestServer(engine, { auth: { enabled: true }, scanner: { pollInterval: '50ms', feedBase: feedServer.url } });
      await apiJson(server.url, 'POST', '/namespaces', admin, { name: 'feed' });
      // Two images with different packages: one npm (minimist 1.2.0), one Python (Jinja2 3.1.2).
      npmImage = await pushImage('feed/node', 'v1', gzipSync(await tarOf([{ name: 'app/node_modules/minimist/package.json', content: fixture('scanner', 'minimist-1.2.0.package.json') }])));
      pypiImage = await pushImage('feed/python', 'v1', gzipSync(await tarOf([{ name: 'usr/local/lib/python3.11/site-packages/Jinja2-3.1.2.dist-info/METADATA', content: fixture('scanner', 'jinja2-3.1.2.PKG-INFO') }])));
      await server.jobs.drain();
    });
    after(async () => {
      await server?.stop();
      await feedServer?.stop();
    });

    it('flags every status as stale while no advisory data is loaded', async () => {
      const { images } = await apiJson<{ images: Array<{ securityStatus: string; securityDataStale: boolean; securityNote?: string }> }>(server.url, 'GET', '/images?namespace=feed', admin);
      assert.equal(images.length, 2);
      for (const image of images) {
        assert.equal(image.securityStatus, 'No Issues');
        assert.equal(image.securityDataStale, true);
        assert.match(image.securityNote ?? '', /no vulnerability data has been loaded.*wharf vulndb sync/);
      }
      assert.equal((await report('feed/node:v1')).stale, true);
    });

    it('downloads the exports of the ecosystems the images contain, and rescans both images', async () => {
      assert.deepEqual(await server.feed.folders(), ['PyPI', 'npm']);
      const { result, rescanned } = await syncAndRescan();
      assert.deepEqual(result.sources.map((s) => [s.source, s.outcome, s.records, s.changed]), [['PyPI', 'updated', 1, 1], ['npm', 'updated', 2, 2]]);
      assert.equal(result.rescansQueued, 2);
      assert.deepEqual(rescanned, ['npm', 'pypi']);
      assert.deepEqual(await advisoryIds('feed/node:v1'), [MINIMIST_A, MINIMIST_B]);
      assert.deepEqual(await advisoryIds('feed/python:v1'), [JINJA2]);
      const s = await status();
      assert.equal(s.advisories, 3);
      assert.equal(s.stale, false);
      assert.deepEqual(s.sources.map((x) => [x.name, x.records, x.lastError]), [['PyPI', 1, null], ['npm', 2, null]]);
      assert.match(s.sources[1]!.etag ?? '', /^"[0-9a-f]{32}"$/);
      assert.ok(s.sources[1]!.ageSeconds !== null && s.sources[1]!.ageSeconds < 600);
      assert.equal(s.sources[1]!.url, `${feedServer.url}/npm/all.zip`);
      assert.equal((await report('feed/node:v1')).stale, false);
    });

    it('sends the remembered ETag: an unchanged export answers 304 and nothing is imported or rescanned', async () => {
      const imports = await server.metadata.db.selectFrom('vulndb_imports').select('id').execute();
      feedServer.requests.length = 0;
      const { result, rescanned } = await syncAndRescan();
      assert.deepEqual(result.sources.map((s) => [s.source, s.outcome, s.changed]), [['PyPI', 'unchanged', 0], ['npm', 'unchanged', 0]]);
      assert.deepEqual(feedServer.requests.map((r) => r.status), [304, 304]);
      for (const r of feedServer.requests) {
        assert.match(r.ifNoneMatch ?? '', /^"[0-9a-f]{32}"$/);
        assert.ok(r.ifModifiedSince, 'Last-Modified is sent back too');
      }
      assert.equal(result.importId, null);
      assert.deepEqual(rescanned, []);
      assert.equal((await server.metadata.db.selectFrom('vulndb_imports').select('id').execute()).length, imports.length);
    });

    it('a modified npm advisory rescans the npm image only', async () => {
      feedServer.publish('npm', await osvZip([record(MINIMIST_A), modified(MINIMIST_B, '2026-11-29T10:00:00Z')]));
      const { result, rescanned } = await syncAndRescan();
      assert.deepEqual(result.sources.map((s) => [s.source, s.outcome, s.changed]), [['PyPI', 'unchanged', 0], ['npm', 'updated', 1]]);
      assert.equal(result.rescansQueued, 1);
      assert.deepEqual(rescanned, ['npm']);
      assert.equal(await advisoryModified(MINIMIST_B), '2026-11-29T10:00:00Z');
    });

    it('an added advisory for a package no image has rescans nothing', async () => {
      feedServer.publish('PyPI', await osvZip([record(JINJA2), record(PYYAML)]));
      const { result, rescanned } = await syncAndRescan();
      assert.deepEqual(result.sources.map((s) => [s.source, s.outcome, s.changed]), [['PyPI', 'updated', 1], ['npm', 'unchanged', 0]]);
      assert.equal(result.rescansQueued, 0);
      assert.deepEqual(rescanned, []);
      assert.equal(await advisoryCount(), 4);
    });

    it('a withdrawn advisory is removed and the image it named is rescanned without it', async () => {
      feedServer.publish('PyPI', await osvZip([modified(JINJA2, '2026-11-29T11:00:00Z', { withdrawn: '2026-11-29T11:00:00Z' }), record(PYYAML)]));
      const { result, rescanned } = await syncAndRescan();
      assert.deepEqual(result.sources.map((s) => [s.source, s.outcome, s.changed, s.withdrawn]), [['PyPI', 'updated', 1, 1], ['npm', 'unchanged', 0, 0]]);
      assert.deepEqual(rescanned, ['pypi']);
      assert.equal(await advisoryModified(JINJA2), undefined);
      assert.deepEqual(await advisoryIds('feed/python:v1'), []);
      assert.equal(await advisoryCount(), 3);
    });

    it('a failing download keeps the previous data and says what went wrong', async () => {
      feedServer.fail('npm', 500);
      try {
        const { result, rescanned } = await syncAndRescan();
        const npm = result.sources.find((s) => s.source === 'npm')!;
        assert.equal(npm.outcome, 'failed');
        assert.match(npm.error ?? '', /npm\/all\.zip answered HTTP 500.*the previous data is kept/);
        assert.deepEqual(rescanned, []);
        assert.deepEqual(await advisoryIds('feed/node:v1'), [MINIMIST_A, MINIMIST_B]);
        const s = await status();
        assert.match(s.sources.find((x) => x.name === 'npm')!.lastError ?? '', /HTTP 500/);
        assert.equal(s.sources.find((x) => x.name === 'PyPI')!.lastError, null);
      } finally {
        feedServer.fail('npm', undefined);
      }
      // The next sync with the mirror back clears the error (the export itself is unchanged: 304).
      const { result } = await syncAndRescan();
      assert.equal(result.sources.find((s) => s.source === 'npm')!.outcome, 'unchanged');
      assert.equal((await status()).sources.find((x) => x.name === 'npm')!.lastError, null);
    });

    it('a truncated zip changes nothing and says the archive is unreadable', async () => {
      const whole = await osvZip([modified(MINIMIST_A, '2026-11-30T00:00:00Z'), record(MINIMIST_B)]);
      feedServer.publish('npm', whole.subarray(0, Math.floor(whole.length * 0.6)));
      const { result, rescanned } = await syncAndRescan();
      const npm = result.sources.find((s) => s.source === 'npm')!;
      assert.equal(npm.outcome, 'failed');
      assert.match(npm.error ?? '', /not a readable zip archive.*the previous data is kept/);
      assert.deepEqual(rescanned, []);
      assert.equal(await advisoryModified(MINIMIST_A), record(MINIMIST_A).modified);
    });

    it('a zip with a damaged entry after a good one imports neither (one transaction per export)', async () => {
      // Stored (uncompressed) entries, so the damage is in the record's bytes and only the CRC tells.
      const whole = await osvZip([modified(MINIMIST_A, '2026-11-30T00:00:00Z'), modified(MINIMIST_B, '2026-11-30T00:00:00Z')], { compress: false });
      const second = whole.indexOf(Buffer.from(`"id": "${MINIMIST_B}"`));
      assert.ok(second > 0);
      const damaged = Buffer.from(whole);
      damaged[second + 20] = damaged[second + 20] === 0x41 ? 0x42 : 0x41;
      feedServer.publish('npm', damaged);
      const { result } = await syncAndRescan();
      const npm = result.sources.find((s) => s.source === 'npm')!;
      assert.equal(npm.outcome, 'failed');
      assert.match(npm.error ?? '', /damaged.*CRC-32/);
      assert.equal(await advisoryModified(MINIMIST_A), record(MINIMIST_A).modified, 'the good first entry was rolled back');
      assert.equal(await advisoryModified(MINIMIST_B), '2026-11-29T10:00:00Z');
      // The mirror back at the export last imported: its ETag is still the one remembered (a failed
      // sync does not replace it), so it is not downloaded again.
      feedServer.publish('npm', await osvZip([record(MINIMIST_A), modified(MINIMIST_B, '2026-11-29T10:00:00Z')]));
      const back = await syncAndRescan();
      assert.equal(back.result.sources.find((s) => s.source === 'npm')!.outcome, 'unchanged');
      // A new export with the same records (another order: another ETag) is read and changes nothing.
      feedServer.publish('npm', await osvZip([modified(MINIMIST_B, '2026-11-29T10:00:00Z'), record(MINIMIST_A)]));
      const again = await syncAndRescan();
      assert.deepEqual(again.result.sources.map((s) => [s.source, s.outcome, s.changed]), [['PyPI', 'unchanged', 0], ['npm', 'updated', 0]]);
      assert.deepEqual(again.rescanned, []);
      assert.equal(again.result.importId, null, 'an idempotent re-import records no new import');
    });

    it('one sync at a time across replicas: a held lease refuses a second', async () => {
      assert.ok(await acquireLease(server.metadata.db, 'vulndb-sync', 'another-replica', Date.now(), 60_000));
      try {
        await assert.rejects(server.feed.sync(), FeedBusyError);
      } finally {
        await releaseLease(server.metadata.db, 'vulndb-sync', 'another-replica');
      }
    });

    it('an air-gapped mirror directory (path or file:// URL) works the same, unchanged files skipped', async () => {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'wharf-osv-mirror-'));
      try {
        mkdirSync(path.join(dir, 'npm'));
        mkdirSync(path.join(dir, 'PyPI'));
        writeFileSync(path.join(dir, 'npm', 'all.zip'), await osvZip([record(MINIMIST_A), modified(MINIMIST_B, '2026-11-29T10:00:00Z')]));
        writeFileSync(path.join(dir, 'PyPI', 'all.zip'), await osvZip([record(JINJA2), record(PYYAML)]));
        const log = pino({ level: 'silent' });
        const feedFrom = (base: string) => new FeedSync(server.metadata.db, server.vulndb, (touched) => server.scanner.rescanTouched(touched), log, Date.now, { feedBase: base, ecosystems: [] });
        const first = await feedFrom(dir).sync();
        // The rescan it queued runs first: the next sync reads which ecosystems the images hold.
        await server.jobs.drain();
        // The npm export holds what is loaded (idempotent); PyPI brings back the advisory withdrawn above.
        assert.deepEqual(first.sources.map((s) => [s.source, s.outcome, s.changed]), [['PyPI', 'updated', 1], ['npm', 'updated', 0]]);
        assert.equal(first.rescansQueued, 1);
        const second = await feedFrom(pathToFileURL(dir).href).sync();
        await server.jobs.drain();
        assert.deepEqual(second.sources.map((s) => s.outcome), ['unchanged', 'unchanged']);
        // A new file (new size and time) is read again.
        writeFileSync(path.join(dir, 'npm', 'all.zip'), await osvZip([record(MINIMIST_A), record(MINIMIST_B)]));
        utimesSync(path.join(dir, 'npm', 'all.zip'), new Date(), new Date(Date.now() + 5000));
        const third = await feedFrom(dir).sync();
        assert.deepEqual(third.sources.map((s) => [s.source, s.outcome, s.changed]), [['PyPI', 'unchanged', 0], ['npm', 'updated', 1]]);
        const missing = await new FeedSync(server.metadata.db, server.vulndb, async () => [], log, Date.now, { feedBase: path.join(dir, 'nowhere'), ecosystems: ['Debian:12'] }).sync();
        assert.equal(missing.sources[0]!.source, 'Debian');
        assert.match(missing.sources[0]!.error ?? '', /Debian\/all\.zip does not exist.*<ecosystem>\/all\.zip/);
      } finally {
        rmSync(dir, { recursive: true, force: true });
        await server.jobs.drain();
      }
    });

    it('data not updated within scanner.staleAfter is stale', async () => {
      const later = new VulnDb(server.metadata.db, () => Date.now() + 8 * 86_400_000, 7 * 86_400_000);
      const freshness = await later.freshness();
      assert.equal(freshness.stale, true);
      assert.match(freshness.note ?? '', /last updated .* longer ago than 168 h/);
      assert.equal((await new VulnDb(server.metadata.db, Date.now, 7 * 86_400_000).freshness()).stale, false);
    });

    it('an image scanned before packages were indexed counts as touched by any change, and is indexed by its rescan', async () => {
      await server.metadata.db.updateTable('scan_results').set({ packages_indexed: 0 }).where('digest', '=', pypiImage).execute();
      await server.metadata.db.deleteFrom('scan_packages').where('digest', '=', pypiImage).execute();
      feedServer.publish('npm', await osvZip([modified(MINIMIST_A, '2026-12-01T00:00:00Z'), record(MINIMIST_B)]));
      const npmOnly = new FeedSync(server.metadata.db, server.vulndb, (touched) => server.scanner.rescanTouched(touched), pino({ level: 'silent' }), Date.now, { feedBase: feedServer.url, ecosystems: ['npm'] });
      const before = { npm: await scannedAt(npmImage), pypi: await scannedAt(pypiImage) };
      const result = await npmOnly.sync();
      await server.jobs.drain();
      assert.deepEqual(result.sources.map((s) => [s.source, s.changed]), [['npm', 1]]);
      assert.equal(result.rescansQueued, 2);
      assert.notEqual(await scannedAt(npmImage), before.npm);
      assert.notEqual(await scannedAt(pypiImage), before.pypi);
      const row = await server.metadata.db.selectFrom('scan_results').select('packages_indexed').where('digest', '=', pypiImage).executeTakeFirstOrThrow();
      assert.equal(row.packages_indexed, 1);
      const names = await server.metadata.db.selectFrom('scan_packages').select(['ecosystem', 'name']).where('digest', '=', pypiImage).execute();
      assert.deepEqual(names, [{ ecosystem: 'PyPI', name: 'jinja2' }]);
    });
  });
}

for (const engine of engines()) {
  describe(`Scheduled vulnerability data sync [${engine}]`, () => {
    let server: TestServer;
    let feedServer: OsvFeedServer;
    const admin = basic({ username: 'admin', password: TEST_ADMIN_PASSWORD });

    before(async () => {
      feedServer = new OsvFeedServer();
      await feedServer.start();
      feedServer.publish('npm', await osvZip([record(MINIMIST_A), record(MINIMIST_B)]));
      // A one-second schedule so the test sees the server's own sync; the default is daily.
      server = await startTestServer(engine, { auth: { enabled: true }, scanner: { pollInterval: '50ms', feedBase: feedServer.url, syncInterval: '1s' } });
      await apiJson(server.url, 'POST', '/namespaces', admin, { name: 'auto' });
    });
    after(async () => {
      await server?.stop();
      await feedServer?.stop();
    });

    it('a fresh registry fetches the advisories of its first image\'s ecosystem by itself and rescans it', async () => {
      const layer = gzipSync(await tarOf([{ name: 'app/node_modules/minimist/package.json', content: fixture('scanner', 'minimist-1.2.0.package.json') }]));
      const configBytes = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [] } }));
      for (const blob of [configBytes, layer]) {
        const res = await send(server.url, { method: 'POST', path: `/v2/auto/app/blobs/uploads/?digest=${sha(blob)}`, headers: { 'Content-Type': 'application/octet-stream' }, body: blob }, admin);
        assert.equal(res.status, 201);
      }
      const manifest = Buffer.from(JSON.stringify({
        schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha(configBytes), size: configBytes.length },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha(layer), size: layer.length }],
      }));
      const res = await send(server.url, { method: 'PUT', path: '/v2/auto/app/manifests/v1', headers: { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' }, body: manifest }, admin);
      assert.equal(res.status, 201);
      // Nothing here calls sync: the server's schedule does, once the scan has named the ecosystem.
      const deadline = Date.now() + 120_000;
      let ids: string[] = [];
      while (Date.now() < deadline) {
        await server.jobs.drain();
        ids = (await apiJson<Report>(server.url, 'GET', `/images/${enc('auto/app:v1')}/report`, admin)).vulnerabilities.map((v) => v.advisoryId).sort();
        if (ids.length === 2) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      assert.deepEqual(ids, [MINIMIST_A, MINIMIST_B]);
      const requests = feedServer.requestsFor('npm').length;
      assert.ok(requests >= 1);
      const status = await apiJson<{ sources: Array<{ name: string; lastError: string | null }> }>(server.url, 'GET', '/vulndb', admin);
      assert.deepEqual(status.sources.map((s) => [s.name, s.lastError]), [['npm', null]]);
    });
  });
}
