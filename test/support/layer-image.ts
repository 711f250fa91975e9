import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { send } from './iam.js';

const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/**
 * Pushes an image of one layer (a gzip tar by default) with the image config `config` (User,
 * ExposedPorts…) under `tag`, as `auth`; answers the manifest's digest. A random nonce in the config
 * makes each push a new image, so suites never share scan results by accident.
 */
export async function pushLayerImage(url: string, auth: string, name: string, tag: string, layer: Buffer, config: Record<string, unknown> = {}, layerMediaType = 'application/vnd.oci.image.layer.v1.tar+gzip'): Promise<string> {
  const configBytes = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config, rootfs: { type: 'layers', diff_ids: [] }, nonce: randomBytes(4).toString('hex') }));
  for (const blob of [configBytes, layer]) {
    const res = await send(url, { method: 'POST', path: `/v2/${name}/blobs/uploads/?digest=${sha(blob)}`, headers: { 'Content-Type': 'application/octet-stream' }, body: blob }, auth);
    assert.equal(res.status, 201, await res.text());
  }
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha(configBytes), size: configBytes.length },
    layers: [{ mediaType: layerMediaType, digest: sha(layer), size: layer.length }],
  }));
  const res = await send(url, { method: 'PUT', path: `/v2/${name}/manifests/${tag}`, headers: { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' }, body: manifest }, auth);
  assert.equal(res.status, 201, await res.text());
  return sha(manifest);
}
