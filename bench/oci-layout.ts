/** An OCI image layout on disk (gzip layers of one random file each), for skopeo to push. */
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** A ustar archive holding one regular file. */
function tarOneFile(name: string, data: Buffer): Buffer {
  const header = Buffer.alloc(512);
  const field = (offset: number, length: number, value: string) => header.write(value.slice(0, length), offset, length, 'latin1');
  const octal = (value: number, length: number) => value.toString(8).padStart(length - 1, '0');
  field(0, 100, name);
  field(100, 8, octal(0o644, 8));
  field(108, 8, octal(0, 8));
  field(116, 8, octal(0, 8));
  field(124, 12, octal(data.length, 12));
  field(136, 12, octal(0, 12));
  field(148, 8, '        ');
  field(156, 1, '0');
  field(257, 6, 'ustar');
  field(263, 2, '00');
  let sum = 0;
  for (const byte of header) sum += byte;
  field(148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
  const padding = Buffer.alloc((512 - (data.length % 512)) % 512);
  return Buffer.concat([header, data, padding, Buffer.alloc(1024)]);
}

export interface OciLayout {
  dir: string;
  tag: string;
  bytes: number;
}

export function writeOciLayout(layers: number, layerBytes: number): OciLayout {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'wharf-bench-oci-'));
  const blobs = path.join(dir, 'blobs', 'sha256');
  mkdirSync(blobs, { recursive: true });
  const put = (bytes: Buffer): string => {
    const hex = sha256(bytes);
    writeFileSync(path.join(blobs, hex), bytes);
    return `sha256:${hex}`;
  };
  const descriptors = [];
  const diffIds = [];
  let total = 0;
  for (let i = 0; i < layers; i++) {
    const tar = tarOneFile(`layer-${i}.bin`, randomBytes(layerBytes));
    diffIds.push(`sha256:${sha256(tar)}`);
    // Stored (level 0) gzip: a valid compressed layer that skopeo pushes as is, cheap to make.
    const gz = gzipSync(tar, { level: 0 });
    descriptors.push({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: put(gz), size: gz.length });
    total += gz.length;
  }
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: diffIds } }));
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: put(config), size: config.length },
    layers: descriptors,
  }));
  const manifestDigest = put(manifest);
  const tag = 'v1';
  writeFileSync(path.join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  writeFileSync(path.join(dir, 'index.json'), JSON.stringify({
    schemaVersion: 2,
    manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: manifestDigest, size: manifest.length, annotations: { 'org.opencontainers.image.ref.name': tag } }],
  }));
  return { dir, tag, bytes: total + config.length + manifest.length };
}
