import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { createHash, randomBytes } from 'node:crypto';
import { text } from 'node:stream/consumers';
import { FsBlobStore } from '../../src/storage/fs/fs-blob-store.js';
import { UploadTooLargeError, type BlobStore } from '../../src/storage/ports.js';
import { deleteBlobs } from '../../src/storage/delete-blobs.js';
import { parseDigest } from '../../src/oci/digest.js';
import { S3BlobStore } from '../../src/storage/s3/s3-blob-store.js';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { createS3Client } from '../../src/storage/s3/s3-client.js';
import { emptyPrefix, listKeys, s3TestSettings } from '../support/s3.js';

/** The suite every BlobStore driver must pass. */
function blobStoreSuite(name: string, create: () => Promise<{ store: BlobStore; cleanup(): void | Promise<void>; stagedFiles(): string[] | Promise<string[]>; replica(): BlobStore }>) {
  describe(`BlobStore driver: ${name}`, () => {
    let store: BlobStore;
    let env: Awaited<ReturnType<typeof create>>;
    before(async () => { env = await create(); store = env.store; });
    after(async () => { await env.cleanup(); });

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
      await store.sealUpload('u-commit', size);
      await store.commitUpload('u-commit', size, parseDigest(digest));
      assert.deepEqual(await store.stat(digest), { size: data.length });
      const whole = Buffer.concat(await (await store.read(digest)).toArray());
      assert.ok(whole.equals(data));
      const part = Buffer.concat(await (await store.read(digest, { start: 10, end: 19 })).toArray());
      assert.ok(part.equals(data.subarray(10, 20)));
      assert.ok(!(await env.stagedFiles()).includes('u-commit'), 'staged file removed');
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
      assert.ok(!(await env.stagedFiles()).includes('u-fail'));
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
      await store.sealUpload('u-del', data.length);
      await store.commitUpload('u-del', data.length, parseDigest(sha(data)));
      assert.equal(await text(await store.read(sha(data))), 'to delete');
      await store.delete(sha(data));
      assert.equal(await store.stat(sha(data)), null);
    });

    it('deletes many blobs at once (garbage collection), a missing one too, and only those', async () => {
      const [a, b, c] = [Buffer.from('many a'), Buffer.from('many b'), Buffer.from('many c')];
      for (const [i, data] of [a, b, c].entries()) {
        await store.createUpload(`u-many-${i}`);
        await store.appendUpload(`u-many-${i}`, 0, Readable.from([data]));
        await store.sealUpload(`u-many-${i}`, data.length);
        await store.commitUpload(`u-many-${i}`, data.length, parseDigest(sha(data)));
      }
      const failed = await deleteBlobs(store, [sha(a), sha(b), sha(Buffer.from('never stored'))]);
      assert.deepEqual([...failed.keys()], []);
      assert.equal(await store.stat(sha(a)), null);
      assert.equal(await store.stat(sha(b)), null);
      assert.deepEqual(await store.stat(sha(c)), { size: c.length }, 'a blob not named stays');
      assert.deepEqual([...(await deleteBlobs(store, [])).keys()], []);
      await store.delete(sha(c));
    });

    it('seals then commits an upload, and lists committed blobs with their size and age', async () => {
      const data = Buffer.from('sealed before its commit');
      await store.createUpload('u-seal');
      const size = await store.appendUpload('u-seal', 0, Readable.from([data, Buffer.from('left over past the size')]));
      await store.sealUpload('u-seal', data.length);
      const before = Date.now();
      await store.commitUpload('u-seal', data.length, parseDigest(sha(data)));
      assert.ok(size > data.length);
      assert.equal(await text(await store.read(sha(data))), data.toString());
      const listed = [];
      for await (const blob of store.listBlobs()) listed.push(blob);
      const found = listed.find((b) => b.digest === sha(data));
      assert.ok(found, 'the committed blob is listed');
      assert.equal(found.size, data.length);
      // Its age starts at the commit, not at its last written chunk (the collector's grace period).
      assert.ok(found.modifiedAt >= before - 1000, `modified ${found.modifiedAt}, committed after ${before}`);
      await store.delete(sha(data));
      for await (const blob of store.listBlobs()) assert.notEqual(blob.digest, sha(data));
    });

    /** Commits `data` as a blob through the staging area; returns its digest. */
    async function commit(id: string, data: Buffer): Promise<string> {
      await store.createUpload(id);
      const size = await store.appendUpload(id, 0, Readable.from([data]));
      const digest = sha(data);
      await store.sealUpload(id, size);
      await store.commitUpload(id, size, parseDigest(digest));
      return digest;
    }

    /**
     * A destination that acknowledges each write late (as a slow socket does) and checks that no
     * chunk changed between its write and its acknowledgement: a reused buffer must not be
     * refilled while the destination still holds it.
     */
    function slowDestination(): { destination: Writable; received(): Buffer; changedInFlight(): number } {
      const copies: Buffer[] = [];
      let changed = 0;
      const destination = new Writable({
        highWaterMark: 1,
        write(chunk: Buffer, _enc, callback) {
          const copy = Buffer.from(chunk);
          copies.push(copy);
          setTimeout(() => {
            if (!chunk.equals(copy)) changed++;
            callback();
          }, 2);
        },
      });
      return { destination, received: () => Buffer.concat(copies), changedInFlight: () => changed };
    }

    it('writeTo sends the same bytes as reading, whole and by range, never refilling a buffer in flight', async (t) => {
      // Several MiB and not a multiple of the copy size, so buffers are reused and the last read is short.
      const data = randomBytes(5 * 1024 * 1024 + 12_345);
      const digest = await commit('u-writeto', data);
      const probe = await store.read(digest);
      // Only asked whether the driver has writeTo: never read, so closed here rather than by the garbage collector.
      probe.destroy();
      if (!probe.writeTo) {
        t.skip(`the ${name} driver has no writeTo; readers stream instead`);
        return;
      }
      for (const range of [undefined, { start: 0, end: 0 }, { start: 1024 * 1024 - 3, end: 3 * 1024 * 1024 + 7 }, { start: 17, end: data.length - 1 }]) {
        const stream = await store.read(digest, range);
        const sink = slowDestination();
        await stream.writeTo!(sink.destination);
        const expected = range ? data.subarray(range.start, range.end + 1) : data;
        assert.ok(sink.received().equals(expected), `bytes of range ${JSON.stringify(range)}`);
        assert.equal(sink.changedInFlight(), 0, 'a chunk changed while the destination held it');
        assert.ok(stream.destroyed, 'writeTo releases the stream (and its file)');
      }
    });

    it('writeTo rejects when the destination closes first, and releases the stream', async (t) => {
      const data = randomBytes(4 * 1024 * 1024);
      const digest = await commit('u-writeto-cut', data);
      const stream = await store.read(digest);
      if (!stream.writeTo) {
        t.skip(`the ${name} driver has no writeTo`);
        return;
      }
      let writes = 0;
      const destination: Writable = new Writable({
        write(_chunk, _enc, callback) {
          // The client goes away during the second chunk, which is never acknowledged.
          if (++writes === 2) setImmediate(() => destination.destroy());
          else callback();
        },
      });
      await assert.rejects(stream.writeTo(destination), /closed before/);
      assert.ok(stream.destroyed);
    });

    it('continues an upload of small chunks and large ones on another replica, with its digest, and commits it whole', async () => {
      // Chunks under S3's 5 MiB part minimum, then one above it, then a short last one.
      const chunks = [1024 * 1024, 700_000, 3 * 1024 * 1024, 6 * 1024 * 1024 + 5, 1, 200_000].map((n) => randomBytes(n));
      const data = Buffer.concat(chunks);
      const replicas = [store, env.replica()];
      await store.createUpload('u-replicas');
      let size = 0;
      for (const [i, chunk] of chunks.entries()) {
        // Each chunk lands on the other replica, which has no running digest of its own.
        size = await replicas[i % 2]!.appendUpload('u-replicas', size, Readable.from([chunk]));
        assert.equal(await replicas[(i + 1) % 2]!.digestUpload('u-replicas', size, 'sha256'), sha(data.subarray(0, size)), `digest after chunk ${i}`);
      }
      assert.equal(size, data.length);
      assert.equal(await replicas[1]!.digestUpload('u-replicas', size, 'sha512'), `sha512:${createHash('sha512').update(data).digest('hex')}`);
      await replicas[1]!.sealUpload('u-replicas', size);
      await store.commitUpload('u-replicas', size, parseDigest(sha(data)));
      assert.deepEqual(await replicas[1]!.stat(sha(data)), { size: data.length });
      assert.ok(Buffer.concat(await (await replicas[1]!.read(sha(data))).toArray()).equals(data));
      // A range across the boundary of the 6 MiB chunk.
      const from = 5 * 1024 * 1024 - 10;
      const part = Buffer.concat(await (await store.read(sha(data), { start: from, end: from + 2 * 1024 * 1024 })).toArray());
      assert.ok(part.equals(data.subarray(from, from + 2 * 1024 * 1024 + 1)));
      assert.ok(!(await env.stagedFiles()).includes('u-replicas'), 'staged bytes removed');
      await store.delete(sha(data));
    });

    it('commits an empty blob', async () => {
      await store.createUpload('u-empty');
      const size = await store.appendUpload('u-empty', 0, Readable.from([]));
      assert.equal(size, 0);
      await store.sealUpload('u-empty', 0);
      await store.commitUpload('u-empty', 0, parseDigest(sha(Buffer.alloc(0))));
      assert.deepEqual(await store.stat(sha(Buffer.alloc(0))), { size: 0 });
      assert.equal((await (await store.read(sha(Buffer.alloc(0)))).toArray()).length, 0);
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
  return { store, cleanup: () => rmSync(root, { recursive: true, force: true }), stagedFiles: () => readdirSync(path.join(root, 'uploads')), replica: () => new FsBlobStore(root) };
});

blobStoreSuite('s3', async () => {
  const settings = s3TestSettings();
  const store = new S3BlobStore(settings);
  await store.init();
  return {
    store,
    async cleanup() { store.close(); await emptyPrefix(settings); },
    // Every upload id with an object left under uploads/.
    async stagedFiles() { return [...new Set((await listKeys(settings, 'uploads/')).map((k) => k.split('/')[1]!))]; },
    replica: () => new S3BlobStore(settings),
  };
});

describe('S3 driver specifics', () => {
  const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
  const settings = s3TestSettings();
  after(async () => { await emptyPrefix(settings); });

  it('deletes many blobs with DeleteObjects, up to 1,000 keys a request', async () => {
    const client = createS3Client(settings);
    const requests: number[] = [];
    client.middlewareStack.add((next, context) => async (args) => {
      if (context.commandName === 'DeleteObjectsCommand') requests.push((args.input as { Delete: { Objects: unknown[] } }).Delete.Objects.length);
      if (context.commandName === 'DeleteObjectCommand') requests.push(1);
      return next(args);
    }, { step: 'initialize' });
    const store = new S3BlobStore(settings, client);
    await store.init();
    try {
      const stored = [Buffer.from('s3 many 1'), Buffer.from('s3 many 2')];
      for (const [i, data] of stored.entries()) {
        await store.createUpload(`u-s3-many-${i}`);
        await store.appendUpload(`u-s3-many-${i}`, 0, Readable.from([data]));
        await store.sealUpload(`u-s3-many-${i}`, data.length);
        await store.commitUpload(`u-s3-many-${i}`, data.length, parseDigest(sha(data)));
      }
      requests.length = 0;
      const absent = Array.from({ length: 1498 }, (_, i) => sha(Buffer.from(`absent ${i}`)));
      const failed = await deleteBlobs(store, [...stored.map(sha), ...absent]);
      assert.deepEqual([...failed.keys()], []);
      assert.deepEqual(requests, [1000, 500], 'two DeleteObjects requests for 1,500 blobs');
      for (const data of stored) assert.equal(await store.stat(sha(data)), null);
    } finally {
      store.close();
    }
  });

  /** A store whose client counts the staged bytes it reads back (GETs of segment objects). */
  function countingStore(): { store: S3BlobStore; segmentReads(): number } {
    const client = createS3Client(settings);
    let reads = 0;
    client.middlewareStack.add((next, context) => async (args) => {
      const key = (args.input as { Key?: string }).Key ?? '';
      if (context.commandName === 'GetObjectCommand' && key.includes('/uploads/') && !key.endsWith('/state.json')) reads++;
      return next(args);
    }, { step: 'initialize' });
    return { store: new S3BlobStore(settings, client), segmentReads: () => reads };
  }

  it('another replica resumes the running digest from the saved state, reading no staged bytes back', async () => {
    const first = countingStore();
    const second = countingStore();
    const chunks = [randomBytes(6 * 1024 * 1024), randomBytes(6 * 1024 * 1024)];
    await first.store.createUpload('u-state');
    let size = await first.store.appendUpload('u-state', 0, Readable.from([chunks[0]!]));
    size = await second.store.appendUpload('u-state', size, Readable.from([chunks[1]!]));
    assert.equal(await first.store.digestUpload('u-state', size, 'sha256'), `sha256:${createHash('sha256').update(Buffer.concat(chunks)).digest('hex')}`);
    assert.equal(first.segmentReads() + second.segmentReads(), 0, 'no staged bytes were read back');
    await first.store.deleteUpload('u-state');
    first.store.close();
    second.store.close();
  });

  it('a store that accepts connections but never answers fails requests after the timeout, not hangs', { timeout: 120_000 }, async () => {
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => { sockets.add(socket); });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as AddressInfo;
    const store = new S3BlobStore(s3TestSettings({ endpoint: `http://127.0.0.1:${port}`, requestTimeout: 1 }));
    try {
      const started = Date.now();
      await assert.rejects(store.stat(sha(Buffer.from('anything'))));
      await assert.rejects(store.init(), /cannot be reached/);
      // Three attempts of one second each, and the start check's own: far from a TCP timeout.
      assert.ok(Date.now() - started < 30_000, `gave up after ${Date.now() - started} ms`);
      assert.ok(sockets.size > 0, 'the requests did reach the silent store');
    } finally {
      store.close();
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('lists and removes an upload folder whose state is gone (a cleanup that failed half-way)', async () => {
    const client = createS3Client(settings);
    const store = new S3BlobStore(settings, client);
    try {
      await client.send(new PutObjectCommand({ Bucket: settings.bucket, Key: `${settings.prefix}uploads/u-stray/segment-left`, Body: 'left behind' }));
      const listed: string[] = [];
      for await (const upload of store.listUploads()) listed.push(upload.uploadId);
      assert.ok(listed.includes('u-stray'), `listed ${listed.join(', ')}`);
      await store.deleteUpload('u-stray');
      assert.deepEqual(await listKeys(settings, 'uploads/u-stray/'), []);
    } finally {
      store.close();
    }
  });

  it('a small last chunk is rewritten with the next one, so every part but the last reaches 5 MiB', async () => {
    const counting = countingStore();
    const store = counting.store;
    await store.createUpload('u-small');
    let size = 0;
    for (let i = 0; i < 3; i++) size = await store.appendUpload('u-small', size, Readable.from([randomBytes(2 * 1024 * 1024)]));
    const segments = (await listKeys(settings, 'uploads/u-small/')).filter((k) => !k.endsWith('state.json'));
    assert.equal(segments.length, 1, `one segment of 6 MiB, not three of 2: ${segments.join(', ')}`);
    // Each rewrite read back the short segment before it, and nothing more.
    assert.equal(counting.segmentReads(), 2);
    await store.deleteUpload('u-small');
    assert.deepEqual(await listKeys(settings, 'uploads/u-small/'), []);
    store.close();
  });
});
