import { existsSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import path from 'node:path';
import { runCommand } from './process.js';

/** /proc/mounts writes space, tab, newline and backslash in paths as octal escapes (\040…). */
function unescapeMountPath(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

/** Mount points at or under `dir` (a chroot's proc, dev, sys…), deepest first, so each can be unmounted in turn. */
export function mountsUnder(dir: string): string[] {
  if (!existsSync('/proc/mounts')) return [];
  const root = realpathSync(dir);
  const points = readFileSync('/proc/mounts', 'utf8').split('\n').filter(Boolean)
    .map((line) => unescapeMountPath(line.split(' ')[1] ?? ''))
    .filter((point) => point === root || point.startsWith(`${root}${path.sep}`));
  return [...new Set(points)].sort((a, b) => b.length - a.length || b.localeCompare(a));
}

/**
 * Removes a scratch tree that a chroot may still have mounts in (debootstrap mounts proc and sys in
 * its target, and leaves them when it fails or is killed): everything under it is unmounted first,
 * deepest first, lazily when a process still holds a mount (`umount -l` detaches it now and frees it
 * when the last user exits), and only then are the files removed. Deleting through a mounted proc
 * fails with EPERM and a mount point with EBUSY, and a blind rm of a bind mount would delete the
 * files of the mounted tree. Throws, naming what is left, when the tree cannot be removed.
 */
export async function removeScratchTree(dir: string): Promise<void> {
  if (!existsSync(dir)) return;
  await unmountAllUnder(dir);
  rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
}

/** Unmounts everything at or under `dir`, as removeScratchTree does first; throws naming what stays mounted. */
export async function unmountAllUnder(dir: string): Promise<void> {
  const problems: string[] = [];
  // Mounts can be stacked on one point: each pass takes off the top ones.
  for (let pass = 0; pass < 8 && mountsUnder(dir).length > 0; pass++) {
    for (const point of mountsUnder(dir)) {
      const plain = await runCommand('umount', [point], { timeoutMs: 120_000 });
      if (plain.code === 0) continue;
      const lazy = await runCommand('umount', ['-l', point], { timeoutMs: 120_000 });
      if (lazy.code !== 0) problems.push(`umount ${point}: ${plain.stderr.trim()}; umount -l: ${lazy.stderr.trim()}`);
    }
  }
  const left = mountsUnder(dir);
  if (left.length > 0) throw new Error(`cannot unmount what is mounted under ${dir}: ${left.join(', ')}${problems.length ? ` (${problems.join('; ')})` : ''}`);
}
