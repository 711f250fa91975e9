import type { Hash } from 'node:crypto';
import type { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CreateMultipartUploadCommand, DeleteObjectCommand, DeleteObjectsCommand,
  GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3ServiceException, UploadPartCopyCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { Digest, DigestAlgorithm } from '../../oci/digest.js';
import type { BlobStore, BlobStream, ByteRange } from '../ports.js';
import { checkBucket, createS3Client, S3Keys, serverSideCopyTimeout, type S3Settings } from './s3-client.js';
import { cutSegments, S3Staging, stagedSize, type SealedUpload, type StagedUpload } from './s3-staging.js';
import { S3ObjectReader, StoreAnswer } from './s3-object-reader.js';
import { PresignedGets } from './s3-presigned.js';
import { FallbackWarnings, type StoreLog } from './fallback-warnings.js';

/** The largest part of a multipart copy is 5 GiB; segments longer than this are copied in pieces. */
const MAX_COPY_PART = 4 * 1024 * 1024 * 1024;

/** Life of the presigned URLs Wharf reads blobs by itself (storage.s3Redirect off); reused for half of it. */
const PROXY_URL_TTL = 3600;

/**
 * S3 driver: blobs at <prefix>blobs/<alg>/<hex>, staged uploads at <prefix>uploads/<id>/.
 * Sealing copies the staged segments, server-side, as the parts of a multipart upload to the blob's
 * key; the commit completes it, which S3 makes visible at once and whole (a reader sees the blob or
 * nothing), and is quick enough to run under the metadata transaction.
 */
export class S3BlobStore implements BlobStore {
  readonly name = 's3';
  private readonly keys: S3Keys;
  private readonly staging: S3Staging;
  /** For clients sent to the store (storage.s3Redirect). */
  private readonly redirects: PresignedGets;
  /**
   * Blob reads on a plain-HTTP endpoint go by presigned URL through S3ObjectReader rather than the
   * SDK's GetObject: no per-request middleware and signing, and reads of up to 1 MiB instead of
   * the 64 KiB of Node's HTTP client, which made a proxied pull half Distribution's speed. Over
   * TLS (AWS itself) the SDK reads, as Node offers no reads into a caller's buffer there.
   */
  private readonly reader: { gets: PresignedGets; objects: S3ObjectReader } | null;
  private readonly fallbacks: FallbackWarnings;

  constructor(private readonly settings: S3Settings, private readonly client: S3Client = createS3Client(settings), log?: StoreLog) {
    this.fallbacks = new FallbackWarnings(log);
    this.keys = new S3Keys(settings.prefix);
    this.staging = new S3Staging(client, settings.bucket, this.keys);
    this.redirects = new PresignedGets(client, settings.bucket, this.keys, settings.redirectTtl);
    this.reader = settings.endpoint.startsWith('http://')
      ? { gets: new PresignedGets(client, settings.bucket, this.keys, PROXY_URL_TTL), objects: new S3ObjectReader(settings.requestTimeout * 1000) }
      : null;
  }

  /** Fails with a message naming the setting at fault when the bucket cannot be used. */
  async init(): Promise<void> {
    await checkBucket(this.client, this.settings);
    (this.reader?.gets ?? (this.settings.redirect ? this.redirects : null))?.warmUp();
  }

  /** Readiness: the bucket answers (HeadBucket, bounded by storage.s3RequestTimeout). */
  async check(): Promise<void> {
    await checkBucket(this.client, this.settings);
  }

  close(): void {
    this.reader?.objects.close();
    this.client.destroy();
  }

  private get bucket(): string {
    return this.settings.bucket;
  }

  async stat(digest: string): Promise<{ size: number } | null> {
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.keys.blob(digest) }));
      return { size: head.ContentLength ?? 0 };
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  async read(digest: string, range?: ByteRange): Promise<BlobStream> {
    if (this.reader) {
      try {
        return await this.reader.objects.get(new URL(await this.reader.gets.url(digest)), range);
      } catch (err) {
        if (err instanceof StoreAnswer && err.status === 404) throw notInBucket(digest);
        // Anything else (a signature the store no longer takes, a store error, a connection that
        // failed before the answer) is left to the SDK, with its retries, credentials and errors.
        this.reader.gets.forget(digest);
        this.fallbacks.note(err);
      }
    }
    return this.readWithSdk(digest, range);
  }

  private async readWithSdk(digest: string, range?: ByteRange): Promise<BlobStream> {
    try {
      const res = await this.client.send(new GetObjectCommand({
        Bucket: this.bucket,
        Key: this.keys.blob(digest),
        Range: range ? `bytes=${range.start}-${range.end}` : undefined,
      }));
      return res.Body as Readable;
    } catch (err) {
      if (isNotFound(err)) throw notInBucket(digest);
      throw err;
    }
  }

  /**
   * A presigned GET of the blob, for clients sent to the store directly (storage.s3Redirect); null
   * when redirects are off. A client's Range header goes to the store with it.
   */
  async redirectUrl(digest: string): Promise<string | null> {
    if (!this.settings.redirect) return null;
    return this.redirects.url(digest);
  }

  async delete(digest: string): Promise<void> {
    this.redirects.forget(digest);
    this.reader?.gets.forget(digest);
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.keys.blob(digest) }));
  }

  async deleteMany(digests: readonly string[]): Promise<Map<string, Error>> {
    const failed = new Map<string, Error>();
    const byKey = new Map(digests.map((d) => [this.keys.blob(d), d]));
    const keys = [...byKey.keys()];
    // DeleteObjects takes up to 1,000 keys a request; with Quiet only the failures come back.
    for (let i = 0; i < keys.length; i += 1000) {
      const batch = keys.slice(i, i + 1000);
      try {
        const res = await this.client.send(new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } }));
        for (const e of res.Errors ?? []) {
          const digest = byKey.get(e.Key ?? '');
          if (digest) failed.set(digest, new Error(`S3 DeleteObjects: ${e.Code ?? 'error'}: ${e.Message ?? ''}`));
        }
      } catch (err) {
        for (const key of batch) failed.set(byKey.get(key)!, err as Error);
      }
    }
    return failed;
  }

  createUpload(uploadId: string): Promise<void> {
    return this.staging.create(uploadId);
  }

  appendUpload(uploadId: string, offset: number, source: Readable, hash?: Hash, limit?: number, accept?: (size: number) => Promise<boolean>): Promise<number> {
    return this.staging.append(uploadId, offset, source, hash, limit, accept);
  }

  digestUpload(uploadId: string, size: number, algorithm: DigestAlgorithm): Promise<string> {
    return this.staging.digest(uploadId, size, algorithm);
  }

  /** Copies the staged bytes into a multipart upload to the blob's key (named by their SHA-256), not yet completed. */
  async sealUpload(uploadId: string, size: number): Promise<void> {
    const staged = await this.staging.load(uploadId);
    const digest = await this.staging.digest(uploadId, size, 'sha256');
    if (staged.sealed?.size === size && staged.sealed.digest === digest) return;
    await this.abortSealed(staged);
    staged.sealed = await this.copyParts(uploadId, staged, size, digest);
    await this.staging.save(uploadId, staged);
  }

  async commitUpload(uploadId: string, size: number, digest: Digest): Promise<void> {
    let staged = await this.staging.load(uploadId);
    if (!(staged.sealed?.size === size && staged.sealed.digest === digest.value)) {
      if (digest.algorithm === 'sha256') {
        await this.sealUpload(uploadId, size);
        staged = await this.staging.load(uploadId);
      } else {
        await this.abortSealed(staged);
        staged.sealed = await this.copyParts(uploadId, staged, size, digest.value);
      }
    }
    const sealed = staged.sealed!;
    // The bytes were sealed under their own SHA-256: another writer's bytes (two replicas racing on
    // one upload) never become a blob under a digest they do not have.
    if (sealed.digest !== digest.value) {
      throw new Error(`the staged bytes of upload ${uploadId} have digest ${sealed.digest}, not ${digest.value}`);
    }
    if (sealed.multipartId === '') {
      await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: sealed.key, Body: Buffer.alloc(0), ContentLength: 0 }));
    } else {
      // Some stores (Ceph RGW) answer without an ETag: success is the answer itself, not its fields.
      await this.client.send(new CompleteMultipartUploadCommand({ Bucket: this.bucket, Key: sealed.key, UploadId: sealed.multipartId, MultipartUpload: { Parts: sealed.parts } }), serverSideCopyTimeout(this.settings));
    }
    // The blob is in place. One request (this runs under the metadata transaction); whatever it
    // leaves, the purge of abandoned uploads finds (listUploads lists folders without a state too).
    await this.staging.removeKnown(uploadId, staged).catch(() => undefined);
  }

  async deleteUpload(uploadId: string): Promise<void> {
    const staged = await this.staging.load(uploadId).catch(() => undefined);
    if (staged) await this.abortSealed(staged);
    await this.staging.remove(uploadId);
  }

  listUploads(): AsyncIterable<{ uploadId: string; modifiedAt: number }> {
    return this.staging.list();
  }

  async *listBlobs(): AsyncIterable<{ digest: string; size: number; modifiedAt: number }> {
    let token: string | undefined;
    do {
      const page = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.keys.blobsFolder(), ContinuationToken: token }));
      for (const object of page.Contents ?? []) {
        const digest = this.keys.digestOf(object.Key!);
        if (digest) yield { digest, size: object.Size ?? 0, modifiedAt: object.LastModified?.getTime() ?? 0 };
      }
      token = page.NextContinuationToken;
    } while (token);
  }

  /**
   * Starts a multipart upload to the blob's key and copies the first `size` staged bytes into it,
   * server-side. Every segment but the last is at least 5 MiB, so every part but the last is too.
   */
  private async copyParts(uploadId: string, staged: StagedUpload, size: number, digest: string): Promise<SealedUpload> {
    if (size > stagedSize(staged)) throw new Error(`upload ${uploadId} has ${stagedSize(staged)} staged bytes, not ${size}`);
    const key = this.keys.blob(digest);
    if (size === 0) return { size, digest, key, multipartId: '', parts: [] };
    const created = await this.client.send(new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: key, ContentType: 'application/octet-stream' }));
    const multipartId = created.UploadId!;
    const parts: SealedUpload['parts'] = [];
    try {
      for (const segment of cutSegments(staged.segments, size).kept) {
        const pieces = Math.ceil(segment.length / MAX_COPY_PART);
        const piece = Math.ceil(segment.length / pieces);
        for (let from = 0; from < segment.length; from += piece) {
          const to = Math.min(segment.length, from + piece) - 1;
          const PartNumber = parts.length + 1;
          const copied = await this.client.send(new UploadPartCopyCommand({
            Bucket: this.bucket,
            Key: key,
            UploadId: multipartId,
            PartNumber,
            CopySource: `${this.bucket}/${this.staging.segmentKey(uploadId, segment)}`,
            CopySourceRange: `bytes=${from}-${to}`,
          }), serverSideCopyTimeout(this.settings));
          parts.push({ PartNumber, ETag: copied.CopyPartResult!.ETag! });
        }
      }
    } catch (err) {
      await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: multipartId })).catch(() => undefined);
      throw err;
    }
    return { size, digest, key, multipartId, parts };
  }

  private async abortSealed(staged: StagedUpload): Promise<void> {
    const sealed = staged.sealed;
    delete staged.sealed;
    if (!sealed?.multipartId) return;
    // Already completed or aborted: nothing is left to free.
    await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: sealed.key, UploadId: sealed.multipartId })).catch(() => undefined);
  }
}

/** Said as the filesystem driver says it, so the registry reports a missing blob the same way. */
function notInBucket(digest: string): Error {
  return Object.assign(new Error(`blob ${digest} is not in the bucket`), { code: 'ENOENT' });
}

function isNotFound(err: unknown): boolean {
  return err instanceof S3ServiceException && (err.$metadata.httpStatusCode === 404 || err.name === 'NotFound' || err.name === 'NoSuchKey');
}
