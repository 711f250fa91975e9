import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_MANIFEST_BYTES, parseManifest } from '../../src/oci/manifest.js';
import { MediaType } from '../../src/oci/media-types.js';
import { RegistryError } from '../../src/oci/errors.js';
import { digestOf } from '../../src/oci/digest.js';

const config = { mediaType: MediaType.OciConfig, digest: digestOf('config'), size: 6 };
const layer = { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: digestOf('layer'), size: 5 };
const json = (value: unknown) => Buffer.from(JSON.stringify(value));

function invalid(fn: () => unknown, code = 'MANIFEST_INVALID', status?: number) {
  assert.throws(fn, (err: unknown) => err instanceof RegistryError && err.code === code && (status === undefined || err.status === status));
}

describe('manifest parsing', () => {
  it('takes the media type from Content-Type and lists config and layers as required blobs', () => {
    const parsed = parseManifest(json({ schemaVersion: 2, mediaType: MediaType.OciManifest, config, layers: [layer] }), MediaType.OciManifest);
    assert.equal(parsed.mediaType, MediaType.OciManifest);
    assert.deepEqual(parsed.blobs.map((b) => b.digest), [config.digest, layer.digest]);
    assert.equal(parsed.isIndex, false);
    assert.equal(parsed.artifactType, MediaType.OciConfig);
  });

  it('infers the media type from the body when Content-Type is generic', () => {
    assert.equal(parseManifest(json({ schemaVersion: 2, mediaType: MediaType.DockerManifest, config, layers: [] }), 'application/octet-stream').mediaType, MediaType.DockerManifest);
    assert.equal(parseManifest(json({ schemaVersion: 2, manifests: [] }), undefined).mediaType, MediaType.OciIndex);
    assert.equal(parseManifest(json({ schemaVersion: 2, config, layers: [] }), undefined).mediaType, MediaType.OciManifest);
  });

  it('reports artifactType and subject', () => {
    const subject = { mediaType: MediaType.OciManifest, digest: digestOf('s'), size: 1 };
    const parsed = parseManifest(json({ schemaVersion: 2, mediaType: MediaType.OciManifest, artifactType: 'application/x.sig', config: { ...config, mediaType: MediaType.OciEmpty }, layers: [], subject }), MediaType.OciManifest);
    assert.equal(parsed.artifactType, 'application/x.sig');
    assert.equal(parsed.subject?.digest, subject.digest);
  });

  it('lists the children of an index and needs no blobs', () => {
    const child = { mediaType: MediaType.OciManifest, digest: digestOf('child'), size: 10, platform: { os: 'linux', architecture: 'arm64' } };
    const parsed = parseManifest(json({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [child] }), MediaType.OciIndex);
    assert.equal(parsed.isIndex, true);
    assert.deepEqual(parsed.manifests.map((m) => m.digest), [child.digest]);
    assert.deepEqual(parsed.blobs, []);
  });

  it('skips existence checks for foreign layers with URLs only', () => {
    const foreign = { mediaType: MediaType.DockerForeignLayer, digest: digestOf('f'), size: 1, urls: ['https://example.invalid/layer'] };
    const parsed = parseManifest(json({ schemaVersion: 2, mediaType: MediaType.DockerManifest, config: { ...config, mediaType: MediaType.DockerConfig }, layers: [foreign, layer] }), MediaType.DockerManifest);
    assert.deepEqual(parsed.blobs.map((b) => b.digest), [config.digest, layer.digest]);
  });

  it('refuses schema 1 with a message that says so', () => {
    assert.throws(() => parseManifest(json({ schemaVersion: 1, name: 'a', tag: 'b', fsLayers: [] }), MediaType.DockerSchema1Signed), /schema 1/);
  });

  it('refuses malformed input', () => {
    invalid(() => parseManifest(Buffer.from('{not json'), MediaType.OciManifest));
    invalid(() => parseManifest(json([]), MediaType.OciManifest));
    invalid(() => parseManifest(json({ schemaVersion: 3, config, layers: [] }), MediaType.OciManifest));
    invalid(() => parseManifest(json({ schemaVersion: 2, layers: [] }), MediaType.OciManifest));
    invalid(() => parseManifest(json({ schemaVersion: 2, config: { ...config, digest: 'sha256:xyz' }, layers: [] }), MediaType.OciManifest));
    invalid(() => parseManifest(json({ schemaVersion: 2, config: { ...config, size: -1 }, layers: [] }), MediaType.OciManifest));
    invalid(() => parseManifest(json({ schemaVersion: 2, config, layers: {} }), MediaType.OciManifest));
    invalid(() => parseManifest(json({ schemaVersion: 2, config, layers: [], annotations: { a: 1 } }), MediaType.OciManifest));
    invalid(() => parseManifest(json({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [] }), MediaType.OciManifest));
    invalid(() => parseManifest(json({ schemaVersion: 2, mediaType: 'application/x-unknown', config, layers: [] }), undefined));
  });

  it('refuses more than 4 MiB with status 413', () => {
    invalid(() => parseManifest(Buffer.alloc(MAX_MANIFEST_BYTES + 1, 0x20), MediaType.OciManifest), 'MANIFEST_INVALID', 413);
  });
});
