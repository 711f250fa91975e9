import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { link, mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { BlobStore } from '../storage/ports.js';
import { blobFilePath } from '../storage/fs/fs-blob-store.js';

/** The format of `backup.json`; a restore refuses versions it does not know. */
export const BACKUP_FORMAT = 'wharf-backup';
export const BACKUP_VERSION = 1;
export const MANIFEST_FILE = 'backup.json';
export const METADATA_FILE = 'metadata.sqlite';
/** One line per blob, `<digest> <size>`, sorted: the blobs the metadata snapshot references. */
export const BLOB_LIST_FILE = 'blobs.txt';

export interface BackupManifest {
  format: typeof BACKUP_FORMAT;
  version: number;
  createdAt: string;
  engine: 'sqlite' | 'postgres';
  /** The SQLite snapshot; null for PostgreSQL, whose metadata is the operator's pg_dump. */
  metadata: { file: string; bytes: number; sha256: string } | null;
  blobs: { count: number; bytes: number; list: string; listSha256: string; linked: number; copied: number };
  /** What the snapshot holds, for a glance (and a comparison after restore). */
  contents: { repositories: number; manifests: number; tags: number } | null;
}

export class BackupError extends Error {}

export interface BackupSource {
  engine: 'sqlite' | 'postgres';
  /** The server's SQLite file (engine sqlite). */
  sqlitePath: string;
  store: BlobStore;
  /** The filesystem driver's root, to hard-link blobs from; undefined for S3. */
  fsRoot: string | undefined;
  /** PostgreSQL only: the blobs the database references now (after the operator's pg_dump). */
  listBlobs?: () => Promise<BlobEntry[]>;
}

export interface BlobEntry {
  digest: string;
  size: number;
}

/**
 * Takes a consistent backup of a registry while it serves:
 *
 * 1. the metadata first: SQLite's online backup API copies the database page by page into
 *    `metadata.sqlite`, restarting over pages a concurrent write changed, so the copy is one
 *    committed state of the database (pushes after it are simply not in the backup);
 * 2. then the blobs that snapshot knows. A blob row exists only once its bytes are committed
 *    (uploads are verified and renamed into place before the row is written) and blobs are immutable
 *    and content-addressed, so every blob of the snapshot is in the store when step 2 reads it,
 *    unless garbage collection removed it in between: the collector only takes blobs unreferenced
 *    for longer than storage.gcGracePeriod, and a blob that still vanished fails the backup rather
 *    than leave an image without its layer. The other order (blobs, then metadata) would let the
 *    snapshot reference blobs pushed after the copy, missing from the backup.
 *
 * Blobs are hard-linked from the filesystem driver when the backup is on the same filesystem (a
 * blob file is never rewritten, only replaced or removed, so the link keeps the bytes), else copied.
 * `backup.json` is written last: a directory without it is an unfinished backup.
 */
export async function takeBackup(source: BackupSource, dir: string, now: () => number, onProgress?: (done: number, total: number) => void): Promise<BackupManifest> {
  await prepareEmptyDirectory(dir, 'the backup directory', 'choose a new directory for each backup');
  let metadata: BackupManifest['metadata'] = null;
  let contents: BackupManifest['contents'] = null;
  let blobs: BlobEntry[];
  if (source.engine === 'sqlite') {
    const snapshot = path.join(dir, METADATA_FILE);
    ({ blobs, contents } = await snapshotSqlite(source.sqlitePath, snapshot));
    metadata = { file: METADATA_FILE, bytes: (await stat(snapshot)).size, sha256: await sha256File(snapshot) };
  } else {
    if (!source.listBlobs) throw new BackupError('PostgreSQL metadata is backed up with pg_dump; this backup takes the blobs only (--blobs-only)');
    blobs = await source.listBlobs();
  }
  blobs.sort((a, b) => (a.digest < b.digest ? -1 : a.digest > b.digest ? 1 : 0));

  let linked = 0;
  let copied = 0;
  let bytes = 0;
  let done = 0;
  const queue = [...blobs];
  const worker = async (): Promise<void> => {
    for (let blob = queue.shift(); blob; blob = queue.shift()) {
      try {
        if (await storeBlob(source, blob, blobFilePath(dir, blob.digest))) linked++;
        else copied++;
      } catch (err) {
        queue.length = 0; // the other workers stop after their current blob
        throw err;
      }
      bytes += blob.size;
      onProgress?.(++done, blobs.length);
    }
  };
  const results = await Promise.allSettled(Array.from({ length: 4 }, worker));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;

  const list = blobs.map((b) => `${b.digest} ${b.size}\n`).join('');
  await writeFile(path.join(dir, BLOB_LIST_FILE), list);
  const manifest: BackupManifest = {
    format: BACKUP_FORMAT,
    version: BACKUP_VERSION,
    createdAt: new Date(now()).toISOString(),
    engine: source.engine,
    metadata,
    blobs: { count: blobs.length, bytes, list: BLOB_LIST_FILE, listSha256: createHash('sha256').update(list).digest('hex'), linked, copied },
    contents,
  };
  const temp = path.join(dir, `${MANIFEST_FILE}.tmp`);
  await writeFile(temp, `${JSON.stringify(manifest, null, 2)}\n`);
  await rename(temp, path.join(dir, MANIFEST_FILE));
  return manifest;
}

async function snapshotSqlite(sqlitePath: string, snapshot: string): Promise<{ blobs: BlobEntry[]; contents: NonNullable<BackupManifest['contents']> }> {
  const { default: SQLite } = await import('better-sqlite3');
  let live;
  try {
    live = new SQLite(sqlitePath, { readonly: true, fileMustExist: true });
  } catch (err) {
    throw new BackupError(`cannot open the registry database ${sqlitePath}: ${(err as Error).message}; point wharf backup at the server's data with --config or WHARF_STORAGE_DATA_DIR, as for wharf serve`);
  }
  try {
    live.pragma('busy_timeout = 10000');
    await live.backup(snapshot);
  } finally {
    live.close();
  }
  const db = new SQLite(snapshot);
  try {
    // One self-contained file: the copy inherits the server's WAL mode, which would need its -wal file.
    db.pragma('journal_mode = DELETE');
    const check = db.pragma('integrity_check', { simple: true });
    if (check !== 'ok') throw new BackupError(`the database snapshot fails SQLite's integrity check (${String(check)}): run wharf fsck on the registry, then back up again`);
    const count = (table: string) => (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
    return {
      blobs: db.prepare('SELECT digest, size FROM blobs').all() as BlobEntry[],
      contents: { repositories: count('repositories'), manifests: count('manifests'), tags: count('tags') },
    };
  } finally {
    db.close();
  }
}

/** Puts one blob into the backup; true when hard-linked, false when copied. */
async function storeBlob(source: BackupSource, blob: BlobEntry, target: string): Promise<boolean> {
  await mkdir(path.dirname(target), { recursive: true });
  if (source.fsRoot) {
    try {
      await link(blobFilePath(source.fsRoot, blob.digest), target);
      return true;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw vanished(blob);
      // Another filesystem (EXDEV) or one without hard links: copy instead.
      if (code !== 'EXDEV' && code !== 'EPERM' && code !== 'EMLINK' && code !== 'ENOTSUP') throw err;
    }
  }
  const present = await source.store.stat(blob.digest);
  if (!present) throw vanished(blob);
  const partial = `${target}.partial`;
  await pipeline(await source.store.read(blob.digest), createWriteStream(partial));
  const copied = (await stat(partial)).size;
  if (copied !== blob.size) {
    await rm(partial, { force: true });
    throw new BackupError(`blob ${blob.digest} has ${copied} bytes in the store, the database says ${blob.size}: run wharf fsck`);
  }
  await rename(partial, target);
  return false;
}

function vanished(blob: BlobEntry): BackupError {
  return new BackupError(`blob ${blob.digest} was removed from the store while the backup ran (garbage collection of an image deleted meanwhile, or a damaged store: see wharf fsck): take the backup again`);
}

/** Creates `dir`, or accepts it when it exists and is empty. */
export async function prepareEmptyDirectory(dir: string, what: string, advice: string): Promise<void> {
  const entries = await readdir(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [] as string[];
    if (err.code === 'ENOTDIR') throw new BackupError(`${what} ${dir} is a file: ${advice}`);
    throw err;
  });
  if (entries.length > 0) throw new BackupError(`${what} ${dir} is not empty (it holds ${entries.slice(0, 3).join(', ')}${entries.length > 3 ? ', …' : ''}): ${advice}`);
  await mkdir(dir, { recursive: true });
}

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file), hash);
  return hash.digest('hex');
}
