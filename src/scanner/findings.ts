import type { OsRelease } from './detectors/os-release.js';
import type { DetectedPackage } from './detectors/types.js';
import { groupBySharedIds, idsOf } from './osv/aliases.js';
import { ecosystemScheme, packageQueries, type PackageQuery } from './osv/ecosystems.js';
import { matchAdvisory } from './osv/match.js';
import type { OsvAffected, OsvRecord, SeverityLevel } from './osv/schema.js';
import { compareSeverity, ownSeverity, severityOf, type Severity, type SeveritySource } from './osv/severity.js';
import { comparators } from './versions/index.js';

/** Advisories that name a package in an ecosystem (from the vulnerability database). */
export type AdvisoryLookup = (ecosystem: string, name: string) => Promise<OsvRecord[]>;

/** Loaded records that go by any of these IDs (their own, an alias or an upstream ID). */
export type AliasLookup = (ids: string[]) => Promise<OsvRecord[]>;

/** A package, optionally with where it was found (analyze.ts adds `location`). */
export type FindingPackage = DetectedPackage & { location?: string };

/**
 * One vulnerability of one installed package. Advisories that alias each other (a GHSA and a
 * PYSEC record, a DSA and its DEBIAN-CVE records) are one finding listing every ID.
 */
export interface Finding {
  /** The advisory the finding is shown under (the first of `ids`). */
  advisoryId: string;
  /** Every advisory record merged into this finding. */
  ids: string[];
  /** Other IDs those advisories go by (CVE, GHSA, …), as published. */
  aliases: string[];
  /** CVE ids among all of the above. */
  cves: string[];
  /** The package the advisory names (a Debian source package, say). */
  package: string;
  /** The installed package (the Debian binary package that is upgraded). */
  installedPackage: string;
  installedVersion: string;
  /** null: no fix yet. With several advisories, the version that fixes all that name one. */
  fixedVersion: string | null;
  ecosystem: string;
  packageType: DetectedPackage['type'];
  severity: SeverityLevel;
  /** Where the severity came from: a CVSS vector, the ecosystem's rating, an alias record, or none. */
  severitySource: SeveritySource;
  cvssScore?: number;
  cvssVector?: string;
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
    case 'maven':
      return `depend on ${pkg.name}:${fixed} or later in the build (pom.xml, build.gradle) and rebuild the image`;
    case 'gem':
      return `bundle update ${pkg.name} (Gemfile: gem '${pkg.name}', '>= ${fixed}')`;
  }
}

/** One advisory that affects one installed package, before aliases are merged. */
interface Match {
  rec: OsvRecord;
  affected: OsvAffected;
  fixed: string | null;
  query: PackageQuery;
}

/**
 * Matches installed packages against the advisory data: one finding per vulnerability and
 * installed package, never one for a package at or above the fixed version. Each (ecosystem,
 * name) is looked up once; records of other databases about the same vulnerability are asked
 * for (aliasLookup) only when an advisory carries no severity of its own.
 */
