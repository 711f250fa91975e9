import { randomBytes } from 'node:crypto';
import { DeleteObjectsCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { createS3Client, type S3Settings } from '../../src/storage/s3/s3-client.js';

/**
 * The S3 store of the test run (test/run.mjs starts radosgw for files that import this module).
 * Each caller gets its own key prefix in the shared bucket; credentials come from the AWS_*
 * variables, through the SDK's default chain, as in a deployment without keys in the config.
 */
export function s3TestSettings(overrides: Partial<S3Settings> = {}): S3Settings {
  const endpoint = process.env.S3_ENDPOINT;
  const bucket = process.env.S3_BUCKET;
  if (!endpoint || !bucket) throw new Error('S3_ENDPOINT and S3_BUCKET are not set: run the tests with `npm test`, which starts radosgw');
  return {
    endpoint,
    region: process.env.AWS_REGION ?? 'us-east-1',
    bucket,
    prefix: `test-${randomBytes(6).toString('hex')}/`,
    forcePathStyle: true,
    redirect: false,
    redirectTtl: 600,
    accessKeyId: '',
    secretAccessKey: '',
    requestTimeout: 30,
    ...overrides,
  };
}

/** The storage section of a test server on S3 (for startTestServer's overrides). */
export function s3StorageOverrides(settings: S3Settings): Record<string, unknown> {
  return {
    driver: 's3',
    s3Endpoint: settings.endpoint,
    s3Region: settings.region,
    s3Bucket: settings.bucket,
    s3Prefix: settings.prefix,
    s3ForcePathStyle: settings.forcePathStyle,
    s3Redirect: settings.redirect,
    s3RequestTimeout: settings.requestTimeout,
  };
}

/** Every key under the settings' prefix. */
export async function listKeys(settings: S3Settings, under = ''): Promise<string[]> {
  const client = createS3Client(settings);
  const keys: string[] = [];
  try {
    let token: string | undefined;
    do {
      const page = await client.send(new ListObjectsV2Command({ Bucket: settings.bucket, Prefix: settings.prefix + under, ContinuationToken: token }));
      keys.push(...(page.Contents ?? []).map((o) => o.Key!.slice(settings.prefix.length)));
      token = page.NextContinuationToken;
    } while (token);
  } finally {
    client.destroy();
  }
  return keys;
}

/** Removes everything a test wrote under its prefix. */
export async function emptyPrefix(settings: S3Settings): Promise<void> {
  const keys = await listKeys(settings);
  const client = createS3Client(settings);
  try {
    for (let i = 0; i < keys.length; i += 1000) {
      await client.send(new DeleteObjectsCommand({ Bucket: settings.bucket, Delete: { Objects: keys.slice(i, i + 1000).map((k) => ({ Key: settings.prefix + k })), Quiet: true } }));
    }
  } finally {
    client.destroy();
  }
}
