import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { S3Keys } from './s3-client.js';

/** Presigned URLs kept for reuse (about a kilobyte each). */
const CACHE_SIZE = 4096;

/**
 * Presigned GETs of blobs by digest, each reused while at least half its life is left. Signing costs
 * the SDK a few milliseconds of CPU (middleware, endpoint resolution, HMAC chain), which in a rollout
 * (many clients, the same few layers at once) was most of Wharf's work per request. Every puller
 * still passes the registry's checks first; a reused URL is valid no longer than a fresh one.
 * A URL holds a signature: it goes to the store or to an authorised client, never to a log.
 */
export class PresignedGets {
  /** By digest; a URL being signed is there too, so many pulls of a new blob at once sign it once. */
  private readonly urls = new Map<string, { url: Promise<string>; reuseUntil: number }>();

  constructor(private readonly client: S3Client, private readonly bucket: string, private readonly keys: S3Keys, private readonly ttlSeconds: number) {}

  url(digest: string): Promise<string> {
    const now = Date.now();
    const cached = this.urls.get(digest);
    if (cached && cached.reuseUntil > now) return cached.url;
    const ttl = Math.max(1, Math.round(this.ttlSeconds));
    const url = getSignedUrl(this.client, new GetObjectCommand({ Bucket: this.bucket, Key: this.keys.blob(digest) }), { expiresIn: ttl });
    const entry = { url, reuseUntil: now + (ttl * 1000) / 2 };
    this.urls.delete(digest);
    // Bounded: the oldest entry goes first (a Map iterates in insertion order).
    if (this.urls.size >= CACHE_SIZE) this.urls.delete(this.urls.keys().next().value!);
    this.urls.set(digest, entry);
    // A signing that failed (credentials not to be had) is not kept.
    url.catch(() => {
      if (this.urls.get(digest) === entry) this.urls.delete(digest);
    });
    return url;
  }

  /**
   * Signs a URL that is thrown away: the presigner's code loads and compiles on its first use
   * (about 12 ms of CPU), which would otherwise fall on the first pull after a start.
   */
  warmUp(): void {
    getSignedUrl(this.client, new GetObjectCommand({ Bucket: this.bucket, Key: this.keys.blobsFolder() }), { expiresIn: 1 }).catch(() => undefined);
  }

  forget(digest: string): void {
    this.urls.delete(digest);
  }
}
