import type { OsRelease } from './detectors/os-release.js';
import type { DetectedPackage } from './detectors/types.js';
import { packageQuery, type PackageQuery } from './osv/ecosystems.js';
import { matchAdvisory } from './osv/match.js';
import { severityLevel, type OsvRecord, type SeverityLevel } from './osv/schema.js';
import { comparators } from './versions/index.js';
import { ecosystemScheme } from './osv/ecosystems.js';

/** Advisories that name a package in an ecosystem (from the vulnerability database). */
export type AdvisoryLookup = (ecosystem: string, name: string) => Promise<OsvRecord[]>;

/** A package, optionally with where it was found (analyze.ts adds `location`). */
export type FindingPackage = DetectedPackage & { location?: string };

/** One advisory that affects one installed package. */
export interface Finding {
  advisoryId: string;
  /** The advisory's aliases as published (CVE, GHSA, …). */
  aliases: string[];
  /** CVE ids among the advisory's id, aliases and upstream ids. */
  cves: string[];
  /** The package the advisory names (a Debian source package, say). */
  package: string;
  /** The installed package (the Debian binary package that is upgraded). */
  installedPackage: string;
  installedVersion: string;
  /** null: no fix yet. */
  fixedVersion: string | null;
  ecosystem: string;
  packageType: DetectedPackage['type'];
  severity: SeverityLevel;
  summary: string;
  /** What to do, in the user's words. */
  fix: string;
  /** Files the package was found in (one npm package can be installed in several node_modules). */
  locations: string[];
}

/** An advisory whose ranges could not be compared with the installed version; reported, not guessed. */
export interface UndeterminedMatch {
  advisoryId: string;
  package: string;
  installedVersion: string;
  ecosystem: string;
  reason: string;
}

export interface FindingsResult {
  findings: Finding[];
  undetermined: UndeterminedMatch[];
}

function goModuleVersion(v: string): string {
  return v.startsWith('v') ? v : `v${v}`;
}

/** The fix in the words of the package manager that installed the package. */
export function fixCommand(pkg: FindingPackage, fixed: string | null): string {
  if (fixed === null) return 'no fix available yet';
  switch (pkg.type) {
    case 'deb':
      return `apt-get install --only-upgrade ${pkg.name}`;
    case 'apk':
      return `apk add --upgrade ${pkg.name}`;
    case 'rpm':
      return `dnf upgrade ${pkg.name}`;
    case 'npm':
      return `npm install ${pkg.name}@${fixed}`;
    case 'pypi':
      return `pip install '${pkg.name}>=${fixed}'`;
    case 'go':
      if (pkg.name === 'stdlib') return `rebuild ${pkg.location ?? 'the binary'} with Go ${fixed.replace(/^v|^go/, '')} or later`;
      return `go get ${pkg.name}@${goModuleVersion(fixed)}`;
  }
}

function cvesOf(rec: OsvRecord): string[] {
  return [...new Set([rec.id, ...rec.aliases, ...rec.upstream].filter((id) => /^CVE-\d{4}-\d+$/.test(id)))].sort();
}

/**
 * Matches installed packages against the advisory data: one finding per (advisory, installed
 * package), never one for a package at or above the fixed version. Each (ecosystem, name) is
 * looked up once.
 */
export async function findVulnerabilities(packages: readonly FindingPackage[], os: OsRelease | undefined, lookup: AdvisoryLookup): Promise<FindingsResult> {
  const cache = new Map<string, Promise<OsvRecord[]>>();
  const advisories = (q: PackageQuery): Promise<OsvRecord[]> => {
    const key = `${q.ecosystem}\u0000${q.name}`;
    let p = cache.get(key);
    if (!p) cache.set(key, (p = lookup(q.ecosystem, q.name)));
    return p;
  };
  const byKey = new Map<string, Finding>();
  const undetermined = new Map<string, UndeterminedMatch>();
  for (const pkg of packages) {
    const q = packageQuery(pkg, os);
    if (!q) continue;
    const scheme = ecosystemScheme(q.ecosystem);
    for (const rec of await advisories(q)) {
      const m = matchAdvisory(rec, q);
      if (m.status === 'not-affected') continue;
      if (m.status === 'undetermined') {
        undetermined.set(`${rec.id}\u0000${pkg.type}\u0000${pkg.name}\u0000${pkg.version}`, {
          advisoryId: rec.id,
          package: q.name,
          installedVersion: q.version,
          ecosystem: q.ecosystem,
          reason: m.reason,
        });
        continue;
      }
      const fixed = m.fixed ?? null;
      // matchAdvisory only offers a fix above the installed version; checked again because
      // reporting a package that is already fixed is the one error a report must not make.
      if (fixed !== null && scheme && comparators[scheme](q.version, fixed) >= 0) continue;
      const key = `${rec.id}\u0000${pkg.type}\u0000${pkg.name}\u0000${pkg.version}`;
      const seen = byKey.get(key);
      if (seen) {
        if (pkg.location && !seen.locations.includes(pkg.location)) seen.locations.push(pkg.location);
        continue;
      }
      byKey.set(key, {
        advisoryId: rec.id,
        aliases: [...rec.aliases],
        cves: cvesOf(rec),
        package: q.name,
        installedPackage: pkg.name,
        installedVersion: pkg.version,
        fixedVersion: fixed,
        ecosystem: q.ecosystem,
        packageType: pkg.type,
        severity: severityLevel(rec, m.affected),
        summary: rec.summary ?? rec.details?.split('\n')[0]?.slice(0, 200) ?? '',
        fix: fixCommand(pkg, fixed),
        locations: pkg.location ? [pkg.location] : [],
      });
    }
  }
  const findings = [...byKey.values()].sort(
    (a, b) => a.installedPackage.localeCompare(b.installedPackage) || a.installedVersion.localeCompare(b.installedVersion) || a.advisoryId.localeCompare(b.advisoryId),
  );
  return { findings, undetermined: [...undetermined.values()] };
}
