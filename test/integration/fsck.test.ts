import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { engines, startTestServer, type TestServer } from '../support/server.js';
import { descriptor, digestOf, OCI_CONFIG, OCI_INDEX, OCI_LAYER, OCI_MANIFEST, pushBlob, putManifest, randomBlob, repoName } from '../support/http.js';
import { fsckServer } from '../support/fsck.js';
import type { FsckCheck, FsckProblem, FsckReport } from '../../src/registry/fsck.js';

/**
 * `wharf fsck` against real damage: bytes flipped and files deleted in the blob store, rows deleted
 * and counters corrupted with SQL. Each problem is found where it is, a clean registry passes, and
 * --repair fixes the image sizes.
 */

function blobFile(server: TestServer, digest: string): string {
  const [algorithm, hex] = digest.split(':') as [string, string];
  return path.join(server.dataDir, 'blobs', algorithm, hex.slice(0, 2), hex);
}

interface Image { name: string; digest: string; config: string; layer: string; size: number; manifestSize: number }

async function pushImage(base: string, name: string, tag?: string): Promise<Image> {
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, nonce: randomBytes(8).toString('hex') }));
  const layer = randomBlob(1500 + Math.floor(Math.random() * 500));
  await pushBlob(base, name, config);
  await pushBlob(base, name, layer);
  const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: descriptor(OCI_CONFIG, config), layers: [descriptor(OCI_LAYER, layer)] }));
  const digest = digestOf(manifest);
  const res = await putManifest(base, name, tag ?? digest, manifest);
  assert.equal(res.status, 201, await res.text());
  return { name, digest, config: digestOf(config), layer: digestOf(layer), size: config.length + layer.length, manifestSize: manifest.length };
}

async function pushIndex(base: string, name: string, children: Image[], tag: string): Promise<string> {
  const index = Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: OCI_INDEX,
    manifests: children.map((c, i) => ({ mediaType: OCI_MANIFEST, digest: c.digest, size: c.manifestSize, platform: { architecture: i === 0 ? 'amd64' : 'arm64', os: 'linux' } })),
  }));
  const res = await putManifest(base, name, tag, index, OCI_INDEX);
  assert.equal(res.status, 201, await res.text());
  return digestOf(index);
}

/** Pushes an artifact whose subject is `subject` (present or not). */
async function pushReferrer(base: string, name: string, subject: string): Promise<string> {
  const empty = Buffer.from('{}');
  await pushBlob(base, name, empty);
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: OCI_MANIFEST, artifactType: 'application/vnd.example.signature',
    config: descriptor('application/vnd.oci.empty.v1+json', empty), layers: [descriptor('application/vnd.oci.empty.v1+json', empty)],
    subject: { mediaType: OCI_MANIFEST, digest: subject, size: 100 },
  }));
  const res = await putManifest(base, name, digestOf(manifest), manifest);
  assert.equal(res.status, 201, await res.text());
  return digestOf(manifest);
}

function problemsOf(report: FsckReport, check: FsckCheck): FsckProblem[] {
  return report.problems.filter((p) => p.check === check);
}

function assertFound(report: FsckReport, check: FsckCheck, where: { repository?: string; digest: string }): FsckProblem {
  const match = problemsOf(report, check).find((p) => p.digest === where.digest && p.repository === where.repository);
  assert.ok(match, `fsck reports ${check} for ${where.repository ?? '(blob store)'} ${where.digest}; it reported:\n${report.problems.map((p) => `${p.check} ${p.repository} ${p.digest}`).join('\n')}`);
  assert.ok(match.message.includes(where.digest), match.message);
  return match;
}

