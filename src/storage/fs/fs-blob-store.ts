import { constants, createReadStream, createWriteStream } from 'node:fs';
import { access, mkdir, open, readdir, rename, rm, stat, statfs, truncate, unlink } from 'node:fs/promises';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createHash, type Hash } from 'node:crypto';
import type { Digest, DigestAlgorithm } from '../../oci/digest.js';
import { tryParseDigest } from '../../oci/digest.js';
import { UploadTooLargeError, type BlobStore, type BlobStream, type ByteRange, type StorageSpace } from '../ports.js';
import { copyFileRange } from './file-copy.js';

const UPLOAD_ID = /^[a-zA-Z0-9-]{1,64}$/;

/** Where the filesystem driver rooted at `root` keeps a blob (backups hard-link it from there). */
export function blobFilePath(root: string, digest: string): string {
  // Only a parsed digest reaches the filesystem: its hex encoding cannot hold a path separator.
  const parsed = tryParseDigest(digest);
  if (!parsed) throw new Error(`not a digest: ${digest}`);
  return path.join(root, 'blobs', parsed.algorithm, parsed.hex.slice(0, 2), parsed.hex);
}

/**
 * Filesystem driver: blobs at <root>/blobs/<alg>/<2 hex>/<hex>, staged uploads at <root>/uploads/<id>.
 * Commit = fsync the staged file, rename it into place, fsync the directory; rename is atomic
 * within one filesystem, so a crash leaves either no blob or the whole blob.
 */
export class FsBlobStore implements BlobStore {
  readonly name = 'filesystem';
  private readonly blobsDir: string;
  private readonly uploadsDir: string;

  constructor(private readonly root: string) {
    this.blobsDir = path.join(root, 'blobs');
    this.uploadsDir = path.join(root, 'uploads');
  }

  /**
   * Creates the directories and proves files can be created in them: existing directories on a
   * read-only filesystem pass mkdir, and would otherwise fail only at the first push. The probe
   * is empty, so a full disk still starts (and serves pulls).
   */
  async init(): Promise<void> {
    await mkdir(this.blobsDir, { recursive: true });
    await mkdir(this.uploadsDir, { recursive: true });
    // Not an upload id (the dot), so listUploads never sees it.
    const probe = path.join(this.uploadsDir, '.write-check');
    await (await open(probe, 'w')).close();
    // unlink, not rm: rm's recursive machinery is a module Node would load for this one file at start.
    await unlink(probe);
  }

  async space(): Promise<StorageSpace> {
    const s = await statfs(this.root);
    return { location: this.root, freeBytes: s.bavail * s.bsize, totalBytes: s.blocks * s.bsize };
  }

  private blobPath(digest: string): string {
    return blobFilePath(this.root, digest);
  }

  private uploadPath(uploadId: string): string {
    if (!UPLOAD_ID.test(uploadId)) throw new Error(`not an upload id: ${uploadId}`);
    return path.join(this.uploadsDir, uploadId);
  }

  async check(): Promise<void> {
    for (const dir of [this.blobsDir, this.uploadsDir]) await access(dir, constants.W_OK);
  }

