import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describeRun, ensureBuilt, runCommand, spawnWharf, WHARF_BIN, type CommandResult, type WharfProcess } from '../support/process.js';
import { blobPath, multiLayerImage, OciLayout, reachableDigests, resolveTag, singleLayerImage, type BuiltImage } from '../support/oci-layout.js';
import type { BackupManifest } from '../../src/ops/backup.js';

/**
 * `wharf backup` taken while skopeo pushes, restored with `wharf restore` into a new data directory:
 * a new `wharf serve` on it serves every image acknowledged before the backup started byte for byte
 * (skopeo copies each out to an OCI layout), any image pushed during the backup is there whole or
 * not at all, and `wharf fsck` finds nothing wrong.
 */

const skopeoVersion = await runCommand('skopeo', ['--version']).then((r) => (r.code === 0 ? r.stdout.trim() : undefined), () => undefined);
const skip = skopeoVersion ? false : 'skopeo is not installed (Debian package "skopeo")';

function wharfCli(args: string[], env: Record<string, string>): Promise<CommandResult & { what: string }> {
  const argv = [WHARF_BIN, ...args];
  return runCommand(process.execPath, argv, { env: { PATH: process.env.PATH ?? '', ...env }, timeoutMs: 300_000 })
    .then((result) => ({ ...result, what: describeRun('wharf', args, result) }));
}

async function skopeoOk(...args: string[]): Promise<void> {
  const result = await runCommand('skopeo', args, { timeoutMs: 300_000 });
  assert.equal(result.code, 0, describeRun('skopeo', args, result));
}

