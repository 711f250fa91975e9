import { RegistryError } from '../oci/errors.js';
import { parseDigest } from '../oci/digest.js';
import { assertRepositoryName } from '../oci/names.js';
import { findLinkedBlob, linkBlob, unlinkBlob } from '../metadata/blobs.js';
import { ensureRepository, findRepositoryId } from '../metadata/repositories.js';
import type { BlobStream, ByteRange } from '../storage/ports.js';
import type { Puller, RegistryContext } from './context.js';

export interface BlobInfo {
  digest: string;
  size: number;
}

export function blobUnknown(digest: string): RegistryError {
  return new RegistryError('BLOB_UNKNOWN', `blob ${digest} is not in this repository`, { digest });
}

export function blobDeleteDisabled(): RegistryError {
  return new RegistryError('UNSUPPORTED', 'deleting blobs is disabled on this registry (registry.deleteEnabled)');
}

/** Pull, delete and cross-repository mount of blobs. */
export class BlobService {
  constructor(private readonly ctx: RegistryContext) {}

  async stat(name: string, digestText: string): Promise<BlobInfo> {
    assertRepositoryName(name);
    const digest = parseDigest(digestText).value;
    const blob = await findLinkedBlob(this.ctx.db, name, digest);
    if (!blob) throw blobUnknown(digest);
    return blob;
  }

  /** Streams the blob (or a range) for a pull from `name` by `puller`, after the pull-traffic hook agrees. */
  async open(name: string, blob: BlobInfo, puller: Puller, range?: ByteRange): Promise<BlobStream> {
    await this.ctx.hooks.beforeBlobServed?.(name, range ? range.end - range.start + 1 : blob.size, puller);
    try {
      return await this.ctx.store.read(blob.digest, range);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        this.ctx.log.error({ digest: blob.digest }, 'blob is in the metadata but missing from the blob store');
        throw blobUnknown(blob.digest);
      }
      throw err;
    }
  }

  /**
   * Where `puller` may fetch the blob (or a range) from the store directly, after the same
   * pull-traffic hook as open(); null when the store does not redirect.
   */
  async redirect(name: string, blob: BlobInfo, puller: Puller, range?: ByteRange): Promise<string | null> {
    if (!this.ctx.store.redirectUrl) return null;
    const url = await this.ctx.store.redirectUrl(blob.digest);
    if (url) await this.ctx.hooks.beforeBlobServed?.(name, range ? range.end - range.start + 1 : blob.size, puller);
    return url;
  }

  async delete(name: string, digestText: string): Promise<void> {
    assertRepositoryName(name);
    const digest = parseDigest(digestText).value;
    if (!this.ctx.settings.deleteEnabled) throw blobDeleteDisabled();
    const repositoryId = await findRepositoryId(this.ctx.db, name);
    if (repositoryId === undefined || !(await unlinkBlob(this.ctx.db, repositoryId, digest))) throw blobUnknown(digest);
  }

  /**
   * Links a blob of `from` into `name` without moving bytes. Returns undefined when the blob is not
   * in `from` (the caller then starts an ordinary upload, as the spec asks).
   */
  async mount(name: string, digestText: string, from: string): Promise<BlobInfo | undefined> {
    assertRepositoryName(name);
    const digest = parseDigest(digestText).value;
    const blob = await findLinkedBlob(this.ctx.db, from, digest);
    if (!blob) return undefined;
    await this.ctx.hooks.beforeBlobStored?.(name, digest, blob.size);
    const now = this.ctx.now();
    // Checked again under the blob's lock: the collector may have removed it since.
    return this.ctx.db.transaction().execute(async (trx) => {
      await this.ctx.locks.shared(trx, [digest]);
      if (!(await findLinkedBlob(trx, from, digest))) return undefined;
      const repositoryId = await ensureRepository(trx, name, now);
      await linkBlob(trx, repositoryId, digest, now);
      return blob;
    });
  }
}
