import type { DetectedPackage } from './detectors/types.js';

/**
 * Directories only Debian's package manager writes language packages to (pip installs under
 * /usr/local, npm under node_modules of the application). A Python or Node package found there
 * is a Debian package: its fixes are backported under the Debian version, so the OS advisories
 * judge it, and matching it again against PyPI or npm advisories would report fixed code as
 * vulnerable (Trivy and Grype skip these too).
 */
const DPKG_LANGUAGE_DIRS = ['/usr/lib/python3/dist-packages/', '/usr/share/nodejs/', '/usr/lib/nodejs/'];

export function isOsManagedLanguagePackage(pkg: DetectedPackage, location: string, hasDpkgDatabase: boolean): boolean {
  if (!hasDpkgDatabase || (pkg.type !== 'pypi' && pkg.type !== 'npm')) return false;
  return DPKG_LANGUAGE_DIRS.some((dir) => location.startsWith(dir));
}
