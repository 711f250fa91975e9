import { createHash, randomBytes, type Hash } from 'node:crypto';
import { Readable, Transform } from 'node:stream';
import { AbortMultipartUploadCommand, DeleteObjectsCommand, GetObjectCommand, ListObjectsV2Command, NoSuchKey, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { createSHA256, type IHasher } from 'hash-wasm';
import type { DigestAlgorithm } from '../../oci/digest.js';
import { UploadBehindError, UploadTooLargeError } from '../ports.js';
import type { S3Keys } from './s3-client.js';

/** S3's smallest part of a multipart upload, except the last. */
export const MIN_PART = 5 * 1024 * 1024;
/** Part size of the streamed writes of a chunk: memory per write is this times the queue. */
const WRITE_PART = 8 * 1024 * 1024;

/**
 * One object of a staged upload: bytes [start, start + length) of the upload. The object may be
 * longer than `length` after a cut (bytes of an interrupted write). `sha256` is the saved state of
 * a SHA-256 of the upload's bytes up to the segment's end, so that any replica can continue the
 * running digest without re-reading the upload.
 */
export interface Segment {
  leaf: string;
  start: number;
  length: number;
  sha256?: string;
}

/** A sealed upload: a multipart upload to the blob's key, every part copied, waiting to be completed. */
export interface SealedUpload {
  size: number;
  digest: string;
  key: string;
  /** Empty for a zero-byte blob, which is a plain put. */
  multipartId: string;
  parts: { PartNumber: number; ETag: string }[];
}

/**
 * What an upload has staged, kept beside its objects in `uploads/<id>/state.json`. Every segment but
 * the last is at least MIN_PART long, so the segments can be copied into the blob as multipart parts
 * without moving the bytes through Wharf.
 */
export interface StagedUpload {
  segments: Segment[];
  sealed?: SealedUpload;
}

export class UploadNotStagedError extends Error {
  constructor(uploadId: string) {
    super(`upload ${uploadId} has nothing staged in the bucket (removed, or never created)`);
    this.name = 'UploadNotStagedError';
  }
}

export const stagedSize = (staged: StagedUpload): number => {
  const last = staged.segments.at(-1);
  return last ? last.start + last.length : 0;
};

/** The segments holding the first `size` bytes; a segment cut short loses its saved digest state. */
export function cutSegments(segments: Segment[], size: number): { kept: Segment[]; dropped: Segment[] } {
  const kept: Segment[] = [];
  const dropped: Segment[] = [];
  for (const segment of segments) {
    if (segment.start >= size) dropped.push(segment);
    else if (segment.start + segment.length > size) kept.push({ leaf: segment.leaf, start: segment.start, length: size - segment.start });
    else kept.push(segment);
  }
  return { kept, dropped };
}

/** Staged uploads in a bucket: segments written by any replica, read back by range. */
export class S3Staging {
  constructor(private readonly client: S3Client, private readonly bucket: string, private readonly keys: S3Keys) {}

  async create(uploadId: string): Promise<void> {
    await this.save(uploadId, { segments: [] });
  }

  async load(uploadId: string): Promise<StagedUpload> {
    try {
      const res = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.keys.upload(uploadId, 'state.json') }));
      return JSON.parse(await res.Body!.transformToString()) as StagedUpload;
    } catch (err) {
      if (err instanceof NoSuchKey) throw new UploadNotStagedError(uploadId);
      throw err;
    }
  }

  async save(uploadId: string, staged: StagedUpload): Promise<void> {
    await this.client.send(new PutObjectCommand({
      Bucket: this.bucket,
      Key: this.keys.upload(uploadId, 'state.json'),
      Body: JSON.stringify(staged),
      ContentType: 'application/json',
    }));
  }

  segmentKey(uploadId: string, segment: Segment): string {
    return this.keys.upload(uploadId, segment.leaf);
  }

  /**
   * Writes `source` from `offset`. A last segment shorter than MIN_PART is rewritten with the new
   * bytes appended (a re-read of under 5 MiB), so small chunks still add up to valid parts.
   * The new segment goes to a key of its own; only when `accept` agrees does the state name it.
   * Two writes of the same chunk on two replicas both write a segment, and the state must end up
   * naming the one the database counted, not the one saved last.
   */
  async append(uploadId: string, offset: number, source: Readable, hash?: Hash, limit = Number.MAX_SAFE_INTEGER, accept?: (size: number) => Promise<boolean>): Promise<number> {
    const staged = await this.load(uploadId);
    const size = stagedSize(staged);
    if (offset > size) throw new UploadBehindError(size, offset);
    const { kept, dropped } = cutSegments(staged.segments, offset);
    const running = await this.hasherAt(uploadId, kept, offset);
    const last = kept.at(-1);
    const merged = last && last.length < MIN_PART ? last : undefined;
    const start = merged ? merged.start : offset;

    let written = offset;
    let failure: unknown;
    const meter = new Transform({
      transform(chunk: Buffer, _enc, callback) {
        written += chunk.length;
        if (written > limit) return callback(failure = new UploadTooLargeError(limit));
        hash?.update(chunk);
        running.update(chunk);
        callback(null, chunk);
      },
    });
    // The short segment's bytes are asked for before the source flows, so a failure here leaves it untouched.
    const previous = merged ? await this.readSegment(uploadId, merged, 0, merged.length) : undefined;
    source.on('error', (err) => { failure ??= err; meter.destroy(err); });
    source.pipe(meter);
    const body = Readable.from((async function* () {
      if (previous) yield* previous;
      yield* meter;
    })());
    const segment: Segment = { leaf: `segment-${Date.now().toString(36)}-${randomBytes(6).toString('hex')}`, start, length: 0 };
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.bucket, Key: this.segmentKey(uploadId, segment), Body: body },
      partSize: WRITE_PART,
      queueSize: 2,
      leavePartsOnError: false,
    });
    try {
      await upload.done();
    } catch (err) {
      source.unpipe(meter);
      source.destroy();
      previous?.destroy();
      throw failure ?? err;
    }
    segment.length = written - start;
    segment.sha256 = Buffer.from(running.save()).toString('base64');
    const counted = await (accept ? accept(written) : Promise.resolve(true)).catch(async (err: unknown) => {
      await this.deleteKeys([this.segmentKey(uploadId, segment)]).catch(() => undefined);
      throw err;
    });
    if (!counted) {
      await this.deleteKeys([this.segmentKey(uploadId, segment)]).catch(() => undefined);
      return written;
    }
    const superseded = [...dropped, ...(merged ? [merged] : [])];
    const next: StagedUpload = { segments: [...kept.filter((s) => s !== merged), ...(segment.length > 0 ? [segment] : [])] };
    if (segment.length === 0) superseded.push(segment);
    await this.save(uploadId, next);
    await this.deleteKeys(superseded.map((s) => this.segmentKey(uploadId, s))).catch(() => undefined);
    // A seal of the bytes before this chunk will not be completed: free its copied parts.
    if (staged.sealed?.multipartId) {
      await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: staged.sealed.key, UploadId: staged.sealed.multipartId })).catch(() => undefined);
    }
    return written;
  }

  /** Digest of the first `size` bytes: from the saved state when a segment ends there, else from the nearest one before. */
  async digest(uploadId: string, size: number, algorithm: DigestAlgorithm): Promise<string> {
    const staged = await this.load(uploadId);
    if (size > stagedSize(staged)) throw new UploadBehindError(stagedSize(staged), size);
    const { kept } = cutSegments(staged.segments, size);
    if (algorithm === 'sha256') return `sha256:${(await this.hasherAt(uploadId, kept, size)).digest('hex')}`;
    const hash = createHash(algorithm);
    for (const segment of kept) {
      for await (const chunk of await this.readSegment(uploadId, segment, 0, segment.length)) hash.update(chunk as Buffer);
    }
    return `${algorithm}:${hash.digest('hex')}`;
  }

  /** A SHA-256 of the first `size` bytes of `kept`, resumed from the last saved state at or before `size`. */
  private async hasherAt(uploadId: string, kept: Segment[], size: number): Promise<IHasher> {
    const hasher = await createSHA256();
    hasher.init();
    let from = 0;
    for (let i = kept.length - 1; i >= 0; i--) {
      const segment = kept[i]!;
      if (segment.sha256 && segment.start + segment.length <= size) {
        hasher.load(Buffer.from(segment.sha256, 'base64'));
        from = segment.start + segment.length;
        break;
      }
    }
    for (const segment of kept) {
      const end = segment.start + segment.length;
      if (end <= from) continue;
      const first = Math.max(from, segment.start) - segment.start;
      for await (const chunk of await this.readSegment(uploadId, segment, first, Math.min(end, size) - segment.start)) hasher.update(chunk as Buffer);
    }
    return hasher;
  }

  /** Bytes [from, to) of a segment's object. */
  async readSegment(uploadId: string, segment: Segment, from: number, to: number): Promise<Readable> {
    if (to <= from) return Readable.from([]);
    const res = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.segmentKey(uploadId, segment), Range: `bytes=${from}-${to - 1}` }));
    return res.Body as Readable;
  }

  /** Every object of the upload, whatever its state says (a crash may have left more). */
  async remove(uploadId: string): Promise<void> {
    const folder = this.keys.upload(uploadId, '');
    let token: string | undefined;
    do {
      const page = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: folder, ContinuationToken: token }));
      await this.deleteKeys((page.Contents ?? []).map((o) => o.Key!));
      token = page.NextContinuationToken;
    } while (token);
  }

  async deleteKeys(keys: string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += 1000) {
      const batch = keys.slice(i, i + 1000);
      if (batch.length === 0) continue;
      const res = await this.client.send(new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } }));
      if (res.Errors?.length) throw new Error(`could not delete ${res.Errors.length} staged objects: ${res.Errors[0]!.Message ?? res.Errors[0]!.Code}`);
    }
  }

  /**
   * Every upload with objects in the bucket, with its latest change: also a folder whose state.json
   * is gone, so that objects a failed cleanup left behind are still found by the purge.
   */
  async *list(): AsyncIterable<{ uploadId: string; modifiedAt: number }> {
    const folder = this.keys.uploadsFolder();
    let current: { uploadId: string; modifiedAt: number } | undefined;
    let token: string | undefined;
    do {
      const page = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: folder, ContinuationToken: token }));
      // Keys come in order, so the objects of one upload are listed together.
      for (const object of page.Contents ?? []) {
        const match = /^([a-zA-Z0-9-]{1,64})\//.exec(object.Key!.slice(folder.length));
        if (!match) continue;
        const uploadId = match[1]!;
        const modifiedAt = object.LastModified?.getTime() ?? 0;
        if (current?.uploadId === uploadId) {
          current.modifiedAt = Math.max(current.modifiedAt, modifiedAt);
          continue;
        }
        if (current) yield current;
        current = { uploadId, modifiedAt };
      }
      token = page.NextContinuationToken;
    } while (token);
    if (current) yield current;
  }

  /** The objects a state names, and the state itself: one request, for the end of a commit. */
  async removeKnown(uploadId: string, staged: StagedUpload): Promise<void> {
    await this.deleteKeys([...staged.segments.map((s) => this.segmentKey(uploadId, s)), this.keys.upload(uploadId, 'state.json')]);
  }
}
