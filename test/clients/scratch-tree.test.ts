import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { mountsUnder, removeScratchTree } from '../support/mounts.js';
import { runCommand } from '../support/process.js';

/**
 * The cleanup the Debian scan test relies on when debootstrap fails or is killed with proc still
 * mounted in its chroot: real mounts (proc, tmpfs) under a real temp directory, as root.
 */

function canMount(): string | false {
  if (process.getuid?.() !== 0) return 'mounting needs root';
  const probe = mkdtempSync(path.join(os.tmpdir(), 'wharf-mount-probe-'));
  try {
    const mounted = spawnSync('mount', ['-t', 'tmpfs', 'tmpfs', probe]);
    if (mounted.status !== 0) return `cannot mount here: ${mounted.stderr.toString().trim()}`;
    spawnSync('umount', [probe]);
    return false;
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
}

const skip = canMount();
const roots: string[] = [];
const children: ChildProcess[] = [];

function mount(type: string, target: string): void {
  mkdirSync(target, { recursive: true });
  const r = spawnSync('mount', ['-t', type, type, target]);
  assert.equal(r.status, 0, `mount -t ${type} ${target}: ${r.stderr.toString()}`);
}

const mountedLines = (dir: string): string[] => readFileSync('/proc/mounts', 'utf8').split('\n').filter((l) => l.includes(dir));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('removing a chroot scratch tree that still has mounts', { skip }, () => {
  after(() => {
    // Whatever a failing test left: detach, then remove.
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    for (const root of roots) {
      for (const point of existsSync(root) ? mountsUnder(root) : []) spawnSync('umount', ['-l', point]);
      rmSync(root, { recursive: true, force: true });
    }
  });

  const scratch = (): string => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'wharf-scratch-tree-'));
    roots.push(dir);
    return dir;
  };

  it('a blind recursive rm fails with EBUSY on a mount point (the debian-scan failure)', () => {
    const dir = scratch();
    mount('tmpfs', path.join(dir, 'rootfs', 'run'));
    writeFileSync(path.join(dir, 'rootfs', 'run', 'pid'), '1');
    assert.throws(() => rmSync(dir, { recursive: true, force: true }), /EBUSY/);
    assert.equal(mountsUnder(dir).length, 1, 'and the mount stays behind in /tmp');
  });

  it('unmounts proc, tmpfs and a tmpfs nested in it (deepest first, paths with spaces too), then removes the tree', async () => {
    const dir = scratch();
    const rootfs = path.join(dir, 'rootfs');
    mount('proc', path.join(rootfs, 'proc'));
    mount('tmpfs', path.join(rootfs, 'run'));
    mount('tmpfs', path.join(rootfs, 'run', 'lock'));
    mount('tmpfs', path.join(rootfs, 'srv', 'a dir'));
    writeFileSync(path.join(rootfs, 'run', 'lock', 'held'), 'x');
    writeFileSync(path.join(rootfs, 'srv', 'a dir', 'file'), 'x');
    assert.deepEqual(mountsUnder(dir), [path.join(rootfs, 'srv', 'a dir'), path.join(rootfs, 'run', 'lock'), path.join(rootfs, 'proc'), path.join(rootfs, 'run')]);
    await removeScratchTree(dir);
    assert.equal(existsSync(dir), false);
    assert.deepEqual(mountedLines(dir), []);
  });

  it('detaches a mount a process still works in (lazy unmount) instead of failing with EBUSY', async () => {
    const dir = scratch();
    const busy = path.join(dir, 'rootfs', 'proc');
    mount('proc', busy);
    const holder = spawn('sleep', ['600'], { cwd: busy, stdio: 'ignore' });
    children.push(holder);
    await new Promise<void>((resolve, reject) => { holder.once('spawn', resolve); holder.once('error', reject); });
    assert.notEqual(spawnSync('umount', [busy]).status, 0, 'the mount is busy');
    await removeScratchTree(dir);
    assert.equal(existsSync(dir), false);
    assert.deepEqual(mountedLines(dir), []);
    holder.kill('SIGKILL');
  });

  it('a timeout kills the command\'s whole process group, so a child holding its output cannot hang the test', async () => {
    // The shell prints its background child's pid and waits; the child keeps stdout open.
    const run = await runCommand('sh', ['-c', 'sleep 600 & echo $!; wait'], { timeoutMs: 1000, processGroup: true });
    assert.match(run.stderr, /killed after 1000 ms/);
    const grandchild = Number(run.stdout.trim());
    assert.ok(grandchild > 0, run.stdout);
    for (let i = 0; i < 200 && alive(grandchild); i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(alive(grandchild), false, 'the background child died with the group');
  });
});