describe('wharf backup and restore, the real binary, during skopeo pushes', { skip }, () => {
  let work: string;
  let wharf: WharfProcess | undefined;
  let restored: WharfProcess | undefined;
  const stop = async (p: WharfProcess | undefined) => {
    if (p && p.child.exitCode === null && p.child.signalCode === null) {
      p.child.kill('SIGKILL');
      await p.exited;
    }
  };

  before(async () => {
    await ensureBuilt();
    work = mkdtempSync(path.join(os.tmpdir(), 'wharf-backup-'));
  });
  after(async () => {
    await stop(wharf);
    await stop(restored);
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('a backup taken during pushes restores into a registry that serves every acknowledged image byte-identical, and fsck finds nothing wrong', async () => {
    const dataDir = path.join(work, 'data');
    const env = { WHARF_STORAGE_DATA_DIR: dataDir, WHARF_DATABASE_ENGINE: 'sqlite', WHARF_LOG_LEVEL: 'warn', WHARF_SCANNER_ENABLED: 'false' };
    wharf = await spawnWharf(env);
    const host = new URL(wharf.url).host;
    const layout = new OciLayout(path.join(work, 'layout'));
    const push = (image: BuiltImage) => skopeoOk('copy', '--preserve-digests', '--dest-tls-verify=false', `oci:${layout.dir}:${image.tag}`, `docker://${host}/backup/app-${image.tag}:${image.tag}`);

    const before = [singleLayerImage(layout, 'a1'), multiLayerImage(layout, 'a2', 2), singleLayerImage(layout, 'a3')];
    for (const image of before) await push(image);

    // Pushes go on while the backup runs: each one's acknowledgement time is kept.
    const during = Array.from({ length: 6 }, (_, i) => multiLayerImage(layout, `d${i}`, 2));
    const acknowledged = new Map<string, number>();
    const pushing = (async () => {
      for (const image of during) {
        await push(image);
        acknowledged.set(image.tag, Date.now());
      }
    })();
    // Start the backup once the concurrent pushes are under way (the first has reached the registry).
    const deadline = Date.now() + 120_000;
    while (!readdirSync(path.join(dataDir, 'uploads')).length && acknowledged.size === 0) {
      assert.ok(Date.now() < deadline, 'the concurrent pushes never started');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const backupDir = path.join(work, 'backup');
    const backupStarted = Date.now();
    const backup = await wharfCli(['backup', backupDir, '--format', 'json'], env);
    assert.equal(backup.code, 0, backup.what);
    const stillPushing = during.length - acknowledged.size;
    await pushing;
    assert.ok(stillPushing > 0, 'the pushes were still going on when the backup ended');
    const manifest = JSON.parse(backup.stdout) as BackupManifest;
    assert.equal(manifest.engine, 'sqlite');
    assert.ok(manifest.blobs.count >= 6, `the backup holds the blobs of the images pushed before it: ${backup.stdout}`);
    assert.equal(manifest.blobs.linked, manifest.blobs.count, 'on one filesystem every blob is hard-linked, not copied');
    assert.deepEqual(JSON.parse(readFileSync(path.join(backupDir, 'backup.json'), 'utf8')), manifest);
    const required = [...before, ...during.filter((image) => (acknowledged.get(image.tag) ?? Infinity) < backupStarted)];

    // A second backup into the same directory is refused; so is a restore over a registry's data.
    const again = await wharfCli(['backup', backupDir], env);
    assert.equal(again.code, 1, again.what);
    assert.match(again.stderr, /the backup directory .* is not empty.*choose a new directory/, again.what);
    const over = await wharfCli(['restore', backupDir], env);
    assert.notEqual(over.code, 0, over.what);
    assert.match(over.stderr, /restore failed: the database .*wharf\.db exists: restore into an empty data directory/, over.what);

    await stop(wharf);
    const restoredDir = path.join(work, 'restored');
    const restoredEnv = { ...env, WHARF_STORAGE_DATA_DIR: restoredDir };
    const restore = await wharfCli(['restore', backupDir], restoredEnv);
    assert.equal(restore.code, 0, restore.what);
    assert.match(restore.stdout, new RegExp(`^Restored ${manifest.blobs.count} blobs .* and the database into ${restoredDir.replace(/[/.]/g, '\\$&')}/wharf\\.db\\.`, 'm'), restore.what);

    restored = await spawnWharf(restoredEnv);
    const restoredHost = new URL(restored.url).host;
    const pullOut = async (image: BuiltImage): Promise<boolean> => {
      const out = path.join(work, `out-${image.tag}`);
      const args = ['copy', '--preserve-digests', '--src-tls-verify=false', `docker://${restoredHost}/backup/app-${image.tag}:${image.tag}`, `oci:${out}:${image.tag}`];
      const result = await runCommand('skopeo', args, { timeoutMs: 300_000 });
      if (result.code !== 0) return false;
      assert.equal(resolveTag(out, image.tag).digest, image.root.digest, `${image.tag}: the same manifest digest`);
      const digests = reachableDigests(layout.dir, image.root.digest);
      assert.deepEqual(reachableDigests(out, image.root.digest), digests);
      for (const digest of digests) assert.ok(readFileSync(blobPath(out, digest)).equals(readFileSync(blobPath(layout.dir, digest))), `${image.tag}: ${digest} byte-identical`);
      return true;
    };
    for (const image of required) assert.ok(await pullOut(image), `${image.tag} was acknowledged before the backup started, so the restored registry serves it`);
    // Pushed during the backup: whole or absent, never half.
    for (const image of during.filter((i) => !required.includes(i))) await pullOut(image);

    await stop(restored);
    const fsck = await wharfCli(['fsck'], restoredEnv);
    assert.equal(fsck.code, 0, fsck.what);
    assert.match(fsck.stdout, /^0 error\(s\), 0 repaired/m, fsck.what);
  });

  it('a damaged blob fails the restore, which puts no database in place', async () => {
    const dataDir = path.join(work, 'data2');
    const env = { WHARF_STORAGE_DATA_DIR: dataDir, WHARF_DATABASE_ENGINE: 'sqlite', WHARF_LOG_LEVEL: 'warn', WHARF_SCANNER_ENABLED: 'false' };
    wharf = await spawnWharf(env);
    const layout = new OciLayout(path.join(work, 'layout2'));
    const image = singleLayerImage(layout, 'x');
    await skopeoOk('copy', '--dest-tls-verify=false', `oci:${layout.dir}:x`, `docker://${new URL(wharf.url).host}/backup/x:x`);
    const backupDir = path.join(work, 'backup2');
    const backup = await wharfCli(['backup', backupDir], env);
    assert.equal(backup.code, 0, backup.what);
    await stop(wharf);
    // The layer's bytes change (a copy, so the hard-linked original stays intact).
    const layer = image.layers![0]!.descriptor.digest;
    const file = path.join(backupDir, 'blobs', 'sha256', layer.slice(7, 9), layer.slice(7));
    const bytes = readFileSync(file);
    rmSync(file);
    bytes[10] = bytes[10]! ^ 0xff;
    writeFileSync(file, bytes);
    const target = path.join(work, 'restored2');
    mkdirSync(target);
    const restore = await wharfCli(['restore', backupDir], { ...env, WHARF_STORAGE_DATA_DIR: target });
    assert.equal(restore.code, 1, restore.what);
    assert.match(restore.stderr, new RegExp(`restore failed: blob ${layer} in the backup has digest sha256:[0-9a-f]{64} .*the backup is damaged`), restore.what);
    const notDone = path.join(target, 'wharf.db');
    assert.throws(() => readFileSync(notDone), 'no database is put in place by a failed restore');
  });
});
