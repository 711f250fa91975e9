import type { Readable, Writable } from 'node:stream';
import type { Hash } from 'node:crypto';
import type { Digest, DigestAlgorithm } from '../oci/digest.js';

export interface ByteRange {
  /** First byte, inclusive. */
  start: number;
  /** Last byte, inclusive. */
  end: number;
}

/**
 * The storage port: bytes by digest, plus the staging area uploads are written into.
 * Drivers know nothing of repositories or metadata (Distribution's storagedriver idea);
 * every driver passes the same suite in test/integration/blob-store.test.ts.
 */
export interface BlobStore {
  readonly name: string;
  /** Size of a committed blob, or null when the store does not hold it. */
  stat(digest: string): Promise<{ size: number } | null>;
  /** Streams a committed blob, or a byte range of it. */
  read(digest: string, range?: ByteRange): Promise<BlobStream>;
  delete(digest: string): Promise<void>;
  /**
   * Deletes many blobs in few requests (S3 DeleteObjects); what could not be deleted, by digest, with
   * why. Optional: deleteBlobs (delete-blobs.ts) runs several deletes at once for drivers without it.
   */
  deleteMany?(digests: readonly string[]): Promise<Map<string, Error>>;

  /** Starts an empty staged upload. */
  createUpload(uploadId: string): Promise<void>;
  /**
   * Writes `source` into the staged upload from `offset`, discarding anything staged past it
   * (bytes of an interrupted earlier write), and feeds the same bytes to `hash` when given.
   * Resolves to the staged size; rejects if the source fails or exceeds `limit` bytes.
   * `accept` is asked, once the bytes are written and before a driver whose writes can race across
   * replicas (S3) makes them the upload's, whether they count: when it says no, they are dropped and
   * the upload keeps what it had. Throws UploadBehindError when fewer than `offset` bytes are staged.
   */
  appendUpload(uploadId: string, offset: number, source: Readable, hash?: Hash, limit?: number, accept?: (size: number) => Promise<boolean>): Promise<number>;
  /** Digest of the first `size` staged bytes, read back from the staging area. */
  digestUpload(uploadId: string, size: number, algorithm: DigestAlgorithm): Promise<string>;
  /**
   * Cuts the staged upload to `size` bytes and makes them durable, the slow part of a commit, so that
   * the commitUpload that follows (under the blob's lock) is quick. Required before commitUpload.
   */
  sealUpload(uploadId: string, size: number): Promise<void>;
  /**
   * After sealUpload: makes the first `size` staged bytes the blob `digest`, durably and atomically: a reader sees the
   * whole blob or nothing. The caller has verified the digest. The staged upload is removed.
   */
  commitUpload(uploadId: string, size: number, digest: Digest): Promise<void>;
  deleteUpload(uploadId: string): Promise<void>;
  /** Staged uploads, to find the ones metadata no longer knows (after a crash). */
  listUploads(): AsyncIterable<{ uploadId: string; modifiedAt: number }>;
  /** Every committed blob, to find the ones metadata no longer knows (garbage collection, fsck). */
  listBlobs(): AsyncIterable<{ digest: string; size: number; modifiedAt: number }>;
  /** Rejects, saying why, when the store cannot be written now (readiness probes). */
  check(): Promise<void>;
  /**
   * A URL the client may fetch the blob from directly instead of through Wharf (Distribution's
   * redirect), or null when the driver is not set to redirect. Callers check access first.
   */
  redirectUrl?(digest: string): Promise<string | null>;
  /** Where the bytes are kept and the room left there, for drivers on a disk (for the log when it is full). */
  space?(): Promise<StorageSpace>;
}

export interface StorageSpace {
  /** The directory (or bucket) the driver writes to. */
  location: string;
  /** Bytes an unprivileged writer may still use there. */
  freeBytes: number;
  totalBytes: number;
}

/**
 * A blob being read. A driver may also offer `writeTo`, a cheaper way to send the same bytes to a
 * destination than reading the stream (as Go's io.WriterTo lets io.Copy skip a buffer); a caller
 * uses one or the other, and `writeTo` releases what the stream holds. A driver may refill a
 * chunk's memory once the destination's write callback has run, so the destination must be done
 * with a chunk by then (sockets and HTTP responses are; a collector must copy).
 */
export type BlobStream = Readable & { writeTo?(destination: Writable): Promise<void> };

/** A staged upload received more bytes than the caller allowed. */
/** The staging area holds fewer bytes than the session counts (a crash between counting them and publishing them). */
export class UploadBehindError extends Error {
  constructor(readonly staged: number, offset: number) {
    super(`the upload has ${staged} staged bytes: cannot write from byte ${offset}`);
    this.name = 'UploadBehindError';
  }
}

export class UploadTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`upload exceeds ${limit} bytes`);
    this.name = 'UploadTooLargeError';
  }
}