export async function findVulnerabilities(packages: readonly FindingPackage[], os: OsRelease | undefined, lookup: AdvisoryLookup, aliasLookup: AliasLookup = async () => []): Promise<FindingsResult> {
  const cache = new Map<string, Promise<OsvRecord[]>>();
  const advisories = (q: PackageQuery): Promise<OsvRecord[]> => {
    const key = `${q.ecosystem}\u0000${q.name}`;
    let p = cache.get(key);
    if (!p) cache.set(key, (p = lookup(q.ecosystem, q.name)));
    return p;
  };
  const aliasCache = new Map<string, Promise<OsvRecord[]>>();
  const severity = async (m: Match): Promise<Severity> => {
    const own = ownSeverity(m.rec, m.affected);
    if (own.level !== 'UNKNOWN') return own;
    let p = aliasCache.get(m.rec.id);
    if (!p) aliasCache.set(m.rec.id, (p = aliasLookup(idsOf(m.rec))));
    return severityOf(m.rec, m.affected, await p);
  };
  const byPackage = new Map<string, { pkg: FindingPackage; locations: string[]; matches: Map<string, Match> }>();
  const undetermined = new Map<string, UndeterminedMatch>();
  for (const pkg of packages) {
    const pkgKey = `${pkg.type}\u0000${pkg.name}\u0000${pkg.version}`;
    for (const q of packageQueries(pkg, os)) {
      const scheme = ecosystemScheme(q.ecosystem);
      for (const rec of await advisories(q)) {
        const m = matchAdvisory(rec, q);
        if (m.status === 'not-affected') continue;
        if (m.status === 'undetermined') {
          undetermined.set(`${rec.id}\u0000${pkgKey}`, { advisoryId: rec.id, package: q.name, installedVersion: q.version, ecosystem: q.ecosystem, reason: m.reason });
          continue;
        }
        const fixed = m.fixed ?? null;
        // matchAdvisory only offers a fix above the installed version; checked again because
        // reporting a package that is already fixed is the one error a report must not make.
        if (fixed !== null && scheme && comparators[scheme](q.version, fixed) >= 0) continue;
        let entry = byPackage.get(pkgKey);
        if (!entry) byPackage.set(pkgKey, (entry = { pkg, locations: [], matches: new Map() }));
        if (!entry.matches.has(rec.id)) entry.matches.set(rec.id, { rec, affected: m.affected, fixed, query: q });
      }
    }
    // The same package found in another file (one npm package in several node_modules).
    const entry = byPackage.get(pkgKey);
    if (entry && pkg.location && !entry.locations.includes(pkg.location)) entry.locations.push(pkg.location);
  }
  const findings: Finding[] = [];
  for (const { pkg, locations, matches } of byPackage.values()) {
    for (const group of groupBySharedIds([...matches.values()], (m) => idsOf(m.rec))) {
      findings.push(await mergeGroup(pkg, locations, group, severity));
    }
  }
  findings.sort((a, b) => a.installedPackage.localeCompare(b.installedPackage) || a.installedVersion.localeCompare(b.installedVersion) || a.advisoryId.localeCompare(b.advisoryId));
  return { findings, undetermined: [...undetermined.values()] };
}

/** One finding from the advisories of one vulnerability that affect one installed package. */
async function mergeGroup(pkg: FindingPackage, locations: string[], group: Match[], severity: (m: Match) => Promise<Severity>): Promise<Finding> {
  const sorted = [...group].sort((a, b) => a.rec.id.localeCompare(b.rec.id));
  const first = sorted[0]!;
  const scheme = ecosystemScheme(first.query.ecosystem);
  let fixed: string | null = null;
  for (const m of sorted) {
    if (m.fixed !== null && (fixed === null || (scheme ? comparators[scheme](m.fixed, fixed) > 0 : false))) fixed = m.fixed;
  }
  let best: Severity | undefined;
  for (const m of sorted) {
    const s = await severity(m);
    if (!best || compareSeverity(s.level, best.level) > 0) best = s;
  }
  const ids = sorted.map((m) => m.rec.id);
  const allIds = new Set(sorted.flatMap((m) => idsOf(m.rec)));
  const summary = sorted.map((m) => m.rec.summary ?? m.rec.details?.split('\n')[0]?.slice(0, 200) ?? '').find((t) => t !== '') ?? '';
  return {
    advisoryId: first.rec.id,
    ids,
    aliases: [...allIds].filter((id) => !ids.includes(id)).sort(),
    cves: [...allIds].filter((id) => /^CVE-\d{4}-\d+$/.test(id)).sort(),
    package: first.query.name,
    installedPackage: pkg.name,
    installedVersion: pkg.version,
    fixedVersion: fixed,
    ecosystem: first.query.ecosystem,
    packageType: pkg.type,
    severity: best!.level,
    severitySource: best!.source,
    ...(best!.score !== undefined ? { cvssScore: best!.score } : {}),
    ...(best!.vector !== undefined ? { cvssVector: best!.vector } : {}),
    summary,
    fix: fixCommand(pkg, fixed),
    locations,
  };
}
