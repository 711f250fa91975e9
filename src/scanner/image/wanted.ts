import { isInstalledGemspec } from '../detectors/gem.js';
import { isNodeModulesManifest } from '../detectors/npm.js';

/**
 * Which files of an image the detectors and configuration checks read. Everything else streams
 * past unbuffered. A file is kept whole (up to the per-file cap) when its path says it is one of
 * these; executables are recognised by their first bytes instead (see GoBuildInfoScanner).
 */

export type KeptRole =
  | 'os-release'
  | 'dpkg-status'
  | 'dpkg-status-d'
  | 'apk-installed'
  | 'rpmdb-sqlite'
  | 'npm-manifest'
  | 'python-metadata'
  | 'maven-pom-properties'
  | 'java-archive'
  | 'gemspec'
  | 'login-defs'
  | 'passwd';

/** Package databases: without the whole file the package list would be wrong, so over the cap is an error. */
export const databaseRoles: ReadonlySet<KeptRole> = new Set(['dpkg-status', 'dpkg-status-d', 'apk-installed', 'rpmdb-sqlite']);

const exact: Record<string, KeptRole> = {
  '/etc/os-release': 'os-release',
  '/usr/lib/os-release': 'os-release',
  '/var/lib/dpkg/status': 'dpkg-status',
  '/lib/apk/db/installed': 'apk-installed',
  '/usr/lib/apk/db/installed': 'apk-installed',
  // rpm ≥ 4.16's SQLite database (RHEL 9, UBI 9, Fedora); Fedora ≥ 36 moved it to /usr/lib/sysimage.
  '/var/lib/rpm/rpmdb.sqlite': 'rpmdb-sqlite',
  '/usr/lib/sysimage/rpm/rpmdb.sqlite': 'rpmdb-sqlite',
  '/etc/login.defs': 'login-defs',
  '/etc/passwd': 'passwd',
};

export function keptRole(path: string): KeptRole | undefined {
  const r = exact[path];
  if (r) return r;
  if (path.startsWith('/var/lib/dpkg/status.d/')) {
    const name = path.slice('/var/lib/dpkg/status.d/'.length);
    // distroless writes "<pkg>" (a status paragraph) and "<pkg>.md5sums" (file hashes) here
    return name.includes('/') || name.endsWith('.md5sums') ? undefined : 'dpkg-status-d';
  }
  if (path.endsWith('/package.json') && isNodeModulesManifest(path)) return 'npm-manifest';
  if (path.endsWith('.dist-info/METADATA') || path.endsWith('.egg-info/PKG-INFO') || path.endsWith('.egg-info')) return 'python-metadata';
  // An exploded Java archive, or the archive itself (its pom.properties are read from inside).
  if (/\/META-INF\/maven\/[^/]+\/[^/]+\/pom\.properties$/.test(path)) return 'maven-pom-properties';
  if (/\.(jar|war|ear)$/i.test(path)) return 'java-archive';
  if (path.endsWith('.gemspec') && isInstalledGemspec(path)) return 'gemspec';
  return undefined;
}

/** Directories whose world-writable entries the configuration checks report. */
export const systemDirs = ['/bin', '/sbin', '/usr', '/lib', '/lib64', '/etc', '/boot', '/opt'];

export function inSystemPath(path: string): boolean {
  return systemDirs.some((d) => path === d || path.startsWith(`${d}/`));
}

/** Files whose mere presence a configuration check looks at. */
export const markerPaths: ReadonlySet<string> = new Set(['/usr/sbin/sshd', '/usr/sbin/dropbear', '/usr/bin/dropbear']);

/**
 * A regular file writable by everyone, or a directory writable by everyone without the sticky
 * bit (with it, as on /tmp, users cannot delete each other's files).
 */
export function isWorldWritable(kind: 'file' | 'directory' | string, mode: number): boolean {
  if (!(mode & 0o002)) return false;
  if (kind === 'file') return true;
  return kind === 'directory' && !(mode & 0o1000);
}

export const ELF_MAGIC = Buffer.from([0x7f, 0x45, 0x4c, 0x46]);
