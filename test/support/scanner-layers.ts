/** Builds image layers for the scanner tests: tar archives of real files, compressed as registries store them. */
import { execFileSync } from 'node:child_process';
import { createReadStream, readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { pack } from 'tar-stream';
import type { LayerSource } from '../../src/scanner/image/layers.js';

export interface TarItem {
  name: string;
  /** Content (a Buffer or a real file to read); absent for directories, links and whiteouts. */
  content?: Buffer | { file: string };
  type?: 'file' | 'directory' | 'symlink' | 'link';
  mode?: number;
  linkname?: string;
}

export const whiteout = (path: string): TarItem => {
  const slash = path.lastIndexOf('/');
  return { name: `${path.slice(0, slash + 1)}.wh.${path.slice(slash + 1)}`, content: Buffer.alloc(0) };
};
export const opaque = (dir: string): TarItem => ({ name: `${dir.replace(/\/$/, '')}/.wh..wh..opq`, content: Buffer.alloc(0) });

/** A tar archive (tar-stream's pack writes ustar with pax headers for long names). */
export async function tarOf(items: TarItem[]): Promise<Buffer> {
  const p = pack();
  const out: Buffer[] = [];
  p.on('data', (c: unknown) => {
    out.push(c as Buffer);
  });
  const done = new Promise<void>((resolve, reject) => {
    p.on('end', () => resolve());
    p.on('error', reject);
  });
  for (const it of items) {
    const type = it.type ?? 'file';
    const content = it.content === undefined ? undefined : Buffer.isBuffer(it.content) ? it.content : readFileSync(it.content.file);
    const header = { name: it.name, type, mode: it.mode ?? (type === 'directory' ? 0o755 : 0o644), ...(it.linkname ? { linkname: it.linkname } : {}) };
    await new Promise<void>((resolve, reject) => {
      const cb = (err?: Error | null): void => (err ? reject(err) : resolve());
      if (type === 'file') p.entry({ ...header, size: content?.length ?? 0 }, content ?? Buffer.alloc(0), cb);
      else p.entry(header, cb);
    });
  }
  p.finalize();
  await done;
  return Buffer.concat(out);
}

export const gzip = (tar: Buffer): Buffer => gzipSync(tar);
/** zstd with the real zstd CLI. */
export const zstd = (tar: Buffer, ...args: string[]): Buffer => execFileSync('zstd', ['-q', '-c', ...args], { input: tar, maxBuffer: 1 << 30 });

export const MT = {
  tar: 'application/vnd.oci.image.layer.v1.tar',
  gzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  zstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  dockerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
} as const;

let n = 0;
/** A layer served from memory in chunks of `chunk` bytes (small chunks exercise every boundary). */
export function layerOf(blob: Buffer, mediaType: string, chunk = 65536): LayerSource {
  const digest = `sha256:${(++n).toString(16).padStart(64, '0')}`;
  return {
    digest,
    mediaType,
    size: blob.length,
    open: async () => {
      const parts: Buffer[] = [];
      for (let i = 0; i < blob.length; i += chunk) parts.push(blob.subarray(i, i + chunk));
      return Readable.from(parts);
    },
  };
}

export function layerFromFile(file: string, mediaType: string, size: number): LayerSource {
  return { digest: `sha256:${(++n).toString(16).padStart(64, 'f')}`, mediaType, size, open: async () => createReadStream(file) };
}
