import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';

/**
 * OCI image layouts written by the tests themselves (image-layout.md): an `oci-layout` file,
 * `index.json` naming each tag with `org.opencontainers.image.ref.name`, and content-addressed
 * `blobs/sha256/<hex>`. Layers are real tar archives of real files (made with the system `tar`),
 * gzip-compressed, with their diff_ids in the image config.
 */

export const MEDIA = {
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  index: 'application/vnd.oci.image.index.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  empty: 'application/vnd.oci.empty.v1+json',
} as const;

export const REF_NAME = 'org.opencontainers.image.ref.name';

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  platform?: { architecture: string; os: string; variant?: string };
  annotations?: Record<string, string>;
}

export function sha256(data: Buffer | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** A tar+gzip layer built from files; `diffId` is the digest of the uncompressed tar. */
export interface Layer {
  /** The files archived, path → content. */
  files: Record<string, string | Buffer>;
  tar: Buffer;
  gzip: Buffer;
  diffId: string;
  descriptor: Descriptor;
}

/** Archives `files` (path → content) with the system tar and gzips the archive. */
export function makeLayer(files: Record<string, string | Buffer>): Layer {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'wharf-layer-'));
  try {
    for (const [name, content] of Object.entries(files)) {
      const full = path.join(dir, name);
      mkdirSync(path.dirname(full), { recursive: true });
      writeFileSync(full, content, { mode: name.startsWith('bin/') ? 0o755 : 0o644 });
    }
    const tar = execFileSync('tar', ['--sort=name', '--owner=0', '--group=0', '--numeric-owner', '--format=posix',
      '--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime', '-cf', '-', '-C', dir, '.'], { maxBuffer: 256 * 1024 * 1024 });
    const gzip = gzipSync(tar);
    return { files, tar, gzip, diffId: sha256(tar), descriptor: { mediaType: MEDIA.layerGzip, digest: sha256(gzip), size: gzip.length } };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Writes one OCI image layout directory; blobs are content-addressed, tags live in index.json. */
export class OciLayout {
  readonly blobsDir: string;
  private readonly refs: Descriptor[] = [];

  constructor(readonly dir: string) {
    this.blobsDir = path.join(dir, 'blobs', 'sha256');
    mkdirSync(this.blobsDir, { recursive: true });
    writeFileSync(path.join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    this.flush();
  }

  /** Stores bytes as a blob and returns their descriptor. */
  writeBlob(mediaType: string, data: Buffer, extra: Partial<Descriptor> = {}): Descriptor {
    const digest = sha256(data);
    writeFileSync(path.join(this.blobsDir, digest.slice('sha256:'.length)), data);
    return { mediaType, digest, size: data.length, ...extra };
  }

  writeJson(mediaType: string, value: unknown, extra: Partial<Descriptor> = {}): Descriptor {
    return this.writeBlob(mediaType, Buffer.from(JSON.stringify(value)), extra);
  }

  /** Names `target` with `tag` in index.json. */
  tag(target: Descriptor, tag: string): void {
    this.refs.push({ ...target, annotations: { ...target.annotations, [REF_NAME]: tag } });
    this.flush();
  }

  private flush(): void {
    writeFileSync(path.join(this.dir, 'index.json'), JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.index, manifests: this.refs }));
  }
}

export interface BuiltImage {
  /** The manifest (or index) the tag names. */
  root: Descriptor;
  tag: string;
  /** Every blob digest the tag reaches, manifests and index included. */
  digests: string[];
  /** Image config of a single-platform image. */
  config?: Descriptor;
  layers?: Layer[];
}

interface Platform { architecture: string; os: string; variant?: string }

function writeImage(layout: OciLayout, layers: Layer[], platform: Platform = { architecture: 'amd64', os: 'linux' }): { manifest: Descriptor; config: Descriptor; digests: string[] } {
  const created = new Date().toISOString();
  const config = layout.writeJson(MEDIA.config, {
    created,
    architecture: platform.architecture,
    os: platform.os,
    ...(platform.variant ? { variant: platform.variant } : {}),
    config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['/bin/hello'], Labels: { 'org.example.nonce': randomBytes(6).toString('hex') } },
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
    history: layers.map((_, i) => ({ created, created_by: `wharf test layer ${i + 1}` })),
  });
  for (const layer of layers) layout.writeBlob(MEDIA.layerGzip, layer.gzip);
  const manifest = layout.writeJson(MEDIA.manifest, {
    schemaVersion: 2,
    mediaType: MEDIA.manifest,
    config,
    layers: layers.map((l) => l.descriptor),
    annotations: { 'org.opencontainers.image.created': created },
  }, { platform });
  return { manifest, config, digests: [manifest.digest, config.digest, ...layers.map((l) => l.descriptor.digest)] };
}

function imageLayer(label: string, extra: Record<string, string | Buffer> = {}): Layer {
  return makeLayer({
    'bin/hello': `#!/bin/sh\necho hello from ${label}\n`,
    [`etc/wharf/${label}.txt`]: `${label} ${randomBytes(8).toString('hex')}\n`,
    ...extra,
  });
}

/** One layer of a few files (one of them 256 KiB of random bytes), config and manifest. */
export function singleLayerImage(layout: OciLayout, tag: string): BuiltImage {
  const layer = imageLayer('single', { 'usr/share/wharf/data.bin': randomBytes(256 * 1024) });
  const { manifest, config, digests } = writeImage(layout, [layer]);
  const { platform: _omit, ...root } = manifest;
  layout.tag(root, tag);
  return { root, tag, digests, config, layers: [layer] };
}

