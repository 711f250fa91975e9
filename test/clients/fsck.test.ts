import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { pushImage, repoName, type PushedImage } from '../support/http.js';
import { describeRun, ensureBuilt, runCommand, spawnWharf, WHARF_BIN, type CommandResult, type WharfProcess } from '../support/process.js';
import type { FsckReport } from '../../src/registry/fsck.js';

/**
 * The real `wharf fsck` binary, run where the registry's configuration is (WHARF_* settings, as for
 * `wharf serve`): exit 0 on a consistent registry (also while it serves), 1 with each problem
 * reported when a blob file is damaged and an image size is wrong, 0 again once --repair fixed what
 * it can fix, 2 on bad usage.
 */

describe('wharf fsck, the real binary', () => {
  let dataDir: string;
  let env: Record<string, string>;
  let wharf: WharfProcess | undefined;
  let image: PushedImage;
  let name: string;

  function fsck(args: string[], extra: Record<string, string> = {}): Promise<CommandResult & { what: string }> {
    const argv = [WHARF_BIN, 'fsck', ...args];
    return runCommand(process.execPath, argv, { env: { PATH: process.env.PATH ?? '', ...env, ...extra }, timeoutMs: 120_000 })
      .then((result) => ({ ...result, what: describeRun('wharf', argv.slice(1), result) }));
  }

  before(async () => {
    await ensureBuilt();
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'wharf-fsck-'));
    env = { WHARF_STORAGE_DATA_DIR: dataDir, WHARF_DATABASE_ENGINE: 'sqlite', WHARF_LOG_LEVEL: 'warn' };
    wharf = await spawnWharf({ ...env, WHARF_SCANNER_ENABLED: 'false' });
    name = repoName('fsck');
    image = await pushImage(wharf.url, name, 'v1');
  });
  after(async () => {
    if (wharf && wharf.child.exitCode === null && wharf.child.signalCode === null) {
      wharf.child.kill('SIGKILL');
      await wharf.exited;
    }
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('exits 0 on a consistent registry while it serves, and says what it checked', async () => {
    const text = await fsck([]);
    assert.equal(text.code, 0, text.what);
    assert.match(text.stdout, /^Checked 2 blob\(s\) \(.+ hashed\), 1 manifest\(s\), 1 tag\(s\), 0 trash reference\(s\), 2 stored file\(s\) in [\d.]+ s\.$/m, text.what);
    assert.match(text.stdout, /^0 error\(s\), 0 repaired, 0 note\(s\)\.$/m, text.what);
    assert.equal(text.stderr, '', text.what);
    const json = await fsck(['--format', 'json']);
    assert.equal(json.code, 0, json.what);
    const report = JSON.parse(json.stdout) as FsckReport;
    assert.equal(report.errors, 0);
    assert.equal(report.blobs, 2);
    assert.equal(report.bytesHashed, image.config.size + image.layers[0]!.size);
  });

  it('exits 1 and reports each problem where it is: a damaged layer and a wrong image size; --repair fixes the size and exits 0 when nothing else is left', async () => {
    wharf!.child.kill('SIGTERM');
    assert.equal((await wharf!.exited).code, 0, wharf!.output().slice(-2000));
    const layer = image.layers[0]!.digest;
    const file = path.join(dataDir, 'blobs', 'sha256', layer.slice(7, 9), layer.slice(7));
    chmodSync(file, 0o644);
    const bytes = readFileSync(file);
    bytes[0] = bytes[0]! ^ 0x01;
    writeFileSync(file, bytes);
    const db = new SQLite(path.join(dataDir, 'wharf.db'));
    try {
      assert.equal(db.prepare('UPDATE manifests SET image_size = 1 WHERE digest = ?').run(image.digest).changes, 1);
    } finally {
      db.close();
    }

    const damaged = await fsck([]);
    assert.equal(damaged.code, 1, damaged.what);
    assert.match(damaged.stdout, new RegExp(`^error    blob-digest-differs: blob ${layer}: its stored bytes hash to sha256:[0-9a-f]{64}`, 'm'), damaged.what);
    assert.match(damaged.stdout, new RegExp(`^error    image-size-differs: manifest ${image.digest} in ${name} has image size 1, the recount gives ${image.config.size + image.layers[0]!.size}: .*wharf fsck --repair$`, 'm'), damaged.what);
    assert.match(damaged.stdout, /^2 error\(s\), 0 repaired, 0 note\(s\)\.$/m, damaged.what);
    assert.match(damaged.stderr, /^wharf: the registry has 2 error\(s\): see each problem above for what to do; --repair fixes image sizes$/m, damaged.what);

    const json = await fsck(['--format', 'json', '--no-content']);
    assert.equal(json.code, 1, json.what);
    const report = JSON.parse(json.stdout) as FsckReport;
    assert.deepEqual(report.problems.map((p) => p.check), ['image-size-differs'], '--no-content does not see the damaged bytes');
    assert.equal(report.bytesHashed, 0);

    const repaired = await fsck(['--repair', '--no-content']);
    assert.equal(repaired.code, 0, `everything left after the repair is fixed: ${repaired.what}`);
    assert.match(repaired.stdout, new RegExp(`^repaired image-size-differs: manifest ${image.digest} in ${name} has image size 1, the recount gives \\d+: repaired$`, 'm'), repaired.what);

    const after = await fsck([]);
    assert.equal(after.code, 1, after.what);
    assert.doesNotMatch(after.stdout, /image-size-differs/, after.what);
    assert.match(after.stdout, /^1 error\(s\), 0 repaired, 0 note\(s\)\.$/m, after.what);
  });

  it('exits 2 on bad usage: an unknown option, an invalid setting, a data directory with no registry in it', async () => {
    const option = await fsck(['--fix']);
    assert.equal(option.code, 2, option.what);
    assert.match(option.stderr, /unknown option '--fix'/, option.what);
    const setting = await fsck([], { WHARF_DATABASE_ENGINE: 'oracle' });
    assert.equal(setting.code, 2, setting.what);
    assert.match(setting.stderr, /^wharf: invalid configuration:\n.*database\.engine \(WHARF_DATABASE_ENGINE\)/, setting.what);
    const elsewhere = path.join(dataDir, 'not-the-data');
    const wrongDir = await fsck([], { WHARF_STORAGE_DATA_DIR: elsewhere });
    assert.equal(wrongDir.code, 2, wrongDir.what);
    assert.match(wrongDir.stderr, /^wharf: no registry database at .*not-the-data\/wharf\.db: point fsck at the registry's data with --config or WHARF_STORAGE_DATA_DIR/m, wrongDir.what);
    assert.equal(existsSync(elsewhere), false, 'and it created nothing there');
  });
});
