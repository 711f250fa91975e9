import { randomUUID } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { copyFile, readFile, rename, stat } from 'node:fs/promises';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { createDigester, parseDigest } from '../oci/digest.js';
import type { BlobStore } from '../storage/ports.js';
import { blobFilePath } from '../storage/fs/fs-blob-store.js';
import { BACKUP_FORMAT, BACKUP_VERSION, BackupError, MANIFEST_FILE, prepareEmptyDirectory, sha256File, type BackupManifest, type BlobEntry } from './backup.js';

/** Reads `backup.json` and checks it is a complete backup this version can restore. */
export async function readBackupManifest(dir: string): Promise<BackupManifest> {
  const file = path.join(dir, MANIFEST_FILE);
  let manifest: BackupManifest;
  try {
    manifest = JSON.parse(await readFile(file, 'utf8')) as BackupManifest;
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
    throw new BackupError(missing
      ? `${dir} holds no ${MANIFEST_FILE}: it is not a Wharf backup, or the backup did not finish (take it again)`
      : `${file} cannot be read: ${(err as Error).message}`);
  }
  if (manifest.format !== BACKUP_FORMAT || typeof manifest.version !== 'number') throw new BackupError(`${file} is not a Wharf backup manifest`);
  if (manifest.version > BACKUP_VERSION) throw new BackupError(`${file} is backup format ${manifest.version}; this wharf restores up to ${BACKUP_VERSION}: restore with a newer wharf`);
  return manifest;
}

export interface RestoreTarget {
  engine: 'sqlite' | 'postgres';
  dataDir: string;
  sqlitePath: string;
  /** Opens the configured blob store once the target has been found empty. */
  openStore: () => Promise<BlobStore & { close?(): void }>;
}

export interface RestoreReport {
  blobs: number;
  bytes: number;
  metadata: string | null;
}

/**
 * Restores a backup into an empty registry: the blobs through the configured store's upload path
 * (each one hashed on the way in and refused if it does not match its digest), then the SQLite
 * snapshot into place, last, so an interrupted restore leaves no database a server would start on.
 * A data directory or store holding anything is refused: a restore never merges into a registry.
 */
export async function restoreBackup(dir: string, target: RestoreTarget, onProgress?: (done: number, total: number) => void): Promise<RestoreReport> {
  const manifest = await readBackupManifest(dir);
  if (manifest.engine !== target.engine) {
    throw new BackupError(manifest.engine === 'postgres'
      ? 'this backup holds the blobs of a PostgreSQL registry: restore its pg_dump into the database with pg_restore, then run wharf restore with database.engine postgres'
      : 'this backup holds a SQLite database, but database.engine is postgres here: restore it with database.engine sqlite');
  }
  const blobs = await verifyBackup(dir, manifest);
  if (target.engine === 'sqlite' && existsSync(target.sqlitePath)) {
    throw new BackupError(`the database ${target.sqlitePath} exists: restore into an empty data directory (set WHARF_STORAGE_DATA_DIR or --config to a new one)`);
  }
  await prepareEmptyDirectory(target.dataDir, 'the data directory', 'restore into an empty data directory (set WHARF_STORAGE_DATA_DIR or --config to a new one)');
  const store = await target.openStore();
  try {
    for await (const existing of store.listBlobs()) {
      throw new BackupError(`the blob store already holds blobs (${existing.digest}, …): restore into an empty store`);
    }
    let done = 0;
    let bytes = 0;
    // A few at once: each blob's commit waits for its fsyncs, which other blobs' writes can overlap.
    const queue = [...blobs];
    const worker = async (): Promise<void> => {
      for (let blob = queue.shift(); blob; blob = queue.shift()) {
        try {
          await putBlob(store, blobFilePath(dir, blob.digest), blob);
        } catch (err) {
          queue.length = 0; // the other workers stop after their current blob
          throw err;
        }
        bytes += blob.size;
        onProgress?.(++done, blobs.length);
      }
    };
    const workers = Array.from({ length: 4 }, worker);
    // Every worker ends before the error is reported, so none writes after the restore has failed.
    const results = await Promise.allSettled(workers);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    if (manifest.metadata) {
      const temp = `${target.sqlitePath}.restoring`;
      await copyFile(path.join(dir, manifest.metadata.file), temp);
      await rename(temp, target.sqlitePath);
    }
    return { blobs: blobs.length, bytes, metadata: manifest.metadata ? target.sqlitePath : null };
  } finally {
    store.close?.();
  }
}

/** The backup's files match its manifest: the snapshot's checksum, and every listed blob there with its size. */
async function verifyBackup(dir: string, manifest: BackupManifest): Promise<BlobEntry[]> {
  if (manifest.metadata) {
    const sum = await sha256File(path.join(dir, manifest.metadata.file)).catch(() => 'missing');
    if (sum !== manifest.metadata.sha256) throw new BackupError(`${manifest.metadata.file} in ${dir} does not match the checksum in ${MANIFEST_FILE}: the backup is damaged`);
  }
  const list = await readFile(path.join(dir, manifest.blobs.list), 'utf8').catch(() => '');
  if (createHash('sha256').update(list).digest('hex') !== manifest.blobs.listSha256) {
    throw new BackupError(`${manifest.blobs.list} in ${dir} does not match the checksum in ${MANIFEST_FILE}: the backup is damaged`);
  }
  const blobs = list.split('\n').filter(Boolean).map((line) => {
    const [digest = '', size = ''] = line.split(' ');
    return { digest: parseDigest(digest).value, size: Number(size) };
  });
  if (blobs.length !== manifest.blobs.count) throw new BackupError(`${MANIFEST_FILE} counts ${manifest.blobs.count} blobs, the list has ${blobs.length}: the backup is damaged`);
  for (const blob of blobs) {
    const file = blobFilePath(dir, blob.digest);
    const size = await stat(file).then((s) => s.size, () => -1);
    if (size !== blob.size) throw new BackupError(`blob ${blob.digest} is ${size < 0 ? 'missing from' : `${size} bytes, not ${blob.size}, in`} the backup: the backup is damaged`);
  }
  return blobs;
}

async function putBlob(store: BlobStore, file: string, blob: BlobEntry): Promise<void> {
  const digest = parseDigest(blob.digest);
  const uploadId = randomUUID();
  await store.createUpload(uploadId);
  try {
    const hash = createDigester(digest.algorithm);
    const size = await store.appendUpload(uploadId, 0, createReadStream(file), hash);
    const actual = `${digest.algorithm}:${hash.digest('hex')}`;
    if (size !== blob.size || actual !== digest.value) {
      throw new BackupError(`blob ${blob.digest} in the backup has digest ${actual} (${size} bytes): the backup is damaged`);
    }
    await store.sealUpload(uploadId, size);
    await store.commitUpload(uploadId, size, digest);
  } catch (err) {
    await store.deleteUpload(uploadId).catch(() => undefined);
    throw err;
  }
}
