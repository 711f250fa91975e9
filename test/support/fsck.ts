import assert from 'node:assert/strict';
import { loadConfig } from '../../src/config/load.js';
import { connectMetadata } from '../../src/metadata/connect.js';
import { blobLocks } from '../../src/metadata/blob-locks.js';
import { Fsck, type FsckOptions, type FsckReport } from '../../src/registry/fsck.js';
import { FsBlobStore } from '../../src/storage/fs/fs-blob-store.js';
import type { EngineName, TestServer } from './server.js';

/** `wharf fsck` in-process, against a running test server's own database and blob store. */
export async function fsckServer(server: TestServer, options: FsckOptions = {}): Promise<FsckReport> {
  return new Fsck(server.metadata.db, server.registry.ctx.store, server.registry.ctx.locks).run(options);
}

/**
 * `wharf fsck` in-process against a data directory and database a `wharf serve` subprocess used,
 * as the command itself opens them.
 */
export async function fsckData(where: { dataDir: string; engine: EngineName; databaseUrl?: string }, options: FsckOptions = {}): Promise<FsckReport> {
  const config = loadConfig({ env: {}, overrides: { storage: { dataDir: where.dataDir }, database: { engine: where.engine, url: where.databaseUrl ?? '' } } });
  const metadata = await connectMetadata(config.database);
  try {
    return await new Fsck(metadata.db, new FsBlobStore(config.storage.dataDir), blobLocks(metadata.engine)).run(options);
  } finally {
    await metadata.close();
  }
}

/** Fails with the list of problems when the check found any error. */
export function assertConsistent(report: FsckReport, where: string): void {
  const errors = report.problems.filter((p) => p.severity === 'error' && !p.repaired);
  assert.equal(report.errors, 0, `fsck after ${where} finds no errors:\n${errors.map((p) => `${p.check}: ${p.message}`).join('\n')}`);
}
