/** What every detector reports: one installed package as its package manager names it. */
export interface DetectedPackage {
  /** Which package manager installed it; decides the advisory ecosystem and version scheme. */
  type: 'deb' | 'apk' | 'rpm' | 'npm' | 'pypi' | 'go' | 'maven' | 'gem';
  name: string;
  version: string;
  /** The source package advisories name (Debian `Source:`, Alpine `o:`, RPM SOURCERPM name). Maven: groupId:artifactId is `name`. */
  sourceName?: string;
  /** The source package's version when it differs from the binary's (binNMUs). */
  sourceVersion?: string;
  arch?: string;
}
