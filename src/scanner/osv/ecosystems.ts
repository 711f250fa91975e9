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
    case 'Maven':
      return 'maven';
    case 'RubyGems':
      return 'rubygems';
    default:
      return undefined;
  }
}

/**
 * The OSV ecosystem for an image's OS packages: Debian bookworm -> "Debian:12",
 * Alpine 3.19.1 -> "Alpine:v3.19", Ubuntu 22.04 LTS -> "Ubuntu:22.04:LTS", RHEL and UBI 9.3 ->
 * "Red Hat:enterprise_linux:9" (whose records name a repository after it, see ecosystemCovers),
 * Rocky 9.3 -> "Rocky Linux:9", AlmaLinux 9.3 -> "AlmaLinux:9".
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
    case 'ubuntu': {
      // Ubuntu's records name LTS releases "Ubuntu:22.04:LTS" and interim ones "Ubuntu:23.10";
      // os-release says which in VERSION ("22.04.3 LTS (Jammy Jellyfish)").
      const mm = /^[0-9]+\.[0-9]+/.exec(v)?.[0];
      if (!mm) return undefined;
      return /\bLTS\b/.test(os.fields.VERSION ?? os.prettyName ?? '') ? `Ubuntu:${mm}:LTS` : `Ubuntu:${mm}`;
    }
    case 'rhel':
      return major ? `Red Hat:enterprise_linux:${major}` : undefined;
    case 'rocky':
      return major ? `Rocky Linux:${major}` : undefined;
    case 'almalinux':
      return major ? `AlmaLinux:${major}` : undefined;
    default:
      return undefined;
  }
}

/**
 * Whether an advisory's ecosystem is the image's. Red Hat records name the repository too
 * ("Red Hat:enterprise_linux:9::baseos", "…::appstream"); an image has packages from any of them.
 */
export function ecosystemCovers(queried: string, advisory: string): boolean {
  return advisory === queried || (queried.startsWith('Red Hat:') && advisory.startsWith(`${queried}::`));
}

/** What to look up in the advisory data for one detected package. */
export interface PackageQuery {
  ecosystem: string;
  name: string;
  version: string;
}

/**
 * What to look up for one detected package. Debian, Ubuntu and Alpine advisories name source
 * packages (openssl, not libssl3; glibc, not libc6) at the source version; RPM distributions'
 * records name binary packages in some databases and source packages in others, so both are
 * asked for; language ecosystems name the package itself. Go binaries are matched as "stdlib"
 * at the toolchain version, from GoBuildInfo.goVersion.
 */
export function packageQueries(pkg: DetectedPackage, os?: OsRelease): PackageQuery[] {
  switch (pkg.type) {
    case 'deb':
    case 'apk': {
      const ecosystem = os ? osEcosystem(os) : undefined;
      return ecosystem ? [{ ecosystem, name: pkg.sourceName ?? pkg.name, version: pkg.sourceVersion ?? pkg.version }] : [];
    }
    case 'rpm': {
      const ecosystem = os ? osEcosystem(os) : undefined;
      if (!ecosystem) return [];
      const names = [...new Set([pkg.name, pkg.sourceName ?? pkg.name])];
      return names.map((name) => ({ ecosystem, name, version: pkg.version }));
    }
    case 'npm':
      return [{ ecosystem: 'npm', name: pkg.name, version: pkg.version }];
    case 'pypi':
      return [{ ecosystem: 'PyPI', name: normalizePythonName(pkg.name), version: pkg.version }];
    case 'go':
      return [{ ecosystem: 'Go', name: pkg.name, version: pkg.version }];
    case 'maven':
      return [{ ecosystem: 'Maven', name: pkg.name, version: pkg.version }];
    case 'gem':
      return [{ ecosystem: 'RubyGems', name: pkg.name, version: pkg.version }];
  }
}

/** The first query for a package (the one a report names); see packageQueries. */
export function packageQuery(pkg: DetectedPackage, os?: OsRelease): PackageQuery | undefined {
  return packageQueries(pkg, os)[0];
}

/** Whether an advisory's package names the queried one, with the ecosystem's own name rules. */
export function samePackage(ecosystem: string, advisoryName: string, queryName: string): boolean {
  if (ecosystem === 'PyPI') return normalizePythonName(advisoryName) === normalizePythonName(queryName);
  return advisoryName === queryName;
}
