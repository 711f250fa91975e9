import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { engines, startTestServer, TEST_ADMIN_PASSWORD, type TestServer } from '../support/server.js';
import { descriptor, digestOf, expectError, OCI_CONFIG, OCI_LAYER, OCI_MANIFEST, pushBlob, putManifest, randomBlob, repoName } from '../support/http.js';
import { api, basic, pushImage as pushImageAs } from '../support/iam.js';
import { GcBusyError, type GcReport } from '../../src/registry/garbage-collector.js';
import { acquireLease, releaseLease } from '../../src/metadata/leases.js';
import { assertConsistent, fsckServer } from '../support/fsck.js';
import { assertNothingLost, expireTrash, type KeptImage } from '../support/gc-race.js';

/** A file in the blob store's layout (blobs/<alg>/<2 hex>/<hex>). */
function blobFile(server: TestServer, digest: string): string {
  const [algorithm, hex] = digest.split(':') as [string, string];
  return path.join(server.dataDir, 'blobs', algorithm, hex.slice(0, 2), hex);
}

/** Pushes a manifest of one config and the given layers (pushed first unless already in the repository). */
async function pushImage(base: string, name: string, layers: Buffer[], tag?: string) {
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, nonce: randomBytes(8).toString('hex') }));
  await pushBlob(base, name, config);
  for (const layer of layers) await pushBlob(base, name, layer);
  const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: descriptor(OCI_CONFIG, config), layers: layers.map((l) => descriptor(OCI_LAYER, l)) }));
  const digest = digestOf(manifest);
  const res = await putManifest(base, name, tag ?? digest, manifest);
  assert.equal(res.status, 201, await res.text());
  return { digest, config: digestOf(config), configSize: config.length, layers: layers.map((l) => digestOf(l)) };
}


async function deleteImage(base: string, name: string, digest: string): Promise<void> {
  const res = await fetch(`${base}/v2/${name}/manifests/${digest}`, { method: 'DELETE' });
  assert.equal(res.status, 202, await res.text());
}

async function blobStatus(base: string, name: string, digest: string): Promise<number> {
  const res = await fetch(`${base}/v2/${name}/blobs/${digest}`);
  await res.arrayBuffer();
  return res.status;
}

/** Pushes images sharing one layer into three repositories, trashing and expiring every other one, while collections run back to back. */
async function raceCollectorAgainstPushes(server: TestServer, engine: string): Promise<void> {
  const shared = randomBlob(6000);
  const sharedDigest = digestOf(shared);
  const names = [repoName('race'), repoName('race'), repoName('race')];
  const kept: KeptImage[] = [];
  let stop = false;
  let runs = 0;
  let freed = 0;
  const collector = (async () => {
    while (!stop) {
      try {
        const report: GcReport = await server.gc.run();
        runs++;
        freed += report.blobsRemoved + report.linksRemoved;
      } catch (err) {
        if (!(err instanceof GcBusyError)) throw err;
      }
      // A little air between runs, so pushes get the database's single connection on SQLite too.
      await new Promise((r) => setTimeout(r, Math.random() * 10));
    }
  })();
  let refused = 0;
  const push = async (name: string, i: number) => {
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', i, nonce: randomBytes(6).toString('hex') }));
    const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: descriptor(OCI_CONFIG, config), layers: [descriptor(OCI_LAYER, shared)] }));
    for (let attempt = 0; ; attempt++) {
      assert.ok(attempt < 50, 'a push succeeds within 50 attempts');
      // As docker and skopeo do: upload only what the registry does not have.
      for (const [digest, bytes] of [[sharedDigest, shared], [digestOf(config), config]] as const) {
        const head = await fetch(`${server.url}/v2/${name}/blobs/${digest}`, { method: 'HEAD' });
        if (head.status !== 200) await pushBlob(server.url, name, bytes);
      }
      const res = await putManifest(server.url, name, digestOf(manifest), manifest);
      if (res.status === 201) break;
      await expectError(res, res.status, 'MANIFEST_BLOB_UNKNOWN');
      refused++;
    }
    return { digest: digestOf(manifest), blobs: [sharedDigest, digestOf(config)] };
  };
  try {
    for (let i = 0; i < 40; i++) {
      await Promise.all(names.map(async (name, n) => {
        const image = await push(name, i);
        // Every other image goes straight through the trash, so its blobs turn into garbage
        // while the next push links the same shared layer again.
        if ((i + n) % 2 === 0) {
          await deleteImage(server.url, name, image.digest);
        } else {
          kept.push({ name, ...image });
        }
      }));
      await expireTrash(server);
    }
  } finally {
    stop = true;
    await collector;
  }
  assert.ok(runs > 0, 'collections ran');
  assert.ok(freed > 0, 'and removed garbage meanwhile, so the race was real');
  await assertNothingLost(server, kept, 'collections raced against pushes');
  console.log(`# ${engine}: ${runs} collections, ${refused} manifest PUTs refused and retried, ${kept.length} images kept`);
}