/** `count` layers, each adding and overwriting files, one of them larger than a few MiB. */
export function multiLayerImage(layout: OciLayout, tag: string, count = 3): BuiltImage {
  const layers = Array.from({ length: count }, (_, i) => imageLayer(`layer${i + 1}`, {
    'etc/wharf/common.txt': `written by layer ${i + 1}\n`,
    ...(i === 1 ? { 'opt/big.bin': randomBytes(3 * 1024 * 1024) } : {}),
  }));
  const { manifest, config, digests } = writeImage(layout, layers);
  const { platform: _omit, ...root } = manifest;
  layout.tag(root, tag);
  return { root, tag, digests, config, layers };
}

/** An image index over linux/amd64 and linux/arm64 images, each with its own layer and config. */
export function multiArchIndex(layout: OciLayout, tag: string): BuiltImage & { children: Array<{ platform: Platform; manifest: Descriptor; config: Descriptor }> } {
  const platforms: Platform[] = [{ architecture: 'amd64', os: 'linux' }, { architecture: 'arm64', os: 'linux', variant: 'v8' }];
  const children = platforms.map((platform) => ({ platform, ...writeImage(layout, [imageLayer(`${platform.os}-${platform.architecture}`)], platform) }));
  const root = layout.writeJson(MEDIA.index, {
    schemaVersion: 2,
    mediaType: MEDIA.index,
    manifests: children.map((c) => c.manifest),
  });
  layout.tag(root, tag);
  return { root, tag, digests: [root.digest, ...children.flatMap((c) => c.digests)], children };
}

export const ARTIFACT_TYPE = 'application/vnd.example.wharf.sbom.v1';
export const ARTIFACT_LAYER_TYPE = 'application/vnd.example.wharf.sbom.v1+json';

/** An OCI artifact: artifactType, the empty config `{}`, one layer of a non-image media type. */
export function artifact(layout: OciLayout, tag: string): BuiltImage & { layer: Descriptor; manifestBytes: Buffer } {
  const empty = layout.writeBlob(MEDIA.empty, Buffer.from('{}'));
  const layer = layout.writeJson(ARTIFACT_LAYER_TYPE, { packages: [{ name: 'hello', version: '1.0' }], nonce: randomBytes(8).toString('hex') }, {
    annotations: { 'org.opencontainers.image.title': 'sbom.json' },
  });
  const manifestBytes = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: MEDIA.manifest,
    artifactType: ARTIFACT_TYPE,
    config: empty,
    layers: [layer],
    annotations: { 'org.opencontainers.image.created': new Date().toISOString() },
  }));
  const root = layout.writeBlob(MEDIA.manifest, manifestBytes, { artifactType: ARTIFACT_TYPE });
  layout.tag(root, tag);
  return { root, tag, digests: [root.digest, empty.digest, layer.digest], layer, manifestBytes };
}

// ---- reading layouts back ----

export interface LayoutIndex {
  schemaVersion: number;
  manifests: Descriptor[];
}

export function readIndex(dir: string): LayoutIndex {
  return JSON.parse(readFileSync(path.join(dir, 'index.json'), 'utf8')) as LayoutIndex;
}

/** The descriptor index.json names `tag` with, or fails. */
export function resolveTag(dir: string, tag: string): Descriptor {
  const found = readIndex(dir).manifests.filter((m) => m.annotations?.[REF_NAME] === tag);
  assert.equal(found.length, 1, `${dir}/index.json names tag ${tag} exactly once: ${JSON.stringify(readIndex(dir))}`);
  return found[0]!;
}

export function blobPath(dir: string, digest: string): string {
  const [algorithm, hex] = digest.split(':');
  return path.join(dir, 'blobs', algorithm!, hex!);
}

/** Reads a blob and checks that its bytes hash to its name. */
export function readBlob(dir: string, digest: string): Buffer {
  const file = blobPath(dir, digest);
  assert.ok(existsSync(file), `blob ${digest} is in ${dir}`);
  const data = readFileSync(file);
  assert.equal(sha256(data), digest, `blob file ${file} hashes to its name`);
  return data;
}

/** Every digest reachable from `root` (index → manifests → config + layers), verifying each blob. */
export function reachableDigests(dir: string, root: string): string[] {
  const seen = new Set<string>();
  const visit = (digest: string): void => {
    if (seen.has(digest)) return;
    seen.add(digest);
    const data = readBlob(dir, digest);
    let doc: { mediaType?: string; manifests?: Descriptor[]; config?: Descriptor; layers?: Descriptor[] };
    try {
      doc = JSON.parse(data.toString('utf8')) as typeof doc;
    } catch {
      return;
    }
    if (doc.mediaType === MEDIA.index || doc.mediaType === 'application/vnd.docker.distribution.manifest.list.v2+json') {
      for (const m of doc.manifests ?? []) visit(m.digest);
    } else if (doc.mediaType === MEDIA.manifest || doc.mediaType === 'application/vnd.docker.distribution.manifest.v2+json') {
      if (doc.config) visit(doc.config.digest);
      for (const l of doc.layers ?? []) visit(l.digest);
    }
  };
  visit(root);
  return [...seen].sort();
}

/** All blob digests stored in a layout. */
export function listBlobs(dir: string): string[] {
  const root = path.join(dir, 'blobs');
  if (!existsSync(root)) return [];
  return readdirSync(root).flatMap((alg) => readdirSync(path.join(root, alg)).map((hex) => `${alg}:${hex}`)).sort();
}

/** The files of a tar+gzip layer as `tar -t` lists them. */
export function layerEntries(gzip: Buffer): string[] {
  return execFileSync('tar', ['-tf', '-'], { input: gunzipSync(gzip), maxBuffer: 64 * 1024 * 1024 }).toString('utf8').split('\n').filter(Boolean).sort();
}
