import { randomUUID, type Hash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { RegistryError } from '../oci/errors.js';
import { createDigester, parseDigest, type Digest } from '../oci/digest.js';
import { assertRepositoryName } from '../oci/names.js';
import { insertBlob, linkBlob } from '../metadata/blobs.js';
import { ensureRepository } from '../metadata/repositories.js';
import * as uploads from '../metadata/uploads.js';
import type { UploadSession } from '../metadata/uploads.js';
import type { RegistryContext } from './context.js';
import type { BlobInfo } from './blobs.js';
import { KeyedMutex } from './keyed-mutex.js';
import { UploadBehindError, UploadTooLargeError } from '../storage/ports.js';
import { isStorageFull, storageFullError } from '../storage/full.js';

export type { UploadSession };

/** A chunk's declared place in the blob, from `Content-Range: <start>-<end>`. */
export interface ChunkRange {
  start: number;
  end: number;
}

/** The running digest of an upload, valid while `size` equals the session's size. */
interface HashState {
  hash: Hash;
  size: number;
}

const UPLOAD_ID = /^[a-f0-9-]{36}$/;
/** Running digests kept at most; past it, completion re-reads the staged bytes instead. */
const MAX_HASH_STATES = 4096;

/**
 * Blob upload sessions (POST, PATCH, PUT, GET, DELETE on /blobs/uploads/).
 * Session state lives in the metadata store so any replica can continue an upload; the running
 * digest is a per-process cache, and when it is missing or stale the staged bytes are re-read.
 */
export class UploadService {
  private readonly hashes = new Map<string, HashState>();
  private readonly mutex = new KeyedMutex();

  constructor(private readonly ctx: RegistryContext) {}

  async start(name: string): Promise<UploadSession> {
    assertRepositoryName(name);
    const now = this.ctx.now();
    const repositoryId = await ensureRepository(this.ctx.db, name, now);
    const id = randomUUID();
    await this.ctx.store.createUpload(id);
    try {
      await uploads.insertUpload(this.ctx.db, { id, repository_id: repositoryId, size: 0, created_at: now, updated_at: now });
    } catch (err) {
      await this.abandon(id, err);
      throw isStorageFull(err) ? storageFullError(err) : err;
    }
    this.hashes.set(id, { hash: createDigester('sha256'), size: 0 });
    this.trimHashes();
    return { id, repositoryId, repositoryName: name, size: 0, createdAt: now, updatedAt: now };
  }

  async get(name: string, id: string): Promise<UploadSession> {
    assertRepositoryName(name);
    const session = UPLOAD_ID.test(id) ? await uploads.findUpload(this.ctx.db, name, id) : undefined;
    if (!session) throw uploadUnknown(id);
    return session;
  }

  /**
   * Appends a chunk. With a range, it must start where the upload ends (else 416 with the current
   * Range) and the body must be exactly that long. Without one, the body is streamed to the end.
   */
  async append(name: string, id: string, body: Readable, range?: ChunkRange, contentLength?: number): Promise<UploadSession> {
    return this.mutex.run(id, async () => {
      const session = await this.get(name, id);
      if (range) {
        if (range.start !== session.size || range.end < range.start) {
          throw rangeNotSatisfiable(session, `chunk ${range.start}-${range.end} does not continue the upload, which has ${session.size} bytes: resume from byte ${session.size}`);
        }
        if (contentLength !== undefined && contentLength !== range.end - range.start + 1) {
          throw rangeNotSatisfiable(session, `Content-Length ${contentLength} does not match Content-Range ${range.start}-${range.end}`);
        }
      }
      const expected = range ? range.end - range.start + 1 : contentLength;
      const size = await this.write(session, body, expected);
      return { ...session, size, updatedAt: this.ctx.now() };
    });
  }

  /** Completes the upload with an optional last chunk; the digest must match every byte received. */
  async complete(name: string, id: string, digestText: string | undefined, body: Readable | undefined, range?: ChunkRange, contentLength?: number): Promise<BlobInfo> {
    return this.mutex.run(id, async () => {
      const session = await this.get(name, id);
      if (!digestText) throw new RegistryError('DIGEST_INVALID', 'the digest query parameter is required to complete an upload', null);
      const digest = parseDigest(digestText);
      let size = session.size;
      if (body && (contentLength === undefined || contentLength > 0)) {
        if (range && range.start !== session.size) {
          throw rangeNotSatisfiable(session, `chunk ${range.start}-${range.end} does not continue the upload, which has ${session.size} bytes`);
        }
        size = await this.write(session, body, range ? range.end - range.start + 1 : contentLength);
      }
      return this.commit(session, size, digest);
    });
  }

  /** A whole blob in one request (POST ?digest=). */
  async putMonolithic(name: string, digestText: string, body: Readable, contentLength?: number): Promise<BlobInfo> {
    const digest = parseDigest(digestText);
    const session = await this.start(name);
    return this.mutex.run(session.id, async () => {
      try {
        const size = await this.write(session, body, contentLength);
        return await this.commit(session, size, digest);
      } catch (err) {
        await this.abandon(session.id, err);
        throw err;
      }
    });
  }

  async cancel(name: string, id: string): Promise<void> {
    await this.mutex.run(id, async () => {
      const session = await this.get(name, id);
      await this.discard(session.id);
    });
  }

  /** Removes sessions untouched for longer than the configured expiry, and staged files no session owns. */
  async purgeExpired(): Promise<number> {
    const now = this.ctx.now();
    const cutoff = now - this.ctx.settings.uploadExpiry * 1000;
    let purged = 0;
    for (;;) {
      const expired = await uploads.listExpiredUploads(this.ctx.db, cutoff, 500);
      for (const id of expired) {
        await this.mutex.run(id, () => this.discard(id));
        purged++;
      }
      if (expired.length < 500) break;
    }
    for await (const staged of this.ctx.store.listUploads()) {
      if (staged.modifiedAt < cutoff && !(await uploads.uploadExists(this.ctx.db, staged.uploadId))) {
        await this.ctx.store.deleteUpload(staged.uploadId);
        purged++;
      }
    }
    return purged;
  }

  /**
   * Streams a chunk into the staging area; the session's size in the database decides whether it
   * counts. The in-process mutex orders requests of one replica; across replicas, two requests
   * writing the same chunk at once are told apart by the conditional advance of the session's size
   * (only one moves it), and the store publishes only the accepted write's bytes.
   */
  private async write(session: UploadSession, body: Readable, expected?: number): Promise<number> {
    const cached = this.hashes.get(session.id);
    const hash = cached && cached.size === session.size ? cached.hash : undefined;
    // Until the write succeeds the cached digest may hold bytes the session will not count.
    this.hashes.delete(session.id);
    const limit = expected === undefined ? undefined : session.size + expected;
    let advanced = false;
    const accept = async (size: number): Promise<boolean> => {
      // A chunk shorter than declared is not counted (SIZE_INVALID below), nor published.
      if (expected !== undefined && size - session.size !== expected) return false;
      advanced = await uploads.advanceUpload(this.ctx.db, session.id, session.size, size, this.ctx.now());
      return advanced;
    };
    let size: number;
    try {
      size = await this.ctx.store.appendUpload(session.id, session.size, body, hash, limit, accept);
    } catch (err) {
      if (err instanceof UploadTooLargeError) {
        throw new RegistryError('SIZE_INVALID', `the request body is longer than the ${expected} bytes declared`, { declared: expected });
      }
      if (err instanceof UploadBehindError) throw await this.rewind(session, session.size, err.staged);
      if (isStorageFull(err)) throw await this.outOfSpace(session.id, err);
      throw err;
    }
    if (expected !== undefined && size - session.size !== expected) {
      throw new RegistryError('SIZE_INVALID', `received ${size - session.size} bytes but ${expected} were declared: the chunk was not stored, resume from byte ${session.size}`, { received: size - session.size, declared: expected });
    }
    if (!advanced) {
      const now = await uploads.findUpload(this.ctx.db, session.repositoryName, session.id);
      if (!now) throw uploadUnknown(session.id);
      throw rangeNotSatisfiable(now, `another request wrote to this upload at the same time (on this or another replica), and its bytes were kept, not these: the upload now has ${now.size} bytes, resume from byte ${now.size}`);
    }
    if (hash) this.hashes.set(session.id, { hash, size });
    return size;
  }

  /**
   * The staging area lost the end of what the session counted (a replica died between counting a
   * chunk and publishing it): the session goes back to what is staged, and the client resumes there.
   */
  private async rewind(session: UploadSession, counted: number, staged: number): Promise<RegistryError> {
    await uploads.advanceUpload(this.ctx.db, session.id, counted, staged, this.ctx.now());
    const now = await uploads.findUpload(this.ctx.db, session.repositoryName, session.id);
    if (!now) return uploadUnknown(session.id);
    return rangeNotSatisfiable(now, `the upload has only ${now.size} bytes stored: resume from byte ${now.size}`);
  }

  /**
   * A full disk ends the upload at once: its staged bytes would only hold space until the upload
   * expires, and the client (told to push again) starts a new one anyway.
   */
  private async outOfSpace(id: string, err: unknown): Promise<RegistryError> {
    await this.abandon(id, err);
    return storageFullError(err, 'storage is full: the registry ran out of space while storing this upload, which was discarded; push the blob again once space has been freed');
  }

  private async commit(session: UploadSession, size: number, digest: Digest): Promise<BlobInfo> {
    const cached = this.hashes.get(session.id);
    this.hashes.delete(session.id);
    const actual = digest.algorithm === 'sha256' && cached && cached.size === size
      ? `sha256:${cached.hash.digest('hex')}`
      : await this.ctx.store.digestUpload(session.id, size, digest.algorithm).catch(async (err: unknown) => {
        throw err instanceof UploadBehindError ? await this.rewind(session, size, err.staged) : err;
      });
    if (actual !== digest.value) {
      await this.abandon(session.id, 'digest mismatch');
      throw new RegistryError('DIGEST_INVALID', `the uploaded content has digest ${actual}, not ${digest.value}: the upload was discarded, push the blob again`, { expected: digest.value, actual });
    }
    try {
      await this.ctx.hooks.beforeBlobStored?.(session.repositoryName, digest.value, size);
    } catch (err) {
      await this.abandon(session.id, err);
      throw err;
    }
    try {
      // The bytes are durable before any row makes them visible: sealing (the long fsync) first,
      // then the rename into place and the rows under the blob's lock, so the garbage collector
      // cannot delete the file between the rename and the rows that make it live.
      await this.ctx.store.sealUpload(session.id, size);
      const now = this.ctx.now();
      await this.ctx.locks.storing(this.ctx.db, digest.value, () => this.ctx.store.commitUpload(session.id, size, digest), async (trx) => {
        await insertBlob(trx, digest.value, size, now);
        await linkBlob(trx, session.repositoryId, digest.value, now);
        await uploads.deleteUpload(trx, session.id);
      });
    } catch (err) {
      // A blob committed to the store without its rows is invisible; it may be another
      // repository's too, so it stays (the garbage collector sweeps files no row knows).
      if (isStorageFull(err)) throw await this.outOfSpace(session.id, err);
      throw err;
    }
    return { digest: digest.value, size };
  }

  private async discard(id: string): Promise<void> {
    this.hashes.delete(id);
    await uploads.deleteUpload(this.ctx.db, id);
    await this.ctx.store.deleteUpload(id);
  }

  /**
   * Removes a session after a failure without ever replacing that failure: the client must hear
   * what went wrong, not that the cleanup failed too. The staged bytes go first, because on a full
   * disk removing them is what gives the database room to delete the row. Whatever is left
   * behind, the purge of abandoned uploads removes.
   */
  private async abandon(id: string, failure: unknown): Promise<void> {
    this.hashes.delete(id);
    const leftovers: string[] = [];
    await this.ctx.store.deleteUpload(id).catch((err: unknown) => { leftovers.push(`staged file: ${(err as Error).message}`); });
    await uploads.deleteUpload(this.ctx.db, id).catch((err: unknown) => { leftovers.push(`session row: ${(err as Error).message}`); });
    if (leftovers.length > 0) {
      this.ctx.log.warn({ uploadId: id, failure: failure instanceof Error ? failure.message : String(failure), leftovers }, 'could not remove a failed upload at once; the purge of abandoned uploads will');
    }
  }

  private trimHashes(): void {
    while (this.hashes.size > MAX_HASH_STATES) {
      const oldest = this.hashes.keys().next().value;
      if (oldest === undefined) break;
      this.hashes.delete(oldest);
    }
  }
}

export function uploadUnknown(id: string): RegistryError {
  return new RegistryError('BLOB_UPLOAD_UNKNOWN', `upload ${id.slice(0, 64)} is unknown, finished or expired: start a new upload`, { uuid: id.slice(0, 64) });
}

function rangeNotSatisfiable(session: UploadSession, message: string): RegistryError {
  return new RegistryError('BLOB_UPLOAD_INVALID', message, { uuid: session.id, size: session.size }, {
    status: 416,
    headers: {
      Range: `0-${Math.max(session.size - 1, 0)}`,
      Location: `/v2/${session.repositoryName}/blobs/uploads/${session.id}`,
      'Docker-Upload-UUID': session.id,
    },
  });
}

/** Parses `Content-Range: <start>-<end>` (also with a `bytes ` or `bytes=` prefix). */
export function parseContentRange(header: string | undefined): ChunkRange | undefined {
  if (header === undefined) return undefined;
  const match = /^(?:bytes[ =])?(\d{1,15})-(\d{1,15})(?:\/(?:\d+|\*))?$/.exec(header.trim());
  if (!match) {
    throw new RegistryError('BLOB_UPLOAD_INVALID', `Content-Range "${header.slice(0, 60)}" is not of the form <start>-<end>`, null, { status: 416 });
  }
  return { start: Number(match[1]), end: Number(match[2]) };
}
