import { HeadBucketCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { tryParseDigest } from '../../oci/digest.js';

/** What the S3 driver needs from the configuration (storage.s3*). */
export interface S3Settings {
  endpoint: string;
  region: string;
  bucket: string;
  prefix: string;
  forcePathStyle: boolean;
  redirect: boolean;
  /** Seconds a presigned redirect URL stays valid. */
  redirectTtl: number;
  accessKeyId: string;
  secretAccessKey: string;
  /** Seconds to connect, or to wait for the store's next bytes. */
  requestTimeout: number;
}

const UPLOAD_ID = /^[a-zA-Z0-9-]{1,64}$/;

/** Where each thing lives in the bucket: blobs by digest, each staged upload under its own folder. */
export class S3Keys {
  constructor(private readonly prefix: string) {}

  blob(digest: string): string {
    // Only a parsed digest becomes a key: its hex encoding cannot hold a separator.
    const parsed = tryParseDigest(digest);
    if (!parsed) throw new Error(`not a digest: ${digest}`);
    return `${this.blobsFolder()}${parsed.algorithm}/${parsed.hex}`;
  }

  blobsFolder(): string {
    return `${this.prefix}blobs/`;
  }

  /** The digest a key of blobsFolder() names, or null for anything else found there. */
  digestOf(key: string): string | null {
    const rest = key.slice(this.blobsFolder().length);
    const slash = rest.indexOf('/');
    if (slash < 0) return null;
    return tryParseDigest(`${rest.slice(0, slash)}:${rest.slice(slash + 1)}`)?.value ?? null;
  }

  uploadsFolder(): string {
    return `${this.prefix}uploads/`;
  }

  upload(uploadId: string, leaf: string): string {
    if (!UPLOAD_ID.test(uploadId)) throw new Error(`not an upload id: ${uploadId}`);
    return `${this.uploadsFolder()}${uploadId}/${leaf}`;
  }
}

/**
 * The wait of a server-side copy or multipart completion: the store moves up to gigabytes before it
 * answers, and an answer that takes long is still progress, unlike a silent plain request.
 */
export function serverSideCopyTimeout(settings: S3Settings): { requestTimeout: number } {
  return { requestTimeout: Math.max(settings.requestTimeout, 900) * 1000 };
}

/** Connections to the store at once (per replica); keep-alive reuses them between requests. */
export const S3_MAX_SOCKETS = 512;

export function createS3Client(settings: S3Settings): S3Client {
  return new S3Client({
    region: settings.region,
    endpoint: settings.endpoint || undefined,
    forcePathStyle: settings.forcePathStyle,
    credentials: settings.accessKeyId ? { accessKeyId: settings.accessKeyId, secretAccessKey: settings.secretAccessKey } : undefined,
    // Bounded waits: a store that stops answering fails the request instead of holding it (without
    // throwOnRequestTimeout the SDK only logs a warning and waits on). requestTimeout runs until the
    // response headers, so a long download that has started is not cut.
    requestHandler: {
      connectionTimeout: settings.requestTimeout * 1000, requestTimeout: settings.requestTimeout * 1000, throwOnRequestTimeout: true,
      // The SDK's default of 50 sockets caps concurrent pulls at 50 streams, each holding its socket
      // until the client has read the whole blob: a rollout to more clients waited in the queue.
      httpAgent: { keepAlive: true, maxSockets: S3_MAX_SOCKETS }, httpsAgent: { keepAlive: true, maxSockets: S3_MAX_SOCKETS },
    },
    maxAttempts: 3,
    // Bodies are checksummed by the digest Wharf verifies; the SDK's extra CRC32 on every request
    // is not understood by every S3-compatible store.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

/**
 * Proves the bucket answers with these credentials, so a wrong endpoint, bucket or key stops the
 * start with a message saying which, rather than failing every push later.
 */
export async function checkBucket(client: S3Client, settings: S3Settings): Promise<void> {
  const where = `bucket "${settings.bucket}" at ${settings.endpoint || `AWS S3 (${settings.region})`}`;
  try {
    await client.send(new HeadBucketCommand({ Bucket: settings.bucket }), { abortSignal: AbortSignal.timeout(settings.requestTimeout * 1000) });
  } catch (err) {
    const status = err instanceof S3ServiceException ? err.$metadata.httpStatusCode : undefined;
    const hint = status === 404 ? 'it does not exist: create it, or fix storage.s3Bucket (WHARF_STORAGE_S3_BUCKET)'
      : status === 403 || status === 401 ? 'access is denied: check the credentials (storage.s3AccessKeyId/s3SecretAccessKey or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY) and their rights on the bucket'
      : status === 301 || status === 400 ? 'the store refused the request: check storage.s3Region and storage.s3ForcePathStyle'
      : `the store cannot be reached (${(err as Error).message || (err as Error).name}): check storage.s3Endpoint (WHARF_STORAGE_S3_ENDPOINT) and that the store is running`;
    throw new Error(`S3 storage unusable: ${where}: ${hint}`, { cause: err });
  }
}
