import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { engines, startTestServer, type TestServer } from '../support/server.js';
import { digestOf, eventually, expectError, pushBlob, randomBlob, rawRequest, repoName, truncatedRequest } from '../support/http.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

// OCI Distribution Spec v1.1: pushing blobs (end-4a, end-4b, end-5, end-6, end-11, end-13, end-14).
for (const engine of engines()) {
  describe(`blob uploads [${engine}]`, () => {
    let server: TestServer;
    before(async () => { server = await startTestServer(engine); });
    after(async () => { await server.stop(); });

    const url = (location: string): string => (location.startsWith('http') ? location : `${server.url}${location}`);
    const withDigest = (location: string, digest: string): string => `${url(location)}${location.includes('?') ? '&' : '?'}digest=${encodeURIComponent(digest)}`;
    const stagedIds = (): string[] => readdirSync(path.join(server.dataDir, 'uploads')).sort();

    async function startUpload(name: string): Promise<{ location: string; id: string }> {
      const res = await fetch(`${server.url}/v2/${name}/blobs/uploads/`, { method: 'POST', headers: { 'Content-Length': '0' } });
      assert.equal(res.status, 202);
      const location = res.headers.get('location');
      assert.ok(location);
      return { location, id: res.headers.get('docker-upload-uuid')! };
    }

    async function patch(location: string, chunk: Buffer, range?: string): Promise<Response> {
      const headers: Record<string, string> = { 'Content-Type': 'application/octet-stream', 'Content-Length': String(chunk.length) };
      if (range) headers['Content-Range'] = range;
      return fetch(url(location), { method: 'PATCH', headers, body: chunk });
    }

    async function status(location: string): Promise<Response> {
      return fetch(url(location));
    }

    async function expectBlob(name: string, digest: string, data: Buffer): Promise<void> {
      const res = await fetch(`${server.url}/v2/${name}/blobs/${digest}`);
      assert.equal(res.status, 200, `blob ${digest} in ${name}`);
      assert.equal(res.headers.get('docker-content-digest'), digest);
      assert.ok(Buffer.from(await res.arrayBuffer()).equals(data), 'blob bytes');
    }

    async function expectNoBlob(name: string, digest: string): Promise<void> {
      const res = await fetch(`${server.url}/v2/${name}/blobs/${digest}`, { method: 'HEAD' });
      assert.equal(res.status, 404, `blob ${digest} must not be visible in ${name}`);
    }

    it('POST starts a session: 202, Location, Docker-Upload-UUID, Range 0-0, Content-Length 0', async () => {
      const name = repoName();
      const res = await fetch(`${server.url}/v2/${name}/blobs/uploads/`, { method: 'POST', headers: { 'Content-Length': '0' } });
      assert.equal(res.status, 202);
      const id = res.headers.get('docker-upload-uuid') ?? '';
      assert.match(id, UUID);
      assert.equal(res.headers.get('location'), `/v2/${name}/blobs/uploads/${id}`);
      assert.equal(res.headers.get('range'), '0-0');
      assert.equal(res.headers.get('content-length'), '0');
      assert.ok(stagedIds().includes(id), 'the staged upload exists');
      const second = await startUpload(name);
      assert.notEqual(second.id, id, 'every POST opens its own session');
    });

    it('single POST ?digest= pushes a whole blob: 201, Location of the blob, Docker-Content-Digest', async () => {
      const name = repoName();
      const data = randomBlob(5000);
      const digest = digestOf(data);
      const res = await fetch(`${server.url}/v2/${name}/blobs/uploads/?digest=${digest}`, { method: 'POST', headers: { 'Content-Type': 'application/octet-stream' }, body: data });
      assert.equal(res.status, 201);
      assert.equal(res.headers.get('location'), `/v2/${name}/blobs/${digest}`);
      assert.equal(res.headers.get('docker-content-digest'), digest);
      await expectBlob(name, digest, data);
    });

    it('single POST with a digest that does not match is 400 DIGEST_INVALID and leaves nothing behind', async () => {
      const name = repoName();
      const data = randomBlob(100);
      const claimed = digestOf(randomBlob(100));
      const before = stagedIds();
      const res = await fetch(`${server.url}/v2/${name}/blobs/uploads/?digest=${claimed}`, { method: 'POST', body: data });
      await expectError(res, 400, 'DIGEST_INVALID');
      await expectNoBlob(name, claimed);
      await expectNoBlob(name, digestOf(data));
      assert.deepEqual(stagedIds(), before, 'no staged file left');
    });

    it('single POST with a malformed digest is 400 DIGEST_INVALID', async () => {
      const res = await fetch(`${server.url}/v2/${repoName()}/blobs/uploads/?digest=sha256:1234`, { method: 'POST', body: 'abc' });
      await expectError(res, 400, 'DIGEST_INVALID');
    });

    it('POST then PUT with the whole body: 201 with Location and Docker-Content-Digest', async () => {
      const name = repoName();
      const { location } = await startUpload(name);
      const data = randomBlob(4096);
      const digest = digestOf(data);
      const res = await fetch(withDigest(location, digest), { method: 'PUT', headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': String(data.length) }, body: data });
      assert.equal(res.status, 201);
      assert.equal(res.headers.get('location'), `/v2/${name}/blobs/${digest}`);
      assert.equal(res.headers.get('docker-content-digest'), digest);
      await expectBlob(name, digest, data);
      await expectError(await status(location), 404, 'BLOB_UPLOAD_UNKNOWN');
    });

    it('chunked PATCH with Content-Range: each chunk 202 with Location and Range 0-<end>, then PUT with no body completes', async () => {
      const name = repoName();
      const { location, id } = await startUpload(name);
      const data = randomBlob(3000);
      let loc = location;
      for (const [start, end] of [[0, 999], [1000, 1999], [2000, 2999]] as const) {
        const res = await patch(loc, data.subarray(start, end + 1), `${start}-${end}`);
        assert.equal(res.status, 202);
        assert.equal(res.headers.get('range'), `0-${end}`);
        assert.equal(res.headers.get('docker-upload-uuid'), id);
        loc = res.headers.get('location')!;
        assert.ok(loc);
      }
      await expectNoBlob(name, digestOf(data));
      const done = await fetch(withDigest(loc, digestOf(data)), { method: 'PUT', headers: { 'Content-Length': '0' } });
      assert.equal(done.status, 201);
      assert.equal(done.headers.get('docker-content-digest'), digestOf(data));
      await expectBlob(name, digestOf(data), data);
      assert.ok(!stagedIds().includes(id), 'the staged file is gone once committed');
    });

    it('an out-of-order chunk is 416 with the current Range, Location and Docker-Upload-UUID; the upload continues', async () => {
      const name = repoName();
      const { location, id } = await startUpload(name);
      const data = randomBlob(300);
      assert.equal((await patch(location, data.subarray(0, 100), '0-99')).status, 202);

      const gap = await patch(location, data.subarray(200, 300), '200-299');
      assert.equal(gap.status, 416);
      assert.equal(gap.headers.get('range'), '0-99');
      assert.equal(gap.headers.get('location'), `/v2/${name}/blobs/uploads/${id}`);
      assert.equal(gap.headers.get('docker-upload-uuid'), id);
      await gap.arrayBuffer();

      const overlap = await patch(location, data.subarray(50, 150), '50-149');
      assert.equal(overlap.status, 416);
      assert.equal(overlap.headers.get('range'), '0-99');
      await overlap.arrayBuffer();

      const again = await patch(location, data.subarray(0, 100), '0-99');
      assert.equal(again.status, 416, 'a repeated first chunk overlaps too');
      await again.arrayBuffer();

      const st = await status(location);
      assert.equal(st.status, 204);
      assert.equal(st.headers.get('range'), '0-99', 'refused chunks changed nothing');

      const next = await patch(location, data.subarray(100, 300), '100-299');
      assert.equal(next.status, 202);
      assert.equal(next.headers.get('range'), '0-299');
      const done = await fetch(withDigest(location, digestOf(data)), { method: 'PUT' });
      assert.equal(done.status, 201);
      await expectBlob(name, digestOf(data), data);
    });

    it('a malformed Content-Range is 416', async () => {
      const { location } = await startUpload(repoName());
      for (const range of ['bytes 0-9/*x', 'abc', '9-']) {
        const res = await patch(location, randomBlob(10), range);
        assert.equal(res.status, 416, `Content-Range ${range}`);
        await res.arrayBuffer();
      }
    });

    it('a Content-Range whose length differs from Content-Length is refused and stores nothing', async () => {
      const name = repoName();
      const { location } = await startUpload(name);
      const res = await patch(location, randomBlob(50), '0-99');
      assert.ok(res.status === 416 || res.status === 400, `status ${res.status}`);
      await res.arrayBuffer();
      const st = await status(location);
      assert.equal(st.headers.get('range'), '0-0');
    });

    it('streamed PATCH without Content-Range or Content-Length (chunked transfer) appends whatever arrives', async () => {
      const name = repoName();
      const { location } = await startUpload(name);
      const parts = [randomBlob(70_000), randomBlob(12_345), randomBlob(1)];
      const streamed = (chunks: Buffer[]): Promise<{ status: number; range: string | undefined; location: string | undefined }> => new Promise((resolve, reject) => {
        const req = http.request(url(location), { method: 'PATCH', headers: { 'Content-Type': 'application/octet-stream' } }, (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode ?? 0, range: res.headers.range, location: res.headers.location }));
        });
        req.on('error', reject);
        for (const c of chunks) req.write(c);
        req.end();
      });
      const first = await streamed(parts.slice(0, 2));
      assert.equal(first.status, 202);
      assert.equal(first.range, `0-${70_000 + 12_345 - 1}`);
      const second = await streamed(parts.slice(2));
      assert.equal(second.status, 202);
      assert.equal(second.range, `0-${70_000 + 12_345}`);
      const data = Buffer.concat(parts);
      const done = await fetch(withDigest(second.location!, digestOf(data)), { method: 'PUT' });
      assert.equal(done.status, 201);
      await expectBlob(name, digestOf(data), data);
    });

    it('PUT can carry the final chunk, with or without Content-Range', async () => {
      const name = repoName();
      const data = randomBlob(2000);
      const withRange = await startUpload(name);
      assert.equal((await patch(withRange.location, data.subarray(0, 1500), '0-1499')).status, 202);
      const last = data.subarray(1500);
      const res = await fetch(withDigest(withRange.location, digestOf(data)), {
        method: 'PUT', headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': '1500-1999', 'Content-Length': '500' }, body: last,
      });
      assert.equal(res.status, 201);
      await expectBlob(name, digestOf(data), data);

      const other = randomBlob(900);
      const without = await startUpload(name);
      assert.equal((await patch(without.location, other.subarray(0, 400))).status, 202);
      const res2 = await fetch(withDigest(without.location, digestOf(other)), { method: 'PUT', body: other.subarray(400) });
      assert.equal(res2.status, 201);
      await expectBlob(name, digestOf(other), other);
    });

    it('a final chunk in PUT that does not continue the upload is 416 and the upload survives', async () => {
      const name = repoName();
      const data = randomBlob(200);
      const { location } = await startUpload(name);
      assert.equal((await patch(location, data.subarray(0, 100), '0-99')).status, 202);
      const res = await fetch(withDigest(location, digestOf(data)), { method: 'PUT', headers: { 'Content-Range': '150-199' }, body: data.subarray(150) });
      assert.equal(res.status, 416);
      assert.equal(res.headers.get('range'), '0-99');
      await res.arrayBuffer();
      await expectNoBlob(name, digestOf(data));
      assert.equal((await status(location)).status, 204);
    });

    it('PUT with a wrong digest is 400 DIGEST_INVALID: no blob is visible and the session is gone', async () => {
      const name = repoName();
      const data = randomBlob(1000);
      const { location, id } = await startUpload(name);
      assert.equal((await patch(location, data, '0-999')).status, 202);
      const claimed = digestOf(randomBlob(1000));
      await expectError(await fetch(withDigest(location, claimed), { method: 'PUT' }), 400, 'DIGEST_INVALID');
      await expectNoBlob(name, claimed);
      await expectNoBlob(name, digestOf(data));
      await expectError(await status(location), 404, 'BLOB_UPLOAD_UNKNOWN');
      assert.ok(!stagedIds().includes(id), 'the staged bytes were discarded');
    });

    it('PUT without a digest does not complete the upload (400 DIGEST_INVALID); a later PUT with it does', async () => {
      const name = repoName();
      const data = randomBlob(256);
      const { location } = await startUpload(name);
      assert.equal((await patch(location, data, '0-255')).status, 202);
      await expectError(await fetch(url(location), { method: 'PUT' }), 400, 'DIGEST_INVALID');
      const st = await status(location);
      assert.equal(st.status, 204);
      assert.equal(st.headers.get('range'), '0-255');
      const done = await fetch(withDigest(location, digestOf(data)), { method: 'PUT' });
      assert.equal(done.status, 201);
      await expectBlob(name, digestOf(data), data);
    });

    it('GET on the upload URL answers 204 with Location, Range and Docker-Upload-UUID', async () => {
      const name = repoName();
      const { location, id } = await startUpload(name);
      const fresh = await status(location);
      assert.equal(fresh.status, 204);
      assert.equal(fresh.headers.get('range'), '0-0');
      assert.equal(fresh.headers.get('location'), location);
      assert.equal(fresh.headers.get('docker-upload-uuid'), id);
      assert.equal((await patch(location, randomBlob(42), '0-41')).status, 202);
      const st = await status(location);
      assert.equal(st.status, 204);
      assert.equal(st.headers.get('range'), '0-41');
    });

    it('DELETE cancels the upload: 204, then the session is 404 BLOB_UPLOAD_UNKNOWN and its staged data gone', async () => {
      const name = repoName();
      const data = randomBlob(100);
      const { location, id } = await startUpload(name);
      assert.equal((await patch(location, data, '0-99')).status, 202);
      assert.ok(stagedIds().includes(id));
      const del = await fetch(url(location), { method: 'DELETE' });
      assert.equal(del.status, 204);
      await expectError(await status(location), 404, 'BLOB_UPLOAD_UNKNOWN');
      await expectError(await patch(location, data, '100-199'), 404, 'BLOB_UPLOAD_UNKNOWN');
      await expectError(await fetch(withDigest(location, digestOf(data)), { method: 'PUT' }), 404, 'BLOB_UPLOAD_UNKNOWN');
      await expectError(await fetch(url(location), { method: 'DELETE' }), 404, 'BLOB_UPLOAD_UNKNOWN');
      assert.ok(!stagedIds().includes(id), 'staged file removed');
      await expectNoBlob(name, digestOf(data));
    });

    it('an unknown upload id is 404 BLOB_UPLOAD_UNKNOWN for GET, PATCH, PUT and DELETE', async () => {
      const name = repoName();
      await startUpload(name);
      for (const id of ['0b1c5f8e-9d1a-4c1e-8a8e-2f6f0d6b9a11', 'not-an-upload', 'x'.repeat(300)]) {
        const u = `${server.url}/v2/${name}/blobs/uploads/${id}`;
        await expectError(await fetch(u), 404, 'BLOB_UPLOAD_UNKNOWN');
        await expectError(await fetch(u, { method: 'PATCH', body: 'abc' }), 404, 'BLOB_UPLOAD_UNKNOWN');
        await expectError(await fetch(`${u}?digest=${digestOf('abc')}`, { method: 'PUT', body: 'abc' }), 404, 'BLOB_UPLOAD_UNKNOWN');
        await expectError(await fetch(u, { method: 'DELETE' }), 404, 'BLOB_UPLOAD_UNKNOWN');
      }
    });

    it('an upload belongs to its repository: its id under another name is 404', async () => {
      const a = repoName();
      const b = repoName();
      const { id } = await startUpload(a);
      await startUpload(b);
      await expectError(await fetch(`${server.url}/v2/${b}/blobs/uploads/${id}`), 404, 'BLOB_UPLOAD_UNKNOWN');
      await expectError(await fetch(`${server.url}/v2/${b}/blobs/uploads/${id}`, { method: 'PATCH', body: 'x' }), 404, 'BLOB_UPLOAD_UNKNOWN');
      assert.equal((await fetch(`${server.url}/v2/${a}/blobs/uploads/${id}`)).status, 204);
    });

    it('cross-repository mount: 201 with Location and Docker-Content-Digest, and the blob is then served by the target', async () => {
      const from = repoName('mount-src');
      const to = repoName('mount-dst');
      const data = randomBlob(333);
      const digest = await pushBlob(server.url, from, data);
      await expectNoBlob(to, digest);
      const res = await fetch(`${server.url}/v2/${to}/blobs/uploads/?mount=${digest}&from=${from}`, { method: 'POST', headers: { 'Content-Length': '0' } });
      assert.equal(res.status, 201);
      assert.equal(res.headers.get('location'), `/v2/${to}/blobs/${digest}`);
      assert.equal(res.headers.get('docker-content-digest'), digest);
      await expectBlob(to, digest, data);
    });

    it('a mount of a blob that is not in `from` falls back to a new upload session (202)', async () => {
      const from = repoName('mount-src');
      const to = repoName('mount-dst');
      await pushBlob(server.url, from, randomBlob(10));
      const elsewhere = repoName('mount-other');
      const foreign = await pushBlob(server.url, elsewhere, randomBlob(20));
      for (const query of [`mount=${foreign}&from=${from}`, `mount=${foreign}&from=${repoName('missing')}`, `mount=${foreign}&from=Not..Valid`]) {
        const res = await fetch(`${server.url}/v2/${to}/blobs/uploads/?${query}`, { method: 'POST', headers: { 'Content-Length': '0' } });
        assert.equal(res.status, 202, query);
        const location = res.headers.get('location')!;
        assert.match(location, new RegExp(`^/v2/${to}/blobs/uploads/`));
        assert.equal((await status(location)).status, 204, 'the fallback session is usable');
        await expectNoBlob(to, foreign);
      }
    });

    it('sha512 digests: single POST, chunked upload and pull by sha512', async () => {
      const name = repoName();
      const data = randomBlob(2500);
      const digest = await pushBlob(server.url, name, data, 'sha512');
      assert.match(digest, /^sha512:[0-9a-f]{128}$/);
      await expectBlob(name, digest, data);

      const other = randomBlob(1800);
      const { location } = await startUpload(name);
      assert.equal((await patch(location, other.subarray(0, 1000), '0-999')).status, 202);
      assert.equal((await patch(location, other.subarray(1000), '1000-1799')).status, 202);
      const d512 = digestOf(other, 'sha512');
      const res = await fetch(withDigest(location, d512), { method: 'PUT' });
      assert.equal(res.status, 201);
      assert.equal(res.headers.get('docker-content-digest'), d512);
      await expectBlob(name, d512, other);
      const wrong = await startUpload(name);
      assert.equal((await patch(wrong.location, other, '0-1799')).status, 202);
      await expectError(await fetch(withDigest(wrong.location, digestOf(randomBlob(5), 'sha512')), { method: 'PUT' }), 400, 'DIGEST_INVALID');
    });

    describe('interrupted requests', () => {
      const head = (method: string, target: string, headers: Record<string, string | number>): string => `${method} ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;

      it('a PATCH body shorter than its Content-Length (then EOF) stores nothing; the upload resumes from the reported Range', async () => {
        const name = repoName();
        const data = randomBlob(300);
        const { location } = await startUpload(name);
        assert.equal((await patch(location, data.subarray(0, 100), '0-99')).status, 202);
        const reply = await truncatedRequest(server.url, head('PATCH', location, { 'Content-Type': 'application/octet-stream', 'Content-Range': '100-199', 'Content-Length': 100 }), data.subarray(100, 140), 'end');
        assert.doesNotMatch(reply, /^HTTP\/1\.1 202/, 'a truncated chunk is never accepted');
        const st = await status(location);
        assert.equal(st.status, 204);
        const range = st.headers.get('range')!;
        assert.equal(range, '0-99', 'only whole chunks count');
        const resumeAt = Number(range.split('-')[1]) + 1;
        const res = await patch(location, data.subarray(resumeAt), `${resumeAt}-299`);
        assert.equal(res.status, 202);
        assert.equal(res.headers.get('range'), '0-299');
        assert.equal((await fetch(withDigest(location, digestOf(data)), { method: 'PUT' })).status, 201);
        await expectBlob(name, digestOf(data), data);
      });

      it('a truncated monolithic PUT leaves no visible blob and the same session can be completed', async () => {
        const name = repoName();
        const data = randomBlob(1000);
        const digest = digestOf(data);
        const { location } = await startUpload(name);
        const target = `${location}?digest=${digest}`;
        await truncatedRequest(server.url, head('PUT', target, { 'Content-Type': 'application/octet-stream', 'Content-Length': 1000 }), data.subarray(0, 400), 'end');
        await expectNoBlob(name, digest);
        const st = await status(location);
        assert.equal(st.status, 204);
        assert.equal(st.headers.get('range'), '0-0');
        const res = await fetch(withDigest(location, digest), { method: 'PUT', body: data });
        assert.equal(res.status, 201);
        await expectBlob(name, digest, data);
      });

      it('a truncated single POST ?digest= leaves no blob and no staged file', async () => {
        const name = repoName();
        await startUpload(name); // the repository exists
        const data = randomBlob(1000);
        const digest = digestOf(data);
        const before = stagedIds();
        await truncatedRequest(server.url, head('POST', `/v2/${name}/blobs/uploads/?digest=${digest}`, { 'Content-Type': 'application/octet-stream', 'Content-Length': 1000 }), data.subarray(0, 10), 'end');
        await expectNoBlob(name, digest);
        await eventually(async () => stagedIds().join() === before.join(), 'the staged file of the failed POST is removed');
      });

      it('a client that disconnects mid-PATCH (connection reset) loses only that chunk', async () => {
        const name = repoName();
        const data = randomBlob(64 * 1024);
        const { location } = await startUpload(name);
        assert.equal((await patch(location, data.subarray(0, 1024), '0-1023')).status, 202);
        await truncatedRequest(server.url, head('PATCH', location, { 'Content-Type': 'application/octet-stream', 'Content-Range': `1024-${data.length - 1}`, 'Content-Length': data.length - 1024 }), randomBlob(30_000), 'destroy');
        // (Different bytes than the real chunk: a late write of the lost chunk must not land in the blob.)
        // A streamed PATCH (no length) cut off mid-way: nothing of it may count either.
        await truncatedRequest(server.url, head('PATCH', location, { 'Content-Type': 'application/octet-stream', 'Transfer-Encoding': 'chunked' }), Buffer.concat([Buffer.from('2000\r\n'), randomBlob(0x2000), Buffer.from('\r\n')]), 'destroy');
        await eventually(async () => (await status(location)).headers.get('range') === '0-1023', 'the upload is back at 0-1023');
        const res = await patch(location, data.subarray(1024), `1024-${data.length - 1}`);
        assert.equal(res.status, 202);
        assert.equal(res.headers.get('range'), `0-${data.length - 1}`);
        assert.equal((await fetch(withDigest(location, digestOf(data)), { method: 'PUT' })).status, 201);
        // Read back on a connection of its own that closes afterwards: under load, a GET served on
        // the keep-alive connection here was seen never to finish on the server side (reported),
        // which holds up server shutdown until the connection is reaped (~70 s).
        const pulled = await rawRequest(server.url, 'GET', `/v2/${name}/blobs/${digestOf(data)}`, { Connection: 'close' });
        assert.equal(pulled.status, 200);
        assert.ok(pulled.body.equals(data), 'blob bytes');
      });
    });
  });

  describe(`abandoned uploads expire [${engine}]`, () => {
    let server: TestServer;
    before(async () => { server = await startTestServer(engine, { registry: { uploadExpiry: 0.3 } }); });
    after(async () => { await server.stop(); });

    it('purgeExpired removes sessions untouched past registry.uploadExpiry, and their staged files; fresh ones stay', async () => {
      const name = repoName();
      const post = async (): Promise<string> => {
        const res = await fetch(`${server.url}/v2/${name}/blobs/uploads/`, { method: 'POST' });
        assert.equal(res.status, 202);
        return res.headers.get('location')!;
      };
      const old = await post();
      const oldId = old.split('/').pop()!;
      assert.equal((await fetch(`${server.url}${old}`, { method: 'PATCH', headers: { 'Content-Range': '0-9' }, body: randomBlob(10) })).status, 202);
      const staged = path.join(server.dataDir, 'uploads', oldId);
      assert.ok(existsSync(staged));
      await new Promise((r) => setTimeout(r, 450));
      const fresh = await post();
      const purged = await server.registry.uploads.purgeExpired();
      assert.ok(purged >= 1, `purged ${purged}`);
      await expectError(await fetch(`${server.url}${old}`), 404, 'BLOB_UPLOAD_UNKNOWN');
      await expectError(await fetch(`${server.url}${old}`, { method: 'PATCH', headers: { 'Content-Range': '10-19' }, body: randomBlob(10) }), 404, 'BLOB_UPLOAD_UNKNOWN');
      assert.ok(!existsSync(staged), 'the staged file is removed');
      assert.equal((await fetch(`${server.url}${fresh}`)).status, 204, 'a fresh session survives');
      assert.ok(existsSync(path.join(server.dataDir, 'uploads', fresh.split('/').pop()!)));
    });
  });
}
