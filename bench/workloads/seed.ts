/** A small image (config + one layer + manifest) pushed as setup for the metadata items. */
import { imageManifest, type RegistryClient } from '../client.js';
import { makeSmallBlob } from '../payload.js';

export interface SeedImage {
  repo: string;
  config: { bytes: Buffer; digest: string };
  layer: { bytes: Buffer; digest: string };
  manifest: Buffer;
}

const config = { bytes: Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, config: {} })), digest: '' };
config.digest = `sha256:${(await import('node:crypto')).createHash('sha256').update(config.bytes).digest('hex')}`;
const layer = makeSmallBlob(32 * 1024);

export function seedManifest(annotation?: string): Buffer {
  return imageManifest({ digest: config.digest, size: config.bytes.length }, [{ digest: layer.digest, size: layer.bytes.length }], annotation);
}

export async function pushSeedImage(client: RegistryClient, repo: string, tag: string): Promise<SeedImage> {
  await client.pushSmall(repo, config);
  await client.pushSmall(repo, layer);
  const manifest = seedManifest();
  await client.putManifest(repo, tag, manifest);
  return { repo, config, layer, manifest };
}

/** Links the seed blobs into `repo` by cross-repository mount and tags the manifest there. */
export async function mountSeedImage(client: RegistryClient, from: string, repo: string, tag: string): Promise<void> {
  await client.mount(repo, config.digest, from);
  await client.mount(repo, layer.digest, from);
  await client.putManifest(repo, tag, seedManifest());
}
