import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { engines, startTestServer, type TestServer } from '../support/server.js';
import { descriptor, digestOf, expectError, OCI_CONFIG, OCI_LAYER, OCI_MANIFEST, pushBlob, putManifest, randomBlob, repoName } from '../support/http.js';
import { GcBusyError, type GcReport } from '../../src/registry/garbage-collector.js';
import { assertNothingLost, expireTrash, type KeptImage } from '../support/gc-race.js';


/**
 * Pushes images of many layers drawn from one small pool into three repositories, trashing and
 * expiring every other image, while collections run back to back: each sweep batch then holds
 * garbage blobs next to blobs a push is linking or referencing right now.
 */
async function raceBatchedSweepsAgainstPushes(server: TestServer, engine: string): Promise<void> {
  const pool = Array.from({ length: 20 }, () => randomBlob(300 + Math.floor(Math.random() * 300)));
  const names = [repoName('batch'), repoName('batch'), repoName('batch')];
  const kept: KeptImage[] = [];
  let stop = false;
  let runs = 0;
  let widestRun = 0;
  let freed = 0;
  const collector = (async () => {
    while (!stop) {
      try {
        const report: GcReport = await server.gc.run();
        runs++;
        freed += report.blobsRemoved;
        widestRun = Math.max(widestRun, report.blobsRemoved);
      } catch (err) {
        if (!(err instanceof GcBusyError)) throw err;
      }
      // A little air between runs, so pushes get the database's single connection on SQLite too.
      await new Promise((r) => setTimeout(r, Math.random() * 10));
    }
  })();
  let refused = 0;
  const push = async (name: string, i: number) => {
    const layers = [...pool].sort(() => Math.random() - 0.5).slice(0, 6);
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', i, nonce: randomBytes(6).toString('hex') }));
    const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: descriptor(OCI_CONFIG, config), layers: layers.map((l) => descriptor(OCI_LAYER, l)) }));
    for (let attempt = 0; ; attempt++) {
      assert.ok(attempt < 50, 'a push succeeds within 50 attempts');
      // As docker and skopeo do: upload only what the registry does not have.
      for (const bytes of [...layers, config]) {
        const head = await fetch(`${server.url}/v2/${name}/blobs/${digestOf(bytes)}`, { method: 'HEAD' });
        if (head.status !== 200) await pushBlob(server.url, name, bytes);
      }
      const res = await putManifest(server.url, name, digestOf(manifest), manifest);
      if (res.status === 201) break;
      await expectError(res, res.status, 'MANIFEST_BLOB_UNKNOWN');
      refused++;
    }
    return { digest: digestOf(manifest), blobs: [...layers, config].map((b) => digestOf(b)) };
  };
  try {
    for (let i = 0; i < 30; i++) {
      await Promise.all(names.map(async (name, n) => {
        const image = await push(name, i);
        if ((i + n) % 2 === 0) {
          const res = await fetch(`${server.url}/v2/${name}/manifests/${image.digest}`, { method: 'DELETE' });
          assert.equal(res.status, 202, await res.text());
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
  assert.ok(widestRun > 1, `a run removed several blobs (at most ${widestRun}), so sweeps were batched against the pushes`);
  await assertNothingLost(server, kept, 'batched collections raced against pushes');
  console.log(`# ${engine}: ${runs} collections (widest ${widestRun} blobs), ${refused} manifest PUTs refused and retried, ${kept.length} images kept`);
}

for (const engine of engines()) {
  describe(`garbage collection in batches [${engine}]`, () => {
    it('locks only the digests nobody holds, without waiting, and removes bytes while the locks are held', async () => {
      const server = await startTestServer(engine, { storage: { gcGracePeriod: 0, gcInterval: 0 } });
      try {
        const { locks } = server.registry.ctx;
        const db = server.metadata.db;
        const [held, free1, free2] = [randomBlob(10), randomBlob(11), randomBlob(12)].map((b) => digestOf(b));
        // A push between its file's rename and its rows holds `held` (shared).
        let finishPush!: () => void;
        let pushHolds!: () => void;
        const holding = new Promise<void>((resolve) => { pushHolds = resolve; });
        const push = locks.storing(db, held!, async () => {
          pushHolds();
          await new Promise<void>((resolve) => { finishPush = resolve; });
        }, async () => undefined);
        await holding;
        const calls: string[][] = [];
        let heldDuringRelease: string[] = ['unset'];
        const { busy } = await locks.removingMany(db, [held!, free1!, free2!, free1!], {
          decide: async (_trx, digests) => { calls.push(digests); return digests; },
          release: async (doomed) => {
            // Another removal in the meantime finds them locked: the bytes go under the locks.
            const again = await locks.removingMany(db, doomed, { decide: async () => [], release: async () => [], forget: async () => {} });
            heldDuringRelease = again.busy;
            return doomed;
          },
          forget: async () => {},
        });
        assert.deepEqual(busy, [held], 'the digest a push holds comes back busy, at once');
        assert.deepEqual(calls, [[free1, free2]], 'the others are decided together, each once');
        assert.deepEqual([...heldDuringRelease].sort(), [free1, free2].sort(), 'still locked while their bytes go');
        finishPush();
        await push;
        const after = await locks.removingMany(db, [held!], { decide: async () => [], release: async () => [], forget: async () => {} });
        assert.deepEqual(after.busy, [], 'free once the push committed');
      } finally {
        await server.stop();
      }
    });

    it('never loses a blob of an acknowledged push while batched sweeps race pushes of the same blobs', async () => {
      // A short grace: blobs a push uploaded a moment ago are left alone (with none, and six layers
      // an image, back-to-back batched runs take one of them before nearly every manifest PUT), while
      // layers linked in earlier rounds are old, so sweeps still take links and blobs a push has just
      // found with HEAD and is about to reference. SQLite keeps gc.test.ts's half second.
      const server = await startTestServer(engine, { storage: { gcGracePeriod: engine === 'postgres' ? 0.25 : 0.5, gcInterval: 0 } });
      try {
        await raceBatchedSweepsAgainstPushes(server, engine);
      } finally {
        await server.stop();
      }
    });
  });
}