for (const engine of engines()) {
  describe(`wharf fsck [${engine}]`, () => {
    let server: TestServer;
    before(async () => { server = await startTestServer(engine, { storage: { gcInterval: 0 } }); });
    after(async () => { await server.stop(); });

    it('a registry of images, an index, a referrer and a trashed image passes: no errors, no notes, every blob hashed', async () => {
      const name = repoName('fsck');
      const a = await pushImage(server.url, name, 'a');
      const b = await pushImage(server.url, name, 'b');
      await pushIndex(server.url, name, [a, b], 'multi');
      await pushReferrer(server.url, name, a.digest);
      const trashed = await pushImage(server.url, name);
      assert.equal((await fetch(`${server.url}/v2/${name}/manifests/${trashed.digest}`, { method: 'DELETE' })).status, 202);

      const report = await fsckServer(server);
      assert.equal(report.errors, 0, JSON.stringify(report.problems, null, 2));
      assert.equal(report.infos, 0, JSON.stringify(report.problems, null, 2));
      const blobs = await server.metadata.db.selectFrom('blobs').select(['size']).execute();
      assert.equal(report.blobs, blobs.length);
      assert.equal(report.bytesHashed, blobs.reduce((sum, r) => sum + Number(r.size), 0), 'every blob\'s bytes were read');
      assert.equal(report.files, blobs.length);
      assert.equal(report.manifests, 4);
      assert.equal(report.tags, 3);
      assert.equal(report.trashReferences, 2);
      const accounts = await server.metadata.db.selectFrom('accounts').select('name').execute();
      assert.deepEqual(report.usage.map((u) => u.account).sort(), accounts.map((a) => a.name).sort(), 'usage recounted for every account');

      const fast = await fsckServer(server, { content: false });
      assert.equal(fast.errors, 0);
      assert.equal(fast.bytesHashed, 0, '--no-content reads no bytes');
    });

    it('a referrer whose subject is not in the repository is a note, not an error (the spec allows it)', async () => {
      const name = repoName('fsck');
      const absent = digestOf(randomBytes(32));
      const referrer = await pushReferrer(server.url, name, absent);
      const report = await fsckServer(server);
      const note = assertFound(report, 'referrer-subject-missing', { repository: name, digest: referrer });
      assert.equal(note.severity, 'info');
      assert.ok(note.message.includes(absent));
      assert.equal(report.errors, 0, JSON.stringify(report.problems, null, 2));
    });

    it('finds each kind of damage where it is, and --repair fixes the image sizes and nothing else', async () => {
      const flipped = await pushImage(server.url, repoName('fsck'), 'v1');
      const vanished = await pushImage(server.url, repoName('fsck'), 'v1');
      const unlinked = await pushImage(server.url, repoName('fsck'), 'v1');
      const family = repoName('fsck');
      const resized = await pushImage(server.url, family, 'amd64');
      const sibling = await pushImage(server.url, family, 'arm64');
      const index = await pushIndex(server.url, family, [resized, sibling], 'multi');
      const orphanParent = repoName('fsck');
      const lonely = await pushImage(server.url, orphanParent, 'one');
      const other = await pushImage(server.url, orphanParent, 'two');
      const parentIndex = await pushIndex(server.url, orphanParent, [lonely, other], 'multi');
      const trashed = await pushImage(server.url, repoName('fsck'));
      assert.equal((await fetch(`${server.url}/v2/${trashed.name}/manifests/${trashed.digest}`, { method: 'DELETE' })).status, 202);
      const db = server.metadata.db;

      // A byte flipped in a layer: same size, wrong digest.
      const file = blobFile(server, flipped.layer);
      chmodSync(file, 0o644);
      const bytes = readFileSync(file);
      bytes[100] = bytes[100]! ^ 0xff;
      writeFileSync(file, bytes);
      // A layer's file deleted.
      rmSync(blobFile(server, vanished.layer));
      // A config's link deleted from under its manifest.
      const unlinkedRepo = await db.selectFrom('repositories').select('id').where('name', '=', unlinked.name).executeTakeFirstOrThrow();
      await db.deleteFrom('repository_blobs').where('repository_id', '=', unlinkedRepo.id).where('digest', '=', unlinked.config).execute();
      // An image size corrupted on a platform manifest (its index's own size stays right) and on an index.
      await db.updateTable('manifests').set({ image_size: 7 }).where('digest', '=', resized.digest).execute();
      await db.updateTable('manifests').set({ image_size: 3 }).where('digest', '=', parentIndex).execute();
      // A platform manifest of an index deleted (its tag goes with it, so no tag dangles from it).
      await db.deleteFrom('tags').where('manifest_digest', '=', lonely.digest).execute();
      await db.deleteFrom('manifests').where('digest', '=', lonely.digest).execute();
      // A tag pointed at a manifest that is nowhere.
      const nowhere = digestOf(randomBytes(16));
      await db.updateTable('tags').set({ manifest_digest: nowhere }).where('manifest_digest', '=', other.digest).execute();
      // The blob row of a trashed image's layer deleted (its link first: links need their blob row).
      await db.deleteFrom('repository_blobs').where('digest', '=', trashed.layer).execute();
      await db.deleteFrom('blobs').where('digest', '=', trashed.layer).execute();
      // A file no row knows.
      const stray = randomBlob(333);
      mkdirSync(path.dirname(blobFile(server, digestOf(stray))), { recursive: true });
      writeFileSync(blobFile(server, digestOf(stray)), stray);

      const seen: FsckProblem[] = [];
      const report = await fsckServer(server, { onProblem: (p) => seen.push(p) });
      assert.deepEqual(seen, report.problems, 'each problem is told as it is found');
      assert.equal(assertFound(report, 'blob-digest-differs', { digest: flipped.layer }).severity, 'error');
      assertFound(report, 'blob-bytes-missing', { digest: vanished.layer });
      assertFound(report, 'reference-blob-unlinked', { repository: unlinked.name, digest: unlinked.digest });
      assertFound(report, 'image-size-differs', { repository: family, digest: resized.digest });
      assert.equal(problemsOf(report, 'image-size-differs').filter((p) => p.digest === index).length, 0, 'the index\'s size, recounted from its platforms\' true sizes, is right');
      assertFound(report, 'image-size-differs', { repository: orphanParent, digest: parentIndex });
      assertFound(report, 'index-child-missing', { repository: orphanParent, digest: parentIndex });
      assertFound(report, 'tag-manifest-missing', { repository: orphanParent, digest: nowhere });
      assertFound(report, 'trash-blob-missing', { repository: trashed.name, digest: trashed.layer });
      assert.equal(assertFound(report, 'orphan-file', { digest: digestOf(stray) }).severity, 'info');
      assert.equal(report.errors, 8, `those eight and nothing else: ${JSON.stringify(report.problems, null, 2)}`);

      const fast = await fsckServer(server, { content: false });
      assert.equal(problemsOf(fast, 'blob-digest-differs').length, 0, '--no-content does not read the bytes');
      assertFound(fast, 'blob-bytes-missing', { digest: vanished.layer });

      const repaired = await fsckServer(server, { repair: true });
      const sizes = problemsOf(repaired, 'image-size-differs');
      assert.ok(sizes.length >= 2 && sizes.every((p) => p.repaired), JSON.stringify(sizes, null, 2));
      assert.equal(repaired.repaired, sizes.length);
      assert.equal(repaired.errors, report.errors - sizes.length, 'everything else is left');
      const row = await db.selectFrom('manifests').select('image_size').where('digest', '=', resized.digest).executeTakeFirstOrThrow();
      assert.equal(Number(row.image_size), resized.size, 'the platform\'s size is its config and layer');
      const indexRow = await db.selectFrom('manifests').select('image_size').where('digest', '=', parentIndex).executeTakeFirstOrThrow();
      assert.equal(Number(indexRow.image_size), other.size, 'the index\'s size is that of the platform it still has');

      const after = await fsckServer(server);
      assert.equal(problemsOf(after, 'image-size-differs').length, 0, 'repaired for good');
      assert.equal(after.errors, repaired.errors);
    });
  });
}
