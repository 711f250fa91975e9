import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describeRun, runCommand, spawnWharf, WHARF_BIN } from '../support/process.js';
import { mountSmallDisk, smallDiskUnavailable, unmountSmallDisk } from '../support/small-disk.js';

/**
 * `wharf serve` (the real binary) on a start that cannot work: the port is taken, or the data
 * directory cannot be written. It must stop with a message naming the setting to change, before it
 * creates anything: above all not the administrator, whose generated password is shown only once.
 */

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'wharf-start-'));
  dirs.push(dir);
  return dir;
}
after(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

/** `wharf serve` with only the given settings (no administrator password: a first start generates one). */
function serve(env: Record<string, string>) {
  const args = [WHARF_BIN, 'serve'];
  return runCommand(process.execPath, args, {
    env: { PATH: process.env.PATH ?? '', WHARF_HTTP_HOST: '127.0.0.1', WHARF_SCANNER_ENABLED: 'false', ...env },
    timeoutMs: 120_000,
  }).then((result) => ({ ...result, what: describeRun('wharf', args.slice(1), result) }));
}

/** A port held by another program until `close`. */
async function occupiedPort(): Promise<{ port: number; close(): Promise<void> }> {
  const blocker = net.createServer((socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => blocker.once('error', reject).listen(0, '127.0.0.1', () => resolve()));
  const port = (blocker.address() as net.AddressInfo).port;
  return { port, close: () => new Promise((resolve) => blocker.close(() => resolve())) };
}

const GENERATED_PASSWORD = /created the administrator|with the password/;

describe('wharf serve on a start that cannot work', () => {
  it('a first start whose port is taken fails before creating anything, naming WHARF_HTTP_PORT; once the port is free, the next start is the first and shows the password', async () => {
    const dataDir = path.join(tempDir(), 'data');
    const blocker = await occupiedPort();
    let closed = false;
    try {
      const result = await serve({ WHARF_HTTP_PORT: String(blocker.port), WHARF_STORAGE_DATA_DIR: dataDir });
      assert.equal(result.code, 1, result.what);
      assert.match(result.stderr, new RegExp(`^wharf: cannot listen on 127\\.0\\.0\\.1:${blocker.port}: port ${blocker.port} is already in use .*\\(WHARF_HTTP_PORT\\)\\. Nothing was created\\.$`, 'm'), result.what);
      assert.doesNotMatch(result.stderr + result.stdout, GENERATED_PASSWORD, 'no administrator was created, no password shown');
      assert.doesNotMatch(result.stderr, /listen EADDRINUSE/, 'not the bare system error');
      assert.equal(existsSync(dataDir), false, 'not even the data directory was created');

      await blocker.close();
      closed = true;
      const wharf = await spawnWharf({ WHARF_HTTP_PORT: String(blocker.port), WHARF_STORAGE_DATA_DIR: dataDir, WHARF_ADMIN_PASSWORD: '' });
      try {
        assert.match(wharf.output(), /Wharf created the administrator "admin" with the password:\n\n\s+\S{20,}\n/, 'the first real start shows the generated password');
      } finally {
        wharf.child.kill('SIGKILL');
        await wharf.exited;
      }
    } finally {
      if (!closed) await blocker.close();
    }
  });

  it('a data directory under a regular file (ENOTDIR) stops the start with a message naming storage.dataDir', async () => {
    const file = path.join(tempDir(), 'not-a-directory');
    writeFileSync(file, 'x');
    const dataDir = path.join(file, 'data');
    const result = await serve({ WHARF_HTTP_PORT: '0', WHARF_STORAGE_DATA_DIR: dataDir });
    assert.equal(result.code, 1, result.what);
    assert.match(result.stderr, /^wharf: storage\.dataDir \(WHARF_STORAGE_DATA_DIR\) \S+ cannot be used: a part of the path is a file, not a directory \(ENOTDIR\)\. Choose a directory/m, result.what);
    assert.ok(result.stderr.includes(dataDir), result.what);
    assert.doesNotMatch(result.stderr, /ENOTDIR: not a directory/, 'not the bare system error');
    assert.doesNotMatch(result.stderr + result.stdout, GENERATED_PASSWORD);
  });

  it('a data directory on a read-only filesystem stops the start with a message naming storage.dataDir, even when its directories exist', {
    skip: smallDiskUnavailable ? `${smallDiskUnavailable} (and root ignores chmod, so a read-only mount is the real case)` : false,
  }, async () => {
    const dataDir = mountSmallDisk(1);
    try {
      // The layout of an earlier start is there: creating the directories succeeds, writing does not.
      mkdirSync(path.join(dataDir, 'blobs'));
      mkdirSync(path.join(dataDir, 'uploads'));
      execFileSync('mount', ['-o', 'remount,ro', dataDir]);
      const result = await serve({ WHARF_HTTP_PORT: '0', WHARF_STORAGE_DATA_DIR: dataDir });
      assert.equal(result.code, 1, result.what);
      assert.match(result.stderr, /^wharf: storage\.dataDir \(WHARF_STORAGE_DATA_DIR\) \S+ cannot be used: it is on a read-only filesystem \(EROFS\)\. Choose a directory/m, result.what);
      assert.ok(result.stderr.includes(dataDir), result.what);
      assert.doesNotMatch(result.stderr + result.stdout, GENERATED_PASSWORD);
      assert.deepEqual(readdirSync(dataDir).sort(), ['blobs', 'uploads'], 'nothing was written');
    } finally {
      unmountSmallDisk(dataDir);
    }
  });
});

describe('a signal while wharf serve starts', () => {
  it('a SIGTERM as soon as the port answers (the administrator is still being made) stops the server cleanly once it has started', async () => {
    const dataDir = path.join(tempDir(), 'data');
    const port = await new Promise<number>((resolve) => {
      const probe = net.createServer().listen(0, '127.0.0.1', () => { const { port: free } = probe.address() as net.AddressInfo; probe.close(() => resolve(free)); });
    });
    const child = (await import('node:child_process')).spawn(process.execPath, [WHARF_BIN, 'serve'], {
      env: { PATH: process.env.PATH ?? '', WHARF_HTTP_HOST: '127.0.0.1', WHARF_HTTP_PORT: String(port), WHARF_STORAGE_DATA_DIR: dataDir, WHARF_SCANNER_ENABLED: 'false' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
    try {
      // Ask as often as the port can answer, and signal on the first answer: before the start's end.
      const deadline = Date.now() + 60_000;
      for (;;) {
        const answered = await new Promise<boolean>((resolve) => {
          const socket = net.connect(port, '127.0.0.1', () => { socket.destroy(); resolve(true); }).on('error', () => resolve(false));
        });
        if (answered) break;
        if (child.exitCode !== null || Date.now() > deadline) assert.fail(`wharf did not open its port:\n${out}`);
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
      child.kill('SIGTERM');
      const exit = await exited;
      assert.deepEqual(exit, { code: 0, signal: null }, `a clean stop, not the signal's default:\n${out}`);
      assert.match(out, /Wharf listening on /, 'the start finished');
      assert.match(out, /stopped cleanly/);
      assert.match(out, GENERATED_PASSWORD, 'the administrator was made and its password shown');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
