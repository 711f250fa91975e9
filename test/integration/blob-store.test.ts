import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { createHash, randomBytes } from 'node:crypto';
import { text } from 'node:stream/consumers';
import { FsBlobStore } from '../../src/storage/fs/fs-blob-store.js';
import { UploadTooLargeError, type BlobStore } from '../../src/storage/ports.js';
import { parseDigest } from '../../src/oci/digest.js';

/** The suite every BlobStore driver must pass. */
function blobStoreSuite(name: string, create: () => Promise<{ store: BlobStore; cleanup(): void; stagedFiles(): string[] }>) {
  describe(`BlobStore driver: ${name}`, () => {
    let store: BlobStore;
    let env: Awaited<ReturnType<typeof create>>;
    before(async () => { env = await create(); store = env.store; });
    after(() => env.cleanup());

    const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

    it('stages, digests and commits an upload; the blob is readable whole and by range', async () => {
      const data = randomBytes(300_000);
      await store.createUpload('u-commit');
      const hash = createHash('sha256');
      let size = await store.appendUpload('u-commit', 0, Readable.from([data.subarray(0, 100_000)]), hash);
      size = await store.appendUpload('u-commit', size, Readable.from([data.subarray(100_000)]), hash);
      assert.equal(size, data.length);
      const digest = sha(data);
      assert.equal(`sha256:${hash.digest('hex')}`, digest);
      assert.equal(await store.digestUpload('u-commit', size, 'sha256'), digest);
      assert.equal(await store.stat(digest), null, 'not visible before commit');
      await store.commitUpload('u-commit', size, parseDigest(digest));
      assert.deepEqual(await store.stat(digest), { size: data.length });
      const whole = Buffer.concat(await (await store.read(digest)).toArray());
      assert.ok(whole.equals(data));
      const part = Buffer.concat(await (await store.read(digest, { start: 10, end: 19 })).toArray());
      assert.ok(part.equals(data.subarray(10, 20)));
      assert.ok(!env.stagedFiles().includes('u-commit'), 'staged file removed');
    });

    it('discards bytes past the offset left by an interrupted write', async () => {
      await store.createUpload('u-resume');
      await store.appendUpload('u-resume', 0, Readable.from([Buffer.from('hello world')]));
      // The metadata only counted 5 bytes: the next write continues from there.
      const size = await store.appendUpload('u-resume', 5, Readable.from([Buffer.from('!')]));
      assert.equal(size, 6);
      assert.equal(await store.digestUpload('u-resume', 6, 'sha256'), sha(Buffer.from('hello!')));
      await store.deleteUpload('u-resume');
    });

    it('refuses more bytes than the limit', async () => {
      await store.createUpload('u-limit');
      await assert.rejects(store.appendUpload('u-limit', 0, Readable.from([Buffer.alloc(10)]), undefined, 9), UploadTooLargeError);
      await store.deleteUpload('u-limit');
    });

    it('propagates a failing source and keeps nothing visible', async () => {
      await store.createUpload('u-fail');
      const failing = new Readable({ read() { this.push(Buffer.alloc(1000)); this.destroy(new Error('client went away')); } });
      await assert.rejects(store.appendUpload('u-fail', 0, failing), /client went away/);
      await store.deleteUpload('u-fail');
      assert.ok(!env.stagedFiles().includes('u-fail'));
    });

    it('lists staged uploads and deletes blobs', async () => {
      await store.createUpload('u-list');
      const ids: string[] = [];
      for await (const u of store.listUploads()) ids.push(u.uploadId);
      assert.ok(ids.includes('u-list'));
      await store.deleteUpload('u-list');
      const data = Buffer.from('to delete');
      await store.createUpload('u-del');
      await store.appendUpload('u-del', 0, Readable.from([data]));
      await store.commitUpload('u-del', data.length, parseDigest(sha(data)));
      assert.equal(await text(await store.read(sha(data))), 'to delete');
      await store.delete(sha(data));
      assert.equal(await store.stat(sha(data)), null);
    });

    it('refuses ids and digests that could escape its directory', async () => {
      await assert.rejects(store.createUpload('../escape'));
      await assert.rejects(store.stat('sha256:../../../../etc/passwd'));
    });
  });
}

blobStoreSuite('filesystem', async () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'wharf-fs-'));
  const store = new FsBlobStore(root);
  await store.init();
  return { store, cleanup: () => rmSync(root, { recursive: true, force: true }), stagedFiles: () => readdirSync(path.join(root, 'uploads')) };
});
