import { mkdir } from 'node:fs/promises';
import type { WharfConfig } from '../config/schema.js';
import { dataDirError, StartupError } from '../errors/startup.js';
import type { BlobStore } from './ports.js';
import { FsBlobStore } from './fs/fs-blob-store.js';
import type { StoreLog } from './s3/fallback-warnings.js';

/** The blob store storage.driver names, checked usable before the registry starts on it. */
export async function openBlobStore(config: WharfConfig, log?: StoreLog): Promise<BlobStore & { close?(): void }> {
  const { storage } = config;
  if (storage.driver === 'filesystem') {
    const store = new FsBlobStore(storage.dataDir);
    await store.init().catch((err: unknown) => { throw dataDirError(storage.dataDir, err); });
    return store;
  }
  // Loaded only for this driver: the AWS SDK is the largest part of the bundle, and a filesystem
  // replica would otherwise spend a sixth of its cold start evaluating it.
  const { S3BlobStore } = await import('./s3/s3-blob-store.js');
  const store = new S3BlobStore({
    endpoint: storage.s3Endpoint,
    region: storage.s3Region,
    bucket: storage.s3Bucket,
    prefix: storage.s3Prefix,
    forcePathStyle: storage.s3ForcePathStyle,
    redirect: storage.s3Redirect,
    redirectTtl: storage.s3RedirectTtl,
    accessKeyId: storage.s3AccessKeyId,
    secretAccessKey: storage.s3SecretAccessKey,
    requestTimeout: storage.s3RequestTimeout,
  }, undefined, log);
  try {
    await store.init();
  } catch (err) {
    store.close();
    throw new StartupError(`${(err as Error).message}. Nothing was written.`, { cause: err });
  }
  // The SQLite file still defaults to the data directory.
  if (config.database.engine === 'sqlite' && !config.database.sqlitePath) {
    await mkdir(storage.dataDir, { recursive: true }).catch((err: unknown) => { store.close(); throw dataDirError(storage.dataDir, err); });
  }
  return store;
}
