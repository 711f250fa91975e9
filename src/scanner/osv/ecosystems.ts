import type { DetectedPackage } from '../detectors/types.js';
import type { OsRelease } from '../detectors/os-release.js';
import { normalizePythonName } from '../detectors/python.js';
import type { VersionScheme } from '../versions/index.js';

/**
 * Which version scheme an OSV ecosystem uses. OS ecosystems carry a release after a colon
 * ("Debian:12", "Alpine:v3.19", "Rocky Linux:9"); the scheme depends only on the part before it.
 */
export function ecosystemScheme(ecosystem: string): VersionScheme | undefined {
  const base = ecosystem.split(':')[0]!;
  switch (base) {
    case 'Debian':
    case 'Ubuntu':
      return 'dpkg';
    case 'Alpine':
      return 'apk';
    case 'Red Hat':
    case 'Rocky Linux':
    case 'AlmaLinux':
    case 'openSUSE':
    case 'SUSE':
      return 'rpm';
    case 'npm':
      return 'npm';
    case 'PyPI':
      return 'pep440';
    case 'Go':
      return 'go';
    default:
      return undefined;
  }
}

/**
 * The OSV ecosystem for an image's OS packages: Debian bookworm -> "Debian:12",
 * Alpine 3.19.1 -> "Alpine:v3.19", Rocky 9.3 -> "Rocky Linux:9", AlmaLinux 9.3 -> "AlmaLinux:9".
 * Undefined for an OS the advisory data does not cover, which the report shows as Unsupported OS.
 */
export function osEcosystem(os: OsRelease): string | undefined {
  const v = os.versionId ?? '';
  const major = /^[0-9]+/.exec(v)?.[0];
  switch (os.id) {
    case 'debian': {
      // Debian testing/sid images have no VERSION_ID; advisories for them use no release number.
      return major ? `Debian:${major}` : undefined;
    }
    case 'alpine': {
      const mm = /^([0-9]+)\.([0-9]+)/.exec(v);
      return mm ? `Alpine:v${mm[1]}.${mm[2]}` : undefined;
    }
    case 'ubuntu':
      return v ? `Ubuntu:${v}` : undefined;
    case 'rocky':
      return major ? `Rocky Linux:${major}` : undefined;
    case 'almalinux':
      return major ? `AlmaLinux:${major}` : undefined;
    default:
      return undefined;
  }
}

/** What to look up in the advisory data for one detected package. */
export interface PackageQuery {
  ecosystem: string;
  name: string;
  version: string;
}

/**
 * Debian and Alpine advisories name source packages (openssl, not libssl3; glibc, not libc6), at
 * the source version; language ecosystems name the package itself. Go binaries are matched as
 * "stdlib" at the toolchain version by the caller, from GoBuildInfo.goVersion.
 */
export function packageQuery(pkg: DetectedPackage, os?: OsRelease): PackageQuery | undefined {
  switch (pkg.type) {
    case 'deb':
    case 'apk':
    case 'rpm': {
      const ecosystem = os ? osEcosystem(os) : undefined;
      if (!ecosystem) return undefined;
      return { ecosystem, name: pkg.sourceName ?? pkg.name, version: pkg.sourceVersion ?? pkg.version };
    }
    case 'npm':
      return { ecosystem: 'npm', name: pkg.name, version: pkg.version };
    case 'pypi':
      return { ecosystem: 'PyPI', name: normalizePythonName(pkg.name), version: pkg.version };
    case 'go':
      return { ecosystem: 'Go', name: pkg.name, version: pkg.version };
  }
}

/** Whether an advisory's package names the queried one, with the ecosystem's own name rules. */
export function samePackage(ecosystem: string, advisoryName: string, queryName: string): boolean {
  if (ecosystem === 'PyPI') return normalizePythonName(advisoryName) === normalizePythonName(queryName);
  return advisoryName === queryName;
}