for (const engine of engines()) {
  describe(`garbage collection [${engine}]`, () => {
    let server: TestServer;
    let graceful: TestServer;
    before(async () => {
      [server, graceful] = await Promise.all([
        startTestServer(engine, { storage: { gcGracePeriod: 0, gcInterval: 0 } }),
        startTestServer(engine, { storage: { gcInterval: 0 } }),
      ]);
    });
    after(async () => { await Promise.all([server.stop(), graceful.stop()]); });

    it('keeps a trashed image restorable, frees its own blobs once it leaves the trash, and keeps a layer another image shares', async () => {
      const shared = randomBlob(4000);
      const own = randomBlob(3000);
      const a = repoName('gc');
      const b = repoName('gc');
      const imageA = await pushImage(server.url, a, [shared, own], 'v1');
      const imageB = await pushImage(server.url, b, [shared], 'v1');
      await deleteImage(server.url, a, imageA.digest);

      let report = await server.gc.run();
      assert.ok(existsSync(blobFile(server, imageA.layers[1]!)), 'the trashed image keeps its layer');
      assert.equal(await blobStatus(server.url, a, imageA.layers[1]!), 200, 'and its link, for a restore');
      assert.equal(await blobStatus(server.url, a, imageA.config), 200);

      await expireTrash(server);
      report = await server.gc.run();
      assert.ok(report.blobsRemoved >= 2, `A's config and own layer go: ${JSON.stringify(report)}`);
      assert.ok(report.bytesFreed >= imageA.configSize + own.length);
      assert.ok(!existsSync(blobFile(server, imageA.layers[1]!)), 'the own layer\'s file is gone');
      assert.ok(!existsSync(blobFile(server, imageA.config)), 'the config\'s file is gone');
      assert.equal(await blobStatus(server.url, a, imageA.layers[1]!), 404);
      assert.ok(existsSync(blobFile(server, imageB.layers[0]!)), 'the shared layer stays');
      assert.equal(await blobStatus(server.url, b, imageB.layers[0]!), 200);
      assert.equal(await blobStatus(server.url, a, imageB.layers[0]!), 404, 'but not in the repository that no longer uses it');
      const pulled = await fetch(`${server.url}/v2/${b}/blobs/${imageB.layers[0]}`);
      assert.equal(createHash('sha256').update(Buffer.from(await pulled.arrayBuffer())).digest('hex'), imageB.layers[0]!.slice(7));
    });

    it('a dry run reports what a run then removes, and removes nothing itself', async () => {
      const name = repoName('gc');
      const image = await pushImage(server.url, name, [randomBlob(2500)]);
      await deleteImage(server.url, name, image.digest);
      await expireTrash(server);
      const dry = await server.gc.run({ dryRun: true });
      assert.equal(dry.dryRun, true);
      // The links went when the image left the trash; the blobs wait for a collection.
      assert.ok(dry.blobsRemoved >= 2, JSON.stringify(dry));
      assert.ok(existsSync(blobFile(server, image.layers[0]!)), 'nothing removed by the dry run');
      const real = await server.gc.run();
      assert.equal(real.blobsRemoved, dry.blobsRemoved);
      assert.equal(real.bytesFreed, dry.bytesFreed);
      assert.equal(real.linksRemoved, dry.linksRemoved);
      assert.ok(!existsSync(blobFile(server, image.layers[0]!)));
      const again = await server.gc.run();
      assert.deepEqual([again.blobsRemoved, again.linksRemoved, again.orphansRemoved], [0, 0, 0], 'a second run finds nothing');
    });

    it('leaves blobs and files younger than the grace period alone', async () => {
      const name = repoName('gc');
      const image = await pushImage(graceful.url, name, [randomBlob(1500)]);
      await deleteImage(graceful.url, name, image.digest);
      await expireTrash(graceful);
      const stray = await pushBlob(graceful.url, name, randomBlob(700));
      const report = await graceful.gc.run();
      assert.deepEqual([report.blobsRemoved, report.linksRemoved], [0, 0], JSON.stringify(report));
      assert.equal(await blobStatus(graceful.url, name, image.layers[0]!), 200);
      assert.equal(await blobStatus(graceful.url, name, stray), 200, 'a blob pushed before its manifest is not garbage yet');
    });

    it('removes a stored file that no row knows once it is older than the grace period', async () => {
      const oldBytes = randomBlob(900);
      const youngBytes = randomBlob(800);
      const oldDigest = digestOf(oldBytes);
      const youngDigest = digestOf(youngBytes);
      for (const [digest, bytes] of [[oldDigest, oldBytes], [youngDigest, youngBytes]] as const) {
        mkdirSync(path.dirname(blobFile(graceful, digest)), { recursive: true });
        writeFileSync(blobFile(graceful, digest), bytes);
      }
      const twoHoursAgo = new Date(Date.now() - 2 * 3600_000);
      utimesSync(blobFile(graceful, oldDigest), twoHoursAgo, twoHoursAgo);
      const report = await graceful.gc.run();
      assert.equal(report.orphansRemoved, 1, JSON.stringify(report));
      assert.equal(report.orphanBytesFreed, oldBytes.length);
      assert.ok(!existsSync(blobFile(graceful, oldDigest)));
      assert.ok(existsSync(blobFile(graceful, youngDigest)), 'a young file may be a commit in progress');
    });

    it('runs one collection at a time: a live lease held elsewhere refuses a second', async () => {
      assert.ok(await acquireLease(server.metadata.db, 'garbage-collection', 'another-replica', Date.now(), 60_000));
      try {
        await assert.rejects(server.gc.run(), GcBusyError);
      } finally {
        await releaseLease(server.metadata.db, 'garbage-collection', 'another-replica');
      }
      // An expired lease is taken over.
      assert.ok(await acquireLease(server.metadata.db, 'garbage-collection', 'crashed-replica', Date.now() - 120_000, 60_000));
      const report = await server.gc.run();
      assert.equal(typeof report.id, 'number');
    });

    it('never loses a blob of an acknowledged push while collections run against pushes of the same blobs', async () => {
      // No grace on PostgreSQL, so the collector removes links a push has just checked (without the
      // blob locks this test loses blobs there). SQLite runs one transaction at a time, so races are
      // impossible by construction; there a half-second grace keeps back-to-back collections on the
      // only connection from starving a push between its blob uploads and its manifest.
      const server = await startTestServer(engine, { storage: { gcGracePeriod: engine === 'postgres' ? 0 : 0.5, gcInterval: 0 } });
      try {
        await raceCollectorAgainstPushes(server, engine);
      } finally {
        await server.stop();
      }
    });

    it('storage quota usage goes down when a deleted image is removed from the trash, the bytes when the collector runs; POST /api/v1/gc is the operator\'s', async () => {
      const authed = await startTestServer(engine, { auth: { enabled: true }, storage: { gcGracePeriod: 0, gcInterval: 0 } });
      try {
        const admin = basic({ username: 'admin', password: TEST_ADMIN_PASSWORD });
        const image = await pushImageAs(authed.url, 'gcquota/app', 'v1', admin);
        const used = async () => ((await (await api(authed.url, 'GET', '/quota', admin)).json()) as { storage: { used: number } }).storage.used;
        const before = await used();
        assert.ok(before > 0);
        const del = await fetch(`${authed.url}/v2/gcquota/app/manifests/${image.digest}`, { method: 'DELETE', headers: { Authorization: admin } });
        assert.equal(del.status, 202);
        assert.equal(await used(), before, 'a trashed image still counts (it can be restored)');
        await authed.gc.run();
        const restored = await api(authed.url, 'POST', '/trash/restore', admin, { image: `gcquota/app@${image.digest}` });
        assert.equal(restored.status, 200, await restored.clone().text());
        const pulled = await fetch(`${authed.url}/v2/gcquota/app/manifests/v1`, { headers: { Authorization: admin } });
        assert.equal(pulled.status, 200, 'restored after a collection ran');
        const again = await fetch(`${authed.url}/v2/gcquota/app/manifests/${image.digest}`, { method: 'DELETE', headers: { Authorization: admin } });
        assert.equal(again.status, 202);
        const removed = await api(authed.url, 'POST', '/trash/remove', admin, { image: `gcquota/app@${image.digest}` });
        assert.equal(removed.status, 200, await removed.clone().text());
        assert.equal(await used(), 0, 'removing it from the trash gives the space back to the account at once');
        const res = await api(authed.url, 'POST', '/gc', admin);
        assert.equal(res.status, 200, await res.clone().text());
        const report = await res.json() as GcReport;
        assert.ok(report.bytesFreed >= before, JSON.stringify(report));
        assert.ok(!existsSync(blobFile(authed, image.layer)), 'and the collection frees the bytes');

        const created = await api(authed.url, 'POST', '/accounts', admin, { name: 'gcother', owner: { username: 'gcowner', password: 'a-long-password-123' } });
        assert.equal(created.status, 201, await created.text());
        const other = await api(authed.url, 'POST', '/gc', basic({ username: 'gcowner', password: 'a-long-password-123' }));
        assert.equal(other.status, 403, 'an account owner is not the registry operator');
        const history = await api(authed.url, 'GET', '/gc', admin);
        assert.equal(history.status, 200);
        assert.ok(((await history.json()) as Array<{ bytesFreed: number }>).some((r) => r.bytesFreed === report.bytesFreed));
      } finally {
        await authed.stop();
      }
    });

    it('leaves consistent registries behind: fsck finds no errors after every collection above', async () => {
      assertConsistent(await fsckServer(server), 'the collections of this suite');
      assertConsistent(await fsckServer(graceful), 'the collections of this suite with a grace period');
    });
  });
}