  async stat(digest: string): Promise<{ size: number } | null> {
    try {
      const s = await stat(this.blobPath(digest));
      return { size: s.size };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  async read(digest: string, range?: ByteRange): Promise<BlobStream> {
    const file = await open(this.blobPath(digest), 'r');
    // highWaterMark: large reads keep syscalls and chunk allocations few for multi-GiB layers.
    const stream: BlobStream = file.createReadStream({ start: range?.start, end: range?.end, highWaterMark: 1024 * 1024, autoClose: true });
    stream.writeTo = async (destination) => {
      try {
        const end = range ? range.end : (await file.stat()).size - 1;
        await copyFileRange(file, range?.start ?? 0, end, destination);
      } finally {
        // The stream was never read: destroying it closes the file.
        stream.destroy();
      }
    };
    return stream;
  }

  async delete(digest: string): Promise<void> {
    await rm(this.blobPath(digest), { force: true });
  }

  async createUpload(uploadId: string): Promise<void> {
    const file = await open(this.uploadPath(uploadId), 'w');
    await file.close();
  }

  async appendUpload(uploadId: string, offset: number, source: Readable, hash?: Hash, limit = Number.MAX_SAFE_INTEGER, accept?: (size: number) => Promise<boolean>): Promise<number> {
    const file = this.uploadPath(uploadId);
    // Bytes past `offset` are left over from a write that was cut short; the metadata never counted them.
    await truncate(file, offset);
    let written = offset;
    const meter = new Transform({
      transform(chunk: Buffer, _enc, callback) {
        written += chunk.length;
        if (written > limit) return callback(new UploadTooLargeError(limit));
        hash?.update(chunk);
        callback(null, chunk);
      },
    });
    await pipeline(source, meter, createWriteStream(file, { flags: 'r+', start: offset, highWaterMark: 1024 * 1024 }));
    // One process owns a data directory: bytes not counted are simply cut by the next write.
    await accept?.(written);
    return written;
  }

  async digestUpload(uploadId: string, size: number, algorithm: DigestAlgorithm): Promise<string> {
    const hash = createHash(algorithm);
    if (size > 0) {
      await pipeline(createReadStream(this.uploadPath(uploadId), { start: 0, end: size - 1, highWaterMark: 1024 * 1024 }), async function* (chunks: AsyncIterable<Buffer>) {
        for await (const chunk of chunks) hash.update(chunk);
      });
    }
    return `${algorithm}:${hash.digest('hex')}`;
  }

  async sealUpload(uploadId: string, size: number): Promise<void> {
    const handle = await open(this.uploadPath(uploadId), 'r+');
    try {
      await handle.truncate(size);
      // The blob's age starts now, not at its last chunk: the collector leaves young files alone.
      const now = new Date();
      await handle.utimes(now, now);
      await handle.sync();
    } finally {
      await handle.close();
    }
  }

  async commitUpload(uploadId: string, size: number, digest: Digest): Promise<void> {
    const staged = this.uploadPath(uploadId);
    const target = this.blobPath(digest.value);
    // sealUpload ran first (the port's contract) and made the bytes durable; only a caller that
    // skipped it could leave bytes past `size`.
    if ((await stat(staged)).size !== size) await truncate(staged, size);
    const dir = path.dirname(target);
    await mkdir(dir, { recursive: true });
    await rename(staged, target);
    await fsyncDirectory(dir);
  }

  async deleteUpload(uploadId: string): Promise<void> {
    await rm(this.uploadPath(uploadId), { force: true });
  }

  listBlobs(): AsyncIterable<{ digest: string; size: number; modifiedAt: number }> {
    return blobFiles(this.blobsDir);
  }

  async *listUploads(): AsyncIterable<{ uploadId: string; modifiedAt: number }> {
    for (const entry of await readdir(this.uploadsDir)) {
      if (!UPLOAD_ID.test(entry)) continue;
      try {
        const s = await stat(path.join(this.uploadsDir, entry));
        yield { uploadId: entry, modifiedAt: s.mtimeMs };
      } catch {
        // Removed meanwhile.
      }
    }
  }
}

async function* blobFiles(blobsDir: string): AsyncIterable<{ digest: string; size: number; modifiedAt: number }> {
  for (const algorithm of await readdirOrEmpty(blobsDir)) {
    for (const prefix of await readdirOrEmpty(path.join(blobsDir, algorithm))) {
      for (const hex of await readdirOrEmpty(path.join(blobsDir, algorithm, prefix))) {
        const digest = tryParseDigest(`${algorithm}:${hex}`);
        if (!digest || !hex.startsWith(prefix)) continue;
        try {
          const s = await stat(path.join(blobsDir, algorithm, prefix, hex));
          if (s.isFile()) yield { digest: digest.value, size: s.size, modifiedAt: s.mtimeMs };
        } catch {
          // Removed meanwhile.
        }
      }
    }
  }
}

async function readdirOrEmpty(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return [];
    throw err;
  }
}

async function fsyncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
