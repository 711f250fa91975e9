/** One comparator per package manager, chosen by the advisory's ecosystem (see osv/ecosystems.ts). */
import { compareApk } from './apk.js';
import { compareDpkg } from './dpkg.js';
import { comparePep440 } from './pep440.js';
import { compareRpm } from './rpm.js';
import { compareGo, compareNpm, toGoModuleVersion } from './semver.js';
import { compareMaven } from './maven.js';
import { compareRubyGems } from './rubygems.js';

export type VersionScheme = 'dpkg' | 'apk' | 'rpm' | 'npm' | 'go' | 'pep440' | 'maven' | 'rubygems';

export type Comparator = (a: string, b: string) => number;

export const comparators: Record<VersionScheme, Comparator> = {
  dpkg: compareDpkg,
  apk: compareApk,
  rpm: compareRpm,
  npm: compareNpm,
  // OSV Go records and Go build info spell versions differently (1.18.6, v1.18.6, go1.18.6).
  go: (a, b) => compareGo(toGoModuleVersion(a), toGoModuleVersion(b)),
  pep440: comparePep440,
  maven: compareMaven,
  rubygems: compareRubyGems,
};
