// Times wharf backup (hard links, then copies) and restore of a registry of 100 small images (200 blobs).
// Run: WHARF_TEST_DATABASE_URL=unused node --import tsx bench/measure-backup-restore.mts
import path from 'node:path';
import os from 'node:os';
import { mkdtempSync, rmSync } from 'node:fs';
import { startTestServer } from '../test/support/server.js';
import { pushImage } from '../test/support/http.js';
import { takeBackup } from '../src/ops/backup.js';
import { restoreBackup } from '../src/ops/restore.js';
import { FsBlobStore } from '../src/storage/fs/fs-blob-store.js';

const server = await startTestServer('sqlite');
const work = mkdtempSync(path.join(os.tmpdir(), 'wharf-backup-measure-'));
try {
  for (let i = 0; i < 100; i++) await pushImage(server.url, 'measure/app', `v${i}`);
  const source = { engine: 'sqlite' as const, sqlitePath: server.config.database.sqlitePath, store: server.registry.ctx.store, fsRoot: server.dataDir };
  let t = performance.now();
  const linked = await takeBackup(source, path.join(work, 'linked'), () => Date.now());
  const linkedMs = performance.now() - t;
  t = performance.now();
  const copied = await takeBackup({ ...source, fsRoot: undefined }, path.join(work, 'copied'), () => Date.now());
  const copiedMs = performance.now() - t;
  const target = path.join(work, 'restored');
  t = performance.now();
  await restoreBackup(path.join(work, 'linked'), { engine: 'sqlite', dataDir: target, sqlitePath: path.join(target, 'wharf.db'), openStore: async () => { const s = new FsBlobStore(target); await s.init(); return s; } });
  const restoreMs = performance.now() - t;
  console.log(JSON.stringify({ blobs: linked.blobs.count, bytes: linked.blobs.bytes, dbBytes: linked.metadata?.bytes, backupLinkedMs: Math.round(linkedMs), backupCopiedMs: Math.round(copiedMs), copiedCount: copied.blobs.copied, restoreMs: Math.round(restoreMs) }));
} finally {
  await server.stop();
  rmSync(work, { recursive: true, force: true });
}
