import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createTestDatabase, engines, startTestServer, type EngineName, type TestServer } from '../support/server.js';
import { digestOf, OCI_CONFIG, OCI_LAYER, OCI_MANIFEST, pushBlob, putManifest, randomBlob, repoName } from '../support/http.js';
import { emptyPrefix, listKeys, s3StorageOverrides, s3TestSettings } from '../support/s3.js';
import type { S3Settings } from '../../src/storage/s3/s3-client.js';
import { S3BlobStore } from '../../src/storage/s3/s3-blob-store.js';
import { parseDigest } from '../../src/oci/digest.js';
import { Readable } from 'node:stream';

const MiB = 1024 * 1024;

// Registry on the S3 driver against a real store (radosgw, started by test/run.mjs), on both
// metadata engines; "replicas" are servers sharing one database and one bucket prefix.
for (const engine of engines()) {
  describe(`S3 storage: push and pull [${engine}]`, () => {
    const settings = s3TestSettings();
    let sharedDir: string;
    let database: { url: string; drop(): Promise<void> } | undefined;
    const running: TestServer[] = [];

    before(async () => {
      sharedDir = mkdtempSync(path.join(os.tmpdir(), 'wharf-s3-'));
      if (engine === 'postgres') database = await createTestDatabase();
    });
    after(async () => {
      for (const server of running.splice(0)) await server.stop();
      await database?.drop();
      rmSync(sharedDir, { recursive: true, force: true });
      await emptyPrefix(settings);
    });

    /** One replica: its own process state, the shared database and bucket prefix. */
    async function replica(options: Partial<S3Settings> = {}, storage: Record<string, unknown> = {}): Promise<TestServer> {
      const server = await startTestServer(engine as EngineName, {
        storage: { ...s3StorageOverrides({ ...settings, ...options }), ...storage },
        database: engine === 'postgres' ? { url: database!.url } : { sqlitePath: path.join(sharedDir, 'wharf.db') },
      });
      running.push(server);
      return server;
    }

    async function stopReplica(server: TestServer): Promise<void> {
      running.splice(running.indexOf(server), 1);
      await server.stop();
    }

    async function pull(server: TestServer, name: string, digest: string, init: RequestInit = {}): Promise<Response> {
      return fetch(`${server.url}/v2/${name}/blobs/${digest}`, init);
    }

    it('pushes an image monolithically and pulls it back, whole and by range', async () => {
      const server = await replica();
      const name = repoName('s3');
      const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux' }));
      const layer = randomBlob(300_000);
      await pushBlob(server.url, name, config);
      await pushBlob(server.url, name, layer);
      const manifest = { schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: OCI_CONFIG, digest: digestOf(config), size: config.length }, layers: [{ mediaType: OCI_LAYER, digest: digestOf(layer), size: layer.length }] };
      assert.equal((await putManifest(server.url, name, 'v1', manifest)).status, 201);
      const got = await fetch(`${server.url}/v2/${name}/manifests/v1`, { headers: { Accept: OCI_MANIFEST } });
      assert.equal(got.status, 200);
      assert.deepEqual(await got.json(), manifest);
      const whole = await pull(server, name, digestOf(layer));
      assert.equal(whole.status, 200);
      assert.ok(Buffer.from(await whole.arrayBuffer()).equals(layer));
      const part = await pull(server, name, digestOf(layer), { headers: { Range: 'bytes=1000-1999' } });
      assert.equal(part.status, 206);
      assert.ok(Buffer.from(await part.arrayBuffer()).equals(layer.subarray(1000, 2000)));
      await stopReplica(server);
    });

    it('continues a chunked upload (chunks under and over 5 MiB) on another replica after a restart', async () => {
      const chunks = [randomBlob(MiB), randomBlob(2 * MiB), randomBlob(1.5 * MiB), randomBlob(6 * MiB + 3), randomBlob(1000)];
      const data = Buffer.concat(chunks);
      const name = repoName('s3');
      const first = await replica();
      const started = await fetch(`${first.url}/v2/${name}/blobs/uploads/`, { method: 'POST', headers: { 'Content-Length': '0' } });
      assert.equal(started.status, 202);
      const location = started.headers.get('location')!;
      const at = (server: TestServer) => (location.startsWith('http') ? location.replace(/^http:\/\/[^/]+/, server.url) : `${server.url}${location}`);
      let offset = 0;
      const patch = async (server: TestServer, chunk: Buffer) => {
        const res = await fetch(at(server), { method: 'PATCH', headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': `${offset}-${offset + chunk.length - 1}`, 'Content-Length': String(chunk.length) }, body: chunk });
        assert.equal(res.status, 202, await res.text());
        offset += chunk.length;
        assert.equal(res.headers.get('range'), `0-${offset - 1}`);
      };
      for (const chunk of chunks.slice(0, 3)) await patch(first, chunk);
      await stopReplica(first);

      const second = await replica();
      const status = await fetch(at(second));
      assert.equal(status.status, 204);
      assert.equal(status.headers.get('range'), `0-${offset - 1}`);
      await patch(second, chunks[3]!);
      const last = chunks[4]!;
      const done = await fetch(`${at(second)}${location.includes('?') ? '&' : '?'}digest=${digestOf(data)}`, { method: 'PUT', headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': String(last.length) }, body: last });
      assert.equal(done.status, 201, await done.text());
      const pulled = await pull(second, name, digestOf(data));
      assert.equal(pulled.status, 200);
      assert.ok(Buffer.from(await pulled.arrayBuffer()).equals(data));
      assert.deepEqual(await listKeys(settings, 'uploads/'), [], 'nothing left staged');
      await stopReplica(second);
    });

    it('garbage collection removes unlinked blobs and objects no row knows from the bucket', async () => {
      const server = await replica({}, { gcGracePeriod: 0, gcInterval: 0 });
      const name = repoName('s3');
      const digest = await pushBlob(server.url, name, randomBlob(20_000));
      const key = `blobs/${digest.replace(':', '/')}`;
      assert.ok((await listKeys(settings, 'blobs/')).includes(key));
      const removed = await fetch(`${server.url}/v2/${name}/blobs/${digest}`, { method: 'DELETE' });
      assert.equal(removed.status, 202);
      // An object a crash left between its commit and its rows.
      const orphan = new S3BlobStore(settings);
      const orphanBytes = randomBlob(3000);
      await orphan.createUpload('orphan');
      await orphan.appendUpload('orphan', 0, Readable.from([orphanBytes]));
      await orphan.sealUpload('orphan', orphanBytes.length);
      await orphan.commitUpload('orphan', orphanBytes.length, parseDigest(digestOf(orphanBytes)));
      orphan.close();
      const report = await server.gc.run();
      assert.ok(report.blobsRemoved >= 1, JSON.stringify(report));
      assert.ok(report.orphansRemoved >= 1, JSON.stringify(report));
      const left = await listKeys(settings, 'blobs/');
      assert.ok(!left.includes(key), 'the unlinked blob left the bucket');
      assert.ok(!left.includes(`blobs/${digestOf(orphanBytes).replace(':', '/')}`), 'the orphan left the bucket');
      await stopReplica(server);
    });

    it('redirects blob GETs to the store when s3Redirect is on, and serves them itself when off', async () => {
      const direct = await replica();
      const redirecting = await replica({ redirect: true });
      const name = repoName('s3');
      const layer = randomBlob(50_000);
      const digest = await pushBlob(direct.url, name, layer);

      const plain = await pull(direct, name, digest, { redirect: 'manual' });
      assert.equal(plain.status, 200);
      assert.ok(Buffer.from(await plain.arrayBuffer()).equals(layer));

      const redirect = await pull(redirecting, name, digest, { redirect: 'manual' });
      assert.equal(redirect.status, 307);
      await redirect.arrayBuffer();
      const location = redirect.headers.get('location')!;
      assert.ok(location.startsWith(`${settings.endpoint}/`), `redirected to the store, not ${location}`);
      // A rollout's many pulls of one layer reuse the presigned URL (signing is the redirect's main cost).
      // A new signature would differ once the clock's second (X-Amz-Date) has moved on.
      const signedAt = Math.floor(Date.now() / 1000);
      while (Math.floor(Date.now() / 1000) === signedAt) await new Promise((r) => setTimeout(r, 20));
      const again = await pull(redirecting, name, digest, { redirect: 'manual' });
      assert.equal(again.status, 307);
      await again.arrayBuffer();
      assert.equal(again.headers.get('location'), location);
      const fromStore = await fetch(location);
      assert.equal(fromStore.status, 200);
      assert.ok(Buffer.from(await fromStore.arrayBuffer()).equals(layer));
      const followed = await pull(redirecting, name, digest);
      assert.equal(followed.status, 200);
      assert.ok(followed.redirected);
      assert.ok(Buffer.from(await followed.arrayBuffer()).equals(layer));
      const range = await pull(redirecting, name, digest, { headers: { Range: 'bytes=100-199' } });
      assert.equal(range.status, 206);
      assert.ok(Buffer.from(await range.arrayBuffer()).equals(layer.subarray(100, 200)));
      // HEAD stays with Wharf; a blob of another repository is not redirected to.
      const head = await pull(redirecting, name, digest, { method: 'HEAD', redirect: 'manual' });
      assert.equal(head.status, 200);
      assert.equal(head.headers.get('content-length'), String(layer.length));
      const elsewhere = await pull(redirecting, repoName('s3'), digest, { redirect: 'manual' });
      assert.equal(elsewhere.status, 404);
      await elsewhere.arrayBuffer();
    });
  });
}

describe('S3 storage: start checks', () => {
  async function closedPort(): Promise<number> {
    return new Promise((resolve, reject) => {
      const server = createServer();
      server.listen(0, '127.0.0.1', () => {
        const { port } = server.address() as { port: number };
        server.close(() => resolve(port));
      });
      server.on('error', reject);
    });
  }

  it('a missing bucket stops the start with a message naming it', async () => {
    const settings = s3TestSettings({ bucket: 'no-such-bucket-for-wharf' });
    await assert.rejects(startTestServer('sqlite', { storage: s3StorageOverrides(settings) }), /bucket "no-such-bucket-for-wharf" .*does not exist.*WHARF_STORAGE_S3_BUCKET/);
  });

  it('an unreachable endpoint stops the start promptly with a message naming the endpoint', async () => {
    const port = await closedPort();
    const settings = s3TestSettings({ endpoint: `http://127.0.0.1:${port}`, requestTimeout: 5 });
    const started = Date.now();
    await assert.rejects(startTestServer('sqlite', { storage: s3StorageOverrides(settings) }), new RegExp(`127\\.0\\.0\\.1:${port}.*cannot be reached.*storage\\.s3Endpoint`));
    assert.ok(Date.now() - started < 60_000, 'the start did not hang');
  });

  it('wrong credentials stop the start with a message about them', async () => {
    const settings = s3TestSettings();
    await assert.rejects(startTestServer('sqlite', { storage: { ...s3StorageOverrides(settings), s3AccessKeyId: 'wrongkey', s3SecretAccessKey: 'wrongsecret' } }), /access is denied: check the credentials/);
  });

  it('the s3 driver without a bucket is refused by the configuration check', async () => {
    await assert.rejects(startTestServer('sqlite', { storage: { driver: 's3' } }), /s3Bucket.*required when storage.driver is "s3"/s);
  });
});

describe('S3 storage: connections to the store', () => {
  it('streams more blobs at once than the AWS SDK\'s default 50 sockets (a rollout to many clients does not queue)', async (t) => {
    const settings = s3TestSettings();
    const store = new S3BlobStore(settings);
    t.after(async () => {
      store.close();
      await emptyPrefix(settings);
    });
    await store.init();
    const bytes = randomBlob(256 * 1024);
    const digest = digestOf(bytes);
    await store.createUpload('many-readers');
    await store.appendUpload('many-readers', 0, Readable.from([bytes]));
    await store.sealUpload('many-readers', bytes.length);
    await store.commitUpload('many-readers', bytes.length, parseDigest(digest));
    // Every stream holds its connection until it is read to the end, as a slow client's pull does:
    // with the SDK's default agent the 51st read waits for a socket that never comes back here.
    const readers = 80;
    const opened: Readable[] = [];
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`only ${opened.length} of ${readers} reads started within 60 s: the S3 client caps its connections`)), 60_000);
    });
    try {
      await Promise.race([deadline, Promise.all(Array.from({ length: readers }, async () => {
        opened.push((await store.read(digest)) as Readable);
      }))]);
      assert.equal(opened.length, readers);
      // And each delivers the whole blob.
      const sizes = await Promise.all(opened.map(async (stream) => {
        let n = 0;
        for await (const chunk of stream) n += (chunk as Buffer).length;
        return n;
      }));
      assert.deepEqual(new Set(sizes), new Set([bytes.length]));
    } finally {
      clearTimeout(timer);
      for (const stream of opened) stream.destroy();
    }
  });
});
