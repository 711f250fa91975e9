import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmdirSync, statfsSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * A really small disk for tests of a full one: a tmpfs mounted on a fresh directory, so the kernel
 * itself answers ENOSPC (and SQLite SQLITE_FULL), and freeing space is deleting a file.
 */

/** Why a small disk cannot be mounted here, or false when it can. */
export const smallDiskUnavailable: string | false = process.platform !== 'linux' || process.getuid?.() !== 0
  ? 'mounting a small tmpfs needs root on Linux'
  : false;

/** Mounts a tmpfs of `mib` MiB on a new directory and returns it. */
export function mountSmallDisk(mib: number): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'wharf-disk-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${mib}m`, 'tmpfs', dir]);
  } catch (err) {
    rmdirSync(dir);
    throw err;
  }
  return dir;
}

/** Unmounts and removes what mountSmallDisk made, even when a file there is still open. */
export function unmountSmallDisk(dir: string): void {
  try {
    execFileSync('umount', [dir]);
  } catch {
    // Something still holds a file open: detach it now, the kernel frees it when released.
    execFileSync('umount', ['-l', dir]);
  }
  rmdirSync(dir);
}

export function freeBytes(dir: string): number {
  const s = statfsSync(dir);
  return s.bavail * s.bsize;
}

/** Writes `file` until its filesystem has at most `leave` bytes free (0: until it refuses). */
export function fillDisk(file: string, leave: number): void {
  const fd = openSync(file, 'a');
  const chunk = Buffer.alloc(64 * 1024, 1);
  try {
    for (;;) {
      const room = freeBytes(path.dirname(file)) - leave;
      if (leave > 0 && room <= 0) return;
      try {
        writeSync(fd, chunk, 0, leave > 0 ? Math.min(chunk.length, room) : chunk.length);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOSPC') return;
        throw err;
      }
    }
  } finally {
    closeSync(fd);
  }
}
