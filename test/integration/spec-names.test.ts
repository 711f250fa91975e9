import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { engines, startTestServer, type TestServer } from '../support/server.js';
import {
  OCI_MANIFEST, assertErrorShape, digestOf, expectError, pushBlob, pushImage, putManifest, randomBlob, rawRequest, type RawResponse,
} from '../support/http.js';

function expectRawError(res: RawResponse, status: number, code: string, what: string): void {
  assert.equal(res.status, status, `${what}: ${res.status} ${res.body.toString()}`);
  assert.match(res.headers['content-type'] ?? '', /^application\/json/, what);
  const body = JSON.parse(res.body.toString()) as unknown;
  assertErrorShape(body);
  assert.equal(body.errors[0]!.code, code, what);
}

/** Every path below `dir`, for comparing what a request left on disk. */
function listTree(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).map((p) => (statSync(path.join(dir, p)).isDirectory() ? `${p}/` : p)).sort();
}

// OCI Distribution Spec v1.1: <name> and <reference> grammar, and the error body shape.
for (const engine of engines()) {
  describe(`names, tags and errors [${engine}]`, () => {
    let server: TestServer;
    let root: string;
    before(async () => {
      root = mkdtempSync(path.join(os.tmpdir(), 'wharf-names-'));
      server = await startTestServer(engine, { storage: { dataDir: path.join(root, 'data') } });
    });
    after(async () => {
      await server.stop();
      rmSync(root, { recursive: true, force: true });
    });

    it('multi-component names work end to end (push, pull, tags, catalog)', async () => {
      for (const name of ['a/b/c', 'org.example/team_one/app__x/v-1/deep--er', 'x'.repeat(100) + '/' + 'y'.repeat(100)]) {
        const image = await pushImage(server.url, name, 'v1');
        const res = await fetch(`${server.url}/v2/${name}/manifests/v1`);
        assert.equal(res.status, 200, name);
        assert.ok(Buffer.from(await res.arrayBuffer()).equals(image.bytes));
        assert.deepEqual(await (await fetch(`${server.url}/v2/${name}/tags/list`)).json(), { name, tags: ['v1'] });
        assert.equal((await fetch(`${server.url}/v2/${name}/blobs/${image.config.digest}`, { method: 'HEAD' })).status, 200);
        assert.equal((await fetch(`${server.url}/v2/${name}/referrers/${image.digest}`)).status, 200);
      }
      const catalog = await (await fetch(`${server.url}/v2/_catalog`)).json() as { repositories: string[] };
      assert.ok(catalog.repositories.includes('a/b/c'));
      assert.ok(!catalog.repositories.includes('a/b'), 'a parent path is not a repository');
    });

    it('a name that is a prefix of another is its own repository', async () => {
      const data = randomBlob(10);
      const digest = await pushBlob(server.url, 'p/q/r', data);
      assert.equal((await fetch(`${server.url}/v2/p/q/blobs/${digest}`, { method: 'HEAD' })).status, 404);
      assert.equal((await fetch(`${server.url}/v2/p/q/r/s/blobs/${digest}`, { method: 'HEAD' })).status, 404);
    });

    const invalidNames = [
      'Upper/case', 'upper/Case', '-lead', '.lead', '_lead', 'a/-b', 'trail-', 'trail.', 'a//b', 'a/b/', 'a___b', 'a..b',
      'a/../b', 'a/./b', '..', 'a%2f..%2fb', 'a%2F..%2Fb', '%2e%2e/a', 'a%20b', 'a:b', '%C3%BC', 'x'.repeat(256),
    ];
    for (const name of invalidNames) {
      it(`the name "${name.slice(0, 30)}" is 400 NAME_INVALID on every endpoint`, async () => {
        const digest = digestOf('x');
        const targets: Array<[string, string]> = [
          ['GET', `/v2/${name}/tags/list`],
          ['GET', `/v2/${name}/manifests/latest`],
          ['HEAD', `/v2/${name}/blobs/${digest}`],
          ['GET', `/v2/${name}/blobs/${digest}`],
          ['POST', `/v2/${name}/blobs/uploads/`],
          ['PUT', `/v2/${name}/manifests/latest`],
          ['DELETE', `/v2/${name}/blobs/${digest}`],
          ['GET', `/v2/${name}/referrers/${digest}`],
        ];
        for (const [method, target] of targets) {
          const res = await rawRequest(server.url, method, target, { 'Content-Type': OCI_MANIFEST }, method === 'PUT' ? Buffer.from('{}') : undefined);
          if (method === 'HEAD') assert.equal(res.status, 400, `${method} ${target}`);
          else expectRawError(res, 400, 'NAME_INVALID', `${method} ${target}`);
        }
      });
    }

    it('a 255-character name is accepted', async () => {
      const name = `${'n'.repeat(127)}/${'m'.repeat(127)}`;
      assert.equal(name.length, 255);
      await pushBlob(server.url, name, randomBlob(3));
    });

    describe('tags', () => {
      let name: string;
      let bytes: Buffer;
      before(async () => {
        name = 'tags/test';
        bytes = (await pushImage(server.url, name)).bytes;
      });

      for (const tag of ['a', 'A', '_', '0', 'v1.2.3-rc.1_build', 'x'.repeat(128), 'UPPER_lower.9-']) {
        it(`"${tag.slice(0, 30)}" is a valid tag`, async () => {
          assert.equal((await putManifest(server.url, name, tag, bytes)).status, 201);
          assert.equal((await fetch(`${server.url}/v2/${name}/manifests/${tag}`)).status, 200);
        });
      }

      for (const tag of ['x'.repeat(129), '.hidden', '-dash', 'a+b', 'a%2Fb', 'a%20b', '%2e%2e', 'tag!', '%C3%BC']) {
        it(`"${tag.slice(0, 30)}" is 400 TAG_INVALID on PUT; reading or deleting it finds nothing (404)`, async () => {
          const put = await rawRequest(server.url, 'PUT', `/v2/${name}/manifests/${tag}`, { 'Content-Type': OCI_MANIFEST }, bytes);
          expectRawError(put, 400, 'TAG_INVALID', `PUT ${tag}`);
          // Reads of a tag outside the grammar answer 404 MANIFEST_UNKNOWN (a deliberate choice, see commit 4596a12).
          expectRawError(await rawRequest(server.url, 'GET', `/v2/${name}/manifests/${tag}`), 404, 'MANIFEST_UNKNOWN', `GET ${tag}`);
          expectRawError(await rawRequest(server.url, 'DELETE', `/v2/${name}/manifests/${tag}`), 404, 'MANIFEST_UNKNOWN', `DELETE ${tag}`);
          const tags = await (await fetch(`${server.url}/v2/${name}/tags/list`)).json() as { tags: string[] };
          assert.ok(!tags.tags.includes(tag) && !tags.tags.includes(decodeURIComponent(tag)));
        });
      }

      it('a reference with a colon is a digest, and a malformed one is 400 DIGEST_INVALID', async () => {
        await expectError(await fetch(`${server.url}/v2/${name}/manifests/sha256:1234`), 400, 'DIGEST_INVALID');
        await expectError(await putManifest(server.url, name, 'tag:with:colon', bytes), 400, 'DIGEST_INVALID');
      });
    });

    it('path traversal attempts are refused and never touch the filesystem outside the data directory', async () => {
      await pushImage(server.url, 'safe/repo', 'v1'); // so uploads/ and blobs/ exist
      const before = listTree(root);
      assert.ok(before.every((p) => p.startsWith('data/') || p === 'data/'));
      const d = digestOf('x');
      const attempts: Array<[string, string]> = [
        ['POST', '/v2/../../escape/blobs/uploads/'],
        ['POST', '/v2/a/../../../escape/blobs/uploads/'],
        ['POST', '/v2/a%2f..%2f..%2fescape/blobs/uploads/'],
        ['POST', '/v2/..%2f..%2fescape/blobs/uploads/?digest=' + d],
        ['PATCH', '/v2/safe/repo/blobs/uploads/..%2f..%2f..%2fescape'],
        ['PATCH', '/v2/safe/repo/blobs/uploads/..'],
        ['PUT', `/v2/safe/repo/blobs/uploads/..%2F..%2Fescape?digest=${d}`],
        ['DELETE', '/v2/safe/repo/blobs/uploads/%2e%2e%2f%2e%2e%2fdata'],
        ['GET', '/v2/safe/repo/blobs/uploads/..%2f..%2fwharf.db'],
        ['GET', '/v2/safe/repo/blobs/sha256:..%2f..%2f..%2fescape'],
        ['GET', '/v2/safe/repo/blobs/sha256%3a..%2f..%2fescape'],
        ['GET', '/v2/safe/repo/blobs/..%2f..%2fwharf.db'],
        ['PUT', '/v2/safe/repo/manifests/..%2f..%2fescape'],
        ['GET', '/v2/safe/repo/manifests/sha256:..%2f..%2fwharf.db'],
        ['DELETE', '/v2/safe/repo/blobs/sha256:..%2f..%2fdata'],
        ['GET', '/v2/safe/repo/referrers/sha256:..%2f..%2fescape'],
        ['GET', '/v2/safe/repo/tags/list?last=..%2f..%2fescape&n=1'],
      ];
      for (const [method, target] of attempts) {
        const res = await rawRequest(server.url, method, target, { 'Content-Type': 'application/octet-stream' }, ['PATCH', 'PUT', 'POST'].includes(method) ? Buffer.from('escape!') : undefined);
        assert.ok(res.status >= 400 && res.status < 500 || (target.includes('tags/list') && res.status === 200), `${method} ${target} answered ${res.status} ${res.body.toString()}`);
        if (res.status >= 400) {
          const body = JSON.parse(res.body.toString()) as unknown;
          assertErrorShape(body);
        }
      }
      assert.deepEqual(readdirSync(root), ['data'], 'nothing written next to the data directory');
      const after = listTree(root).filter((p) => !p.startsWith('data/uploads/') && !p.startsWith('data/wharf.db'));
      assert.deepEqual(after, before.filter((p) => !p.startsWith('data/uploads/') && !p.startsWith('data/wharf.db')), 'no blob appeared');
      assert.ok(readdirSync(path.join(root, 'data', 'uploads')).every((f) => /^[0-9a-f-]{36}$/.test(f)), 'only upload ids are staged');
      // The registry still works.
      assert.equal((await fetch(`${server.url}/v2/safe/repo/manifests/v1`)).status, 200);
    });

    it('every error answers {errors:[{code,message,detail}]} as application/json', async () => {
      const name = 'errors/shape';
      const image = await pushImage(server.url, name, 'v1');
      const cases: Array<[string, RequestInit, number]> = [
        [`/v2/${name}/blobs/${digestOf('none')}`, {}, 404],
        [`/v2/${name}/blobs/sha256:bad`, {}, 400],
        [`/v2/${name}/manifests/none`, {}, 404],
        [`/v2/${name}/manifests/v1`, { method: 'PUT', body: '{', headers: { 'Content-Type': OCI_MANIFEST } }, 400],
        [`/v2/${name}/manifests/v1`, { method: 'POST' }, 405],
        [`/v2/${name}/blobs/uploads/0b1c5f8e-9d1a-4c1e-8a8e-2f6f0d6b9a11`, {}, 404],
        [`/v2/${name}/tags/list?n=-1`, {}, 400],
        [`/v2/nope/tags/list`, {}, 404],
        [`/v2/${name}/no-such-endpoint`, {}, 404],
        [`/v2/${name}/blobs/${image.config.digest}`, { headers: { Range: 'bytes=999999-' } }, 416],
        [`/v2/BAD/tags/list`, {}, 400],
        ['/v2/_catalog?n=x', {}, 400],
      ];
      for (const [target, init, status] of cases) {
        const res = await fetch(`${server.url}${target}`, init);
        const text = await res.text();
        assert.equal(res.status, status, `${target}: ${text}`);
        assert.match(res.headers.get('content-type') ?? '', /^application\/json/, target);
        const body = JSON.parse(text) as unknown;
        assertErrorShape(body);
        assert.ok(body.errors[0]!.message.length > 0, `${target} explains itself`);
        assert.equal(res.headers.get('docker-distribution-api-version'), 'registry/2.0');
      }
    });
  });
}
