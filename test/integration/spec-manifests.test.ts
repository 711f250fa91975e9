import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { engines, startTestServer, type TestServer } from '../support/server.js';
import {
  DOCKER_LIST, DOCKER_MANIFEST, OCI_CONFIG, OCI_INDEX, OCI_LAYER, OCI_MANIFEST,
  assertErrorShape, descriptor, digestOf, expectError, pushBlob, pushImage, putManifest, randomBlob, rawRequest, repoName,
} from '../support/http.js';

// OCI Distribution Spec v1.1: pulling manifests (end-3), pushing manifests (end-7), deleting (end-9).
for (const engine of engines()) {
  describe(`manifests [${engine}]`, () => {
    let server: TestServer;
    let noDelete: TestServer;
    before(async () => {
      [server, noDelete] = await Promise.all([
        startTestServer(engine),
        startTestServer(engine, { registry: { deleteEnabled: false } }),
      ]);
    });
    after(async () => { await Promise.all([server.stop(), noDelete.stop()]); });

    async function expectManifest(name: string, reference: string, bytes: Buffer, mediaType: string): Promise<void> {
      const digest = digestOf(bytes);
      const res = await fetch(`${server.url}/v2/${name}/manifests/${reference}`, { headers: { Accept: mediaType } });
      assert.equal(res.status, 200, `GET ${name}:${reference}`);
      assert.equal(res.headers.get('content-type'), mediaType);
      assert.equal(res.headers.get('content-length'), String(bytes.length));
      assert.equal(res.headers.get('docker-content-digest'), digest);
      assert.equal(res.headers.get('etag'), `"${digest}"`);
      assert.ok(Buffer.from(await res.arrayBuffer()).equals(bytes), 'the exact bytes pushed');
      const head = await fetch(`${server.url}/v2/${name}/manifests/${reference}`, { method: 'HEAD', headers: { Accept: mediaType } });
      assert.equal(head.status, 200);
      assert.equal(head.headers.get('content-type'), mediaType);
      assert.equal(head.headers.get('content-length'), String(bytes.length));
      assert.equal(head.headers.get('docker-content-digest'), digest);
      assert.equal((await head.arrayBuffer()).byteLength, 0);
    }

    /** An image manifest over blobs already in `name`, as bytes (not pushed). */
    async function manifestBytes(name: string, mediaType = OCI_MANIFEST, extra: Record<string, unknown> = {}): Promise<Buffer> {
      const config = Buffer.from(JSON.stringify({ os: 'linux', n: randomBlob(4).toString('hex') }));
      const layer = randomBlob(128);
      await pushBlob(server.url, name, config);
      await pushBlob(server.url, name, layer);
      const docker = mediaType === DOCKER_MANIFEST;
      return Buffer.from(JSON.stringify({
        schemaVersion: 2, mediaType,
        config: descriptor(docker ? 'application/vnd.docker.container.image.v1+json' : OCI_CONFIG, config),
        layers: [descriptor(docker ? 'application/vnd.docker.image.rootfs.diff.tar.gzip' : OCI_LAYER, layer)],
        ...extra,
      }));
    }

    it('PUT by tag answers 201 with Location by digest and Docker-Content-Digest; GET/HEAD by tag and digest serve the exact bytes', async () => {
      const name = repoName();
      const bytes = await manifestBytes(name);
      const digest = digestOf(bytes);
      const res = await putManifest(server.url, name, 'v1', bytes);
      assert.equal(res.status, 201);
      assert.equal(res.headers.get('location'), `/v2/${name}/manifests/${digest}`);
      assert.equal(res.headers.get('docker-content-digest'), digest);
      await expectManifest(name, 'v1', bytes, OCI_MANIFEST);
      await expectManifest(name, digest, bytes, OCI_MANIFEST);
    });

    it('PUT by digest answers 201 and creates no tag', async () => {
      const name = repoName();
      const bytes = await manifestBytes(name);
      const digest = digestOf(bytes);
      const res = await putManifest(server.url, name, digest, bytes);
      assert.equal(res.status, 201);
      assert.equal(res.headers.get('location'), `/v2/${name}/manifests/${digest}`);
      assert.equal(res.headers.get('docker-content-digest'), digest);
      await expectManifest(name, digest, bytes, OCI_MANIFEST);
      const tags = await (await fetch(`${server.url}/v2/${name}/tags/list`)).json() as { tags: string[] };
      assert.deepEqual(tags.tags, []);
    });

    it('PUT by a sha512 digest is verified with sha512', async () => {
      const name = repoName();
      const bytes = await manifestBytes(name);
      const d512 = digestOf(bytes, 'sha512');
      const res = await putManifest(server.url, name, d512, bytes);
      assert.equal(res.status, 201);
      assert.equal(res.headers.get('docker-content-digest'), d512);
      const get = await fetch(`${server.url}/v2/${name}/manifests/${d512}`);
      assert.equal(get.status, 200);
      assert.ok(Buffer.from(await get.arrayBuffer()).equals(bytes));
    });

    it('whitespace and key order are kept: the registry stores manifests byte for byte', async () => {
      const name = repoName();
      const compact = JSON.parse((await manifestBytes(name)).toString()) as Record<string, unknown>;
      const pretty = Buffer.from(`${JSON.stringify({ layers: compact.layers, config: compact.config, mediaType: compact.mediaType, schemaVersion: 2 }, null, 3)}\n\n`);
      assert.equal((await putManifest(server.url, name, 'pretty', pretty)).status, 201);
      await expectManifest(name, 'pretty', pretty, OCI_MANIFEST);
    });

    it('Content-Type parameters are ignored on PUT and not echoed on GET', async () => {
      const name = repoName();
      const bytes = await manifestBytes(name);
      assert.equal((await putManifest(server.url, name, 'p', bytes, `${OCI_MANIFEST}; charset=utf-8`)).status, 201);
      await expectManifest(name, 'p', bytes, OCI_MANIFEST);
    });

    it('re-pushing a tag moves it to the new manifest', async () => {
      const name = repoName();
      const first = await pushImage(server.url, name, 'latest');
      const second = await pushImage(server.url, name, 'latest');
      await expectManifest(name, 'latest', second.bytes, OCI_MANIFEST);
      await expectManifest(name, first.digest, first.bytes, OCI_MANIFEST);
    });

    it('an OCI image index over manifests in the repository', async () => {
      const name = repoName();
      const amd = await pushImage(server.url, name);
      const arm = await pushImage(server.url, name);
      const index = Buffer.from(JSON.stringify({
        schemaVersion: 2, mediaType: OCI_INDEX,
        manifests: [
          { mediaType: OCI_MANIFEST, digest: amd.digest, size: amd.bytes.length, platform: { architecture: 'amd64', os: 'linux' } },
          { mediaType: OCI_MANIFEST, digest: arm.digest, size: arm.bytes.length, platform: { architecture: 'arm64', os: 'linux' } },
        ],
      }));
      const res = await putManifest(server.url, name, 'multi', index, OCI_INDEX);
      assert.equal(res.status, 201);
      await expectManifest(name, 'multi', index, OCI_INDEX);
    });

    it('a Docker schema 2 manifest and a Docker manifest list', async () => {
      const name = repoName();
      const image = await pushImage(server.url, name, 'docker', { mediaType: DOCKER_MANIFEST });
      await expectManifest(name, 'docker', image.bytes, DOCKER_MANIFEST);
      const list = Buffer.from(JSON.stringify({
        schemaVersion: 2, mediaType: DOCKER_LIST,
        manifests: [{ mediaType: DOCKER_MANIFEST, digest: image.digest, size: image.bytes.length, platform: { architecture: 'amd64', os: 'linux' } }],
      }));
      const res = await putManifest(server.url, name, 'list', list, DOCKER_LIST);
      assert.equal(res.status, 201);
      await expectManifest(name, 'list', list, DOCKER_LIST);
    });

    it('Docker schema 1 manifests are refused with MANIFEST_INVALID', async () => {
      const name = repoName();
      const schema1 = { schemaVersion: 1, name, tag: 'old', architecture: 'amd64', fsLayers: [{ blobSum: digestOf('x') }], history: [{ v1Compatibility: '{}' }] };
      await expectError(await putManifest(server.url, name, 'old', schema1, 'application/vnd.docker.distribution.manifest.v1+prettyjws'), 400, 'MANIFEST_INVALID');
      await expectError(await putManifest(server.url, name, 'old', schema1, 'application/vnd.docker.distribution.manifest.v1+json'), 400, 'MANIFEST_INVALID');
      await expectError(await putManifest(server.url, name, 'old', schema1, OCI_MANIFEST), 400, 'MANIFEST_INVALID');
      await expectError(await fetch(`${server.url}/v2/${name}/manifests/old`), 404, 'MANIFEST_UNKNOWN');
    });

    describe('invalid manifests are 400 MANIFEST_INVALID and store nothing', () => {
      let name: string;
      let good: Record<string, unknown>;
      before(async () => {
        name = repoName();
        good = JSON.parse((await manifestBytes(name)).toString()) as Record<string, unknown>;
      });
      const cases: Array<[string, () => Buffer | object, string?]> = [
        ['malformed JSON', () => Buffer.from('{"schemaVersion": 2, "config": ')],
        ['a JSON array', () => Buffer.from('[]')],
        ['an empty body', () => Buffer.alloc(0)],
        ['no config', () => ({ ...good, config: undefined })],
        ['no layers', () => ({ ...good, layers: undefined })],
        ['schemaVersion 3', () => ({ ...good, schemaVersion: 3 })],
        ['a config with a malformed digest', () => ({ ...good, config: { ...(good.config as object), digest: 'sha256:zzz' } })],
        ['a layer with a negative size', () => ({ ...good, layers: [{ ...(good.layers as object[])[0], size: -1 }] })],
        ['a layer without mediaType', () => ({ ...good, layers: [{ digest: digestOf('x'), size: 1 }] })],
        ['a descriptor that is a string', () => ({ ...good, config: 'sha256:abc' })],
        ['annotations that are not strings', () => ({ ...good, annotations: { a: 1 } })],
        ['mediaType field differing from Content-Type', () => ({ ...good, mediaType: DOCKER_MANIFEST }), OCI_MANIFEST],
        ['an index pushed as an image manifest', () => ({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [] }), OCI_MANIFEST],
        ['an unsupported mediaType', () => ({ ...good, mediaType: 'application/vnd.example.thing+json' }), 'application/vnd.example.thing+json'],
      ];
      for (const [what, body, contentType] of cases) {
        it(what, async () => {
          const bytes = body();
          await expectError(await putManifest(server.url, name, 'bad', bytes, contentType ?? OCI_MANIFEST), 400, 'MANIFEST_INVALID');
          await expectError(await fetch(`${server.url}/v2/${name}/manifests/bad`), 404, 'MANIFEST_UNKNOWN');
        });
      }
    });

    it('PUT by a digest the bytes do not have is 400 DIGEST_INVALID', async () => {
      const name = repoName();
      const bytes = await manifestBytes(name);
      const wrong = digestOf(Buffer.concat([bytes, Buffer.from(' ')]));
      await expectError(await putManifest(server.url, name, wrong, bytes), 400, 'DIGEST_INVALID');
      await expectError(await fetch(`${server.url}/v2/${name}/manifests/${wrong}`), 404, 'MANIFEST_UNKNOWN');
      await expectError(await fetch(`${server.url}/v2/${name}/manifests/${digestOf(bytes)}`), 404, 'MANIFEST_UNKNOWN');
    });

    it('a manifest whose blobs are not in the repository is 400 MANIFEST_BLOB_UNKNOWN (as Distribution answers)', async () => {
      const name = repoName();
      const config = Buffer.from('{}');
      await pushBlob(server.url, name, config);
      const missingLayer = descriptor(OCI_LAYER, randomBlob(10));
      const body = { schemaVersion: 2, mediaType: OCI_MANIFEST, config: descriptor(OCI_CONFIG, config), layers: [missingLayer] };
      const err = await expectError(await putManifest(server.url, name, 'x', body), 400, 'MANIFEST_BLOB_UNKNOWN');
      assert.equal((err.errors[0]!.detail as { digest: string }).digest, missingLayer.digest);

      // A blob present only in another repository does not count.
      const other = repoName();
      const layer = randomBlob(10);
      await pushBlob(server.url, other, layer);
      const body2 = { ...body, layers: [descriptor(OCI_LAYER, layer)] };
      await expectError(await putManifest(server.url, name, 'x', body2), 400, 'MANIFEST_BLOB_UNKNOWN');
      await expectError(await fetch(`${server.url}/v2/${name}/manifests/x`), 404, 'MANIFEST_UNKNOWN');
    });

    it('a foreign (non-distributable) layer with urls need not be in the repository', async () => {
      const name = repoName();
      const config = Buffer.from('{"os":"windows"}');
      await pushBlob(server.url, name, config);
      const foreign = { ...descriptor('application/vnd.docker.image.rootfs.foreign.diff.tar.gzip', randomBlob(10)), urls: ['https://example.com/layer'] };
      const body = { schemaVersion: 2, mediaType: DOCKER_MANIFEST, config: descriptor('application/vnd.docker.container.image.v1+json', config), layers: [foreign] };
      assert.equal((await putManifest(server.url, name, 'win', body, DOCKER_MANIFEST)).status, 201);
    });

    it('an index whose child manifest is not in the repository is 400 MANIFEST_BLOB_UNKNOWN (as Distribution answers)', async () => {
      const name = repoName();
      const present = await pushImage(server.url, name);
      const absent = digestOf('no such manifest');
      const index = {
        schemaVersion: 2, mediaType: OCI_INDEX,
        manifests: [{ mediaType: OCI_MANIFEST, digest: present.digest, size: present.bytes.length }, { mediaType: OCI_MANIFEST, digest: absent, size: 100 }],
      };
      const err = await expectError(await putManifest(server.url, name, 'idx', index, OCI_INDEX), 400, 'MANIFEST_BLOB_UNKNOWN');
      assert.equal((err.errors[0]!.detail as { digest: string }).digest, absent);
    });

    it('a manifest over 4 MiB is refused with 413, whether its length is declared or streamed', async () => {
      const name = repoName();
      const compact = JSON.parse((await manifestBytes(name)).toString()) as Record<string, unknown>;
      const huge = Buffer.from(JSON.stringify({ ...compact, annotations: { pad: 'x'.repeat(4 * 1024 * 1024) } }));
      assert.ok(huge.length > 4 * 1024 * 1024);
      const declared = await rawRequest(server.url, 'PUT', `/v2/${name}/manifests/huge`, { 'Content-Type': OCI_MANIFEST, 'Content-Length': huge.length }, huge);
      assert.equal(declared.status, 413);
      assertErrorShape(JSON.parse(declared.body.toString()));
      const streamed = await rawRequest(server.url, 'PUT', `/v2/${name}/manifests/huge`, { 'Content-Type': OCI_MANIFEST, 'Transfer-Encoding': 'chunked' }, huge);
      assert.equal(streamed.status, 413);
      assertErrorShape(JSON.parse(streamed.body.toString()));
      await expectError(await fetch(`${server.url}/v2/${name}/manifests/huge`), 404, 'MANIFEST_UNKNOWN');
    });

    it('a manifest of just under 4 MiB is accepted', async () => {
      const name = repoName();
      const compact = JSON.parse((await manifestBytes(name)).toString()) as Record<string, unknown>;
      const base = Buffer.from(JSON.stringify({ ...compact, annotations: { pad: '' } })).length;
      const big = Buffer.from(JSON.stringify({ ...compact, annotations: { pad: 'y'.repeat(4 * 1024 * 1024 - base) } }));
      assert.equal(big.length, 4 * 1024 * 1024);
      assert.equal((await putManifest(server.url, name, 'big', big)).status, 201);
      await expectManifest(name, 'big', big, OCI_MANIFEST);
    });

    it('a manifest with a subject answers OCI-Subject, even when the subject is not (yet) in the repository', async () => {
      const name = repoName();
      const subject = await pushImage(server.url, name, 'app');
      const bytes = await manifestBytes(name, OCI_MANIFEST, { artifactType: 'application/vnd.example.sig', subject: { mediaType: OCI_MANIFEST, digest: subject.digest, size: subject.bytes.length } });
      const res = await putManifest(server.url, name, digestOf(bytes), bytes);
      assert.equal(res.status, 201);
      assert.equal(res.headers.get('oci-subject'), subject.digest);

      const dangling = digestOf('not pushed yet');
      const bytes2 = await manifestBytes(name, OCI_MANIFEST, { subject: { mediaType: OCI_MANIFEST, digest: dangling, size: 10 } });
      const res2 = await putManifest(server.url, name, digestOf(bytes2), bytes2);
      assert.equal(res2.status, 201);
      assert.equal(res2.headers.get('oci-subject'), dangling);

      const plain = await manifestBytes(name);
      const res3 = await putManifest(server.url, name, 'plain', plain);
      assert.equal(res3.status, 201);
      assert.equal(res3.headers.get('oci-subject'), null, 'no subject, no OCI-Subject');
    });

    it('DELETE by digest answers 202 and removes the manifest and every tag on it', async () => {
      const name = repoName();
      const image = await pushImage(server.url, name, 'one');
      assert.equal((await putManifest(server.url, name, 'two', image.bytes)).status, 201);
      const keep = await pushImage(server.url, name, 'keep');
      const res = await fetch(`${server.url}/v2/${name}/manifests/${image.digest}`, { method: 'DELETE' });
      assert.equal(res.status, 202);
      await expectError(await fetch(`${server.url}/v2/${name}/manifests/${image.digest}`), 404, 'MANIFEST_UNKNOWN');
      await expectError(await fetch(`${server.url}/v2/${name}/manifests/one`), 404, 'MANIFEST_UNKNOWN');
      await expectError(await fetch(`${server.url}/v2/${name}/manifests/two`), 404, 'MANIFEST_UNKNOWN');
      const tags = await (await fetch(`${server.url}/v2/${name}/tags/list`)).json() as { tags: string[] };
      assert.deepEqual(tags.tags, ['keep']);
      await expectManifest(name, 'keep', keep.bytes, OCI_MANIFEST);
      await expectError(await fetch(`${server.url}/v2/${name}/manifests/${image.digest}`, { method: 'DELETE' }), 404, 'MANIFEST_UNKNOWN');
    });

    it('DELETE by tag answers 202 and removes only that tag', async () => {
      const name = repoName();
      const image = await pushImage(server.url, name, 'a');
      assert.equal((await putManifest(server.url, name, 'b', image.bytes)).status, 201);
      const res = await fetch(`${server.url}/v2/${name}/manifests/a`, { method: 'DELETE' });
      assert.equal(res.status, 202);
      await expectError(await fetch(`${server.url}/v2/${name}/manifests/a`), 404, 'MANIFEST_UNKNOWN');
      await expectManifest(name, 'b', image.bytes, OCI_MANIFEST);
      await expectManifest(name, image.digest, image.bytes, OCI_MANIFEST);
      await expectError(await fetch(`${server.url}/v2/${name}/manifests/a`, { method: 'DELETE' }), 404, 'MANIFEST_UNKNOWN');
    });

    it('an unknown manifest is 404 MANIFEST_UNKNOWN by tag and by digest, in known and unknown repositories', async () => {
      const name = repoName();
      await pushImage(server.url, name, 'exists');
      for (const repo of [name, repoName('unknown')]) {
        for (const ref of ['nope', digestOf('nope')]) {
          await expectError(await fetch(`${server.url}/v2/${repo}/manifests/${ref}`), 404, 'MANIFEST_UNKNOWN');
          const head = await fetch(`${server.url}/v2/${repo}/manifests/${ref}`, { method: 'HEAD' });
          assert.equal(head.status, 404);
          assert.equal((await head.arrayBuffer()).byteLength, 0);
          await expectError(await fetch(`${server.url}/v2/${repo}/manifests/${ref}`, { method: 'DELETE' }), 404, 'MANIFEST_UNKNOWN');
        }
      }
    });

    it('a manifest is visible only in the repository it was pushed to', async () => {
      const a = repoName();
      const b = repoName();
      const image = await pushImage(server.url, a, 'shared');
      await pushImage(server.url, b, 'other');
      await expectError(await fetch(`${server.url}/v2/${b}/manifests/${image.digest}`), 404, 'MANIFEST_UNKNOWN');
      await expectError(await fetch(`${server.url}/v2/${b}/manifests/shared`), 404, 'MANIFEST_UNKNOWN');
    });

    it('with deletion disabled, DELETE by tag and by digest answer 405 UNSUPPORTED and nothing is removed', async () => {
      const name = repoName();
      const image = await pushImage(noDelete.url, name, 'stay');
      await expectError(await fetch(`${noDelete.url}/v2/${name}/manifests/stay`, { method: 'DELETE' }), 405, 'UNSUPPORTED');
      await expectError(await fetch(`${noDelete.url}/v2/${name}/manifests/${image.digest}`, { method: 'DELETE' }), 405, 'UNSUPPORTED');
      assert.equal((await fetch(`${noDelete.url}/v2/${name}/manifests/stay`, { method: 'HEAD' })).status, 200);
      assert.equal((await fetch(`${noDelete.url}/v2/${name}/manifests/${image.digest}`, { method: 'HEAD' })).status, 200);
    });
  });
}
