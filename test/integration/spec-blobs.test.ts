import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { engines, startTestServer, type TestServer } from '../support/server.js';
import { digestOf, expectError, pushBlob, randomBlob, repoName } from '../support/http.js';

// OCI Distribution Spec v1.1: pulling blobs (end-2), deleting blobs (end-10).
for (const engine of engines()) {
  describe(`blobs: GET, HEAD, DELETE [${engine}]`, () => {
    let server: TestServer;
    let noDelete: TestServer;
    before(async () => {
      [server, noDelete] = await Promise.all([
        startTestServer(engine),
        startTestServer(engine, { registry: { deleteEnabled: false } }),
      ]);
    });
    after(async () => { await Promise.all([server.stop(), noDelete.stop()]); });

    it('GET answers the exact bytes with Docker-Content-Digest, Content-Length, Content-Type and ETag', async () => {
      const name = repoName();
      const data = randomBlob(3000);
      const digest = await pushBlob(server.url, name, data);
      const res = await fetch(`${server.url}/v2/${name}/blobs/${digest}`);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('docker-content-digest'), digest);
      assert.equal(res.headers.get('content-length'), String(data.length));
      assert.equal(res.headers.get('content-type'), 'application/octet-stream');
      assert.equal(res.headers.get('etag'), `"${digest}"`);
      assert.ok(Buffer.from(await res.arrayBuffer()).equals(data));
    });

    it('HEAD answers the same headers and no body', async () => {
      const name = repoName();
      const data = randomBlob(777);
      const digest = await pushBlob(server.url, name, data);
      const res = await fetch(`${server.url}/v2/${name}/blobs/${digest}`, { method: 'HEAD' });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('docker-content-digest'), digest);
      assert.equal(res.headers.get('content-length'), '777');
      assert.equal(res.headers.get('etag'), `"${digest}"`);
      assert.equal((await res.arrayBuffer()).byteLength, 0);
    });

    it('serves an empty blob', async () => {
      const name = repoName();
      const digest = await pushBlob(server.url, name, Buffer.alloc(0));
      assert.equal(digest, 'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
      const res = await fetch(`${server.url}/v2/${name}/blobs/${digest}`);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-length'), '0');
      assert.equal((await res.arrayBuffer()).byteLength, 0);
    });

    describe('Range requests', () => {
      let name: string;
      let data: Buffer;
      let digest: string;
      before(async () => {
        name = repoName();
        data = randomBlob(1000);
        digest = await pushBlob(server.url, name, data);
      });
      const get = (range: string): Promise<Response> => fetch(`${server.url}/v2/${name}/blobs/${digest}`, { headers: { Range: range } });

      it('advertises Accept-Ranges: bytes', async () => {
        const res = await fetch(`${server.url}/v2/${name}/blobs/${digest}`, { method: 'HEAD' });
        assert.equal(res.headers.get('accept-ranges'), 'bytes');
      });

      it('bytes=first-last answers 206 with that slice and Content-Range', async () => {
        const res = await get('bytes=10-19');
        assert.equal(res.status, 206);
        assert.equal(res.headers.get('content-range'), 'bytes 10-19/1000');
        assert.equal(res.headers.get('content-length'), '10');
        assert.equal(res.headers.get('docker-content-digest'), digest);
        assert.ok(Buffer.from(await res.arrayBuffer()).equals(data.subarray(10, 20)));
      });

      it('an open range bytes=first- runs to the end', async () => {
        const res = await get('bytes=990-');
        assert.equal(res.status, 206);
        assert.equal(res.headers.get('content-range'), 'bytes 990-999/1000');
        assert.ok(Buffer.from(await res.arrayBuffer()).equals(data.subarray(990)));
      });

      it('a suffix range bytes=-n answers the last n bytes', async () => {
        const res = await get('bytes=-5');
        assert.equal(res.status, 206);
        assert.equal(res.headers.get('content-range'), 'bytes 995-999/1000');
        assert.ok(Buffer.from(await res.arrayBuffer()).equals(data.subarray(995)));
      });

      it('a last byte past the end is clamped to the blob', async () => {
        const res = await get('bytes=900-5000');
        assert.equal(res.status, 206);
        assert.equal(res.headers.get('content-range'), 'bytes 900-999/1000');
        assert.equal((await res.arrayBuffer()).byteLength, 100);
      });

      it('a suffix longer than the blob answers the whole blob as 206', async () => {
        const res = await get('bytes=-5000');
        assert.equal(res.status, 206);
        assert.equal(res.headers.get('content-range'), 'bytes 0-999/1000');
        assert.ok(Buffer.from(await res.arrayBuffer()).equals(data));
      });

      for (const range of ['bytes=1000-', 'bytes=5000-6000', 'bytes=20-10', 'bytes=-0', 'bytes=abc']) {
        it(`an unsatisfiable range (${range}) answers 416 with Content-Range: bytes */size`, async () => {
          const res = await get(range);
          assert.equal(res.status, 416);
          assert.equal(res.headers.get('content-range'), 'bytes */1000');
          await res.arrayBuffer();
        });
      }
    });

    it('a Range in a unit other than bytes is ignored (RFC 9110): the whole blob, 200', async () => {
      const name = repoName();
      const data = randomBlob(50);
      const digest = await pushBlob(server.url, name, data);
      const res = await fetch(`${server.url}/v2/${name}/blobs/${digest}`, { headers: { Range: 'pages=1-2' } });
      assert.equal(res.status, 200);
      assert.ok(Buffer.from(await res.arrayBuffer()).equals(data));
    });

    it('an unknown blob is 404 BLOB_UNKNOWN, for GET and (without body) HEAD', async () => {
      const name = repoName();
      await pushBlob(server.url, name, randomBlob(10));
      const missing = digestOf(randomBlob(10));
      const body = await expectError(await fetch(`${server.url}/v2/${name}/blobs/${missing}`), 404, 'BLOB_UNKNOWN');
      assert.equal((body.errors[0]!.detail as { digest: string }).digest, missing);
      const head = await fetch(`${server.url}/v2/${name}/blobs/${missing}`, { method: 'HEAD' });
      assert.equal(head.status, 404);
      assert.equal((await head.arrayBuffer()).byteLength, 0);
    });

    it('a blob in an unknown repository is 404 BLOB_UNKNOWN', async () => {
      await expectError(await fetch(`${server.url}/v2/${repoName('nowhere')}/blobs/${digestOf('x')}`), 404, 'BLOB_UNKNOWN');
    });

    for (const bad of ['sha256:abc', 'sha256:' + 'g'.repeat(64), 'md5:d41d8cd98f00b204e9800998ecf8427e', 'sha256' + 'a'.repeat(64), 'SHA256:' + 'a'.repeat(64), 'sha256:' + 'A'.repeat(64)]) {
      it(`a malformed digest (${bad.slice(0, 20)}…) is 400 DIGEST_INVALID`, async () => {
        const name = repoName();
        await expectError(await fetch(`${server.url}/v2/${name}/blobs/${bad}`), 400, 'DIGEST_INVALID');
      });
    }

    it('a blob pushed to one repository is 404 in another, even though its bytes are stored', async () => {
      const a = repoName('tenant-a');
      const b = repoName('tenant-b');
      const data = randomBlob(64);
      const digest = await pushBlob(server.url, a, data);
      await pushBlob(server.url, b, randomBlob(8)); // b exists, just not with this blob
      assert.equal((await fetch(`${server.url}/v2/${a}/blobs/${digest}`, { method: 'HEAD' })).status, 200);
      const head = await fetch(`${server.url}/v2/${b}/blobs/${digest}`, { method: 'HEAD' });
      assert.equal(head.status, 404);
      await expectError(await fetch(`${server.url}/v2/${b}/blobs/${digest}`), 404, 'BLOB_UNKNOWN');
    });

    it('DELETE answers 202, then the blob is 404 there but still served by other repositories holding it', async () => {
      const a = repoName();
      const b = repoName();
      const data = randomBlob(100);
      const digest = await pushBlob(server.url, a, data);
      await pushBlob(server.url, b, data);
      const del = await fetch(`${server.url}/v2/${a}/blobs/${digest}`, { method: 'DELETE' });
      assert.equal(del.status, 202);
      await expectError(await fetch(`${server.url}/v2/${a}/blobs/${digest}`), 404, 'BLOB_UNKNOWN');
      const other = await fetch(`${server.url}/v2/${b}/blobs/${digest}`);
      assert.equal(other.status, 200);
      assert.ok(Buffer.from(await other.arrayBuffer()).equals(data));
      // Deleting again: the blob is not found.
      await expectError(await fetch(`${server.url}/v2/${a}/blobs/${digest}`, { method: 'DELETE' }), 404, 'BLOB_UNKNOWN');
    });

    it('DELETE of an unknown blob is 404 BLOB_UNKNOWN, of a malformed digest 400 DIGEST_INVALID', async () => {
      const name = repoName();
      await pushBlob(server.url, name, randomBlob(4));
      await expectError(await fetch(`${server.url}/v2/${name}/blobs/${digestOf('nope')}`, { method: 'DELETE' }), 404, 'BLOB_UNKNOWN');
      await expectError(await fetch(`${server.url}/v2/${name}/blobs/sha256:nope`, { method: 'DELETE' }), 400, 'DIGEST_INVALID');
    });

    it('with deletion disabled, DELETE answers 405 UNSUPPORTED and the blob stays', async () => {
      const name = repoName();
      const digest = await pushBlob(noDelete.url, name, randomBlob(10));
      await expectError(await fetch(`${noDelete.url}/v2/${name}/blobs/${digest}`, { method: 'DELETE' }), 405, 'UNSUPPORTED');
      assert.equal((await fetch(`${noDelete.url}/v2/${name}/blobs/${digest}`, { method: 'HEAD' })).status, 200);
    });

    it('methods a blob does not support answer 405 UNSUPPORTED', async () => {
      const name = repoName();
      const digest = await pushBlob(server.url, name, randomBlob(10));
      const res = await fetch(`${server.url}/v2/${name}/blobs/${digest}`, { method: 'PUT', body: 'x' });
      await expectError(res, 405, 'UNSUPPORTED');
      assert.match(res.headers.get('allow') ?? '', /GET/);
    });
  });
}
